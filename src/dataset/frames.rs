//! A clip's frame folder: `img_%06d.jpg` (as mmcl's generator and the dataset's
//! loader name them) or `%06d.jpg` (as the public TSN-style extractor writes
//! them), 1-based. A folder uses one naming throughout; the frames must run
//! 1..=n without gaps, so index `i` (0-based) is always file `i + 1`.
//! Files matching neither naming (thumbnails, `.DS_Store`) are ignored.
//! Frames are decoded and checked by `decode`, one file at a time.

use super::decode::{check_frame_file, decode_frame};
use super::error::{DatasetError, FrameProblem, FramesProblem};
use crate::encode::preprocess::Size;
use crate::sample::Frame;
use crate::time::Timestamp;
use std::path::{Path, PathBuf};

/// How many bad frames of one folder `check_frames` describes before it only counts them.
pub const REPORTED_FRAMES: usize = 10;

/// Which file naming a frame folder uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameNaming {
    /// `img_000001.jpg`
    Prefixed,
    /// `000001.jpg`
    Bare,
}

impl FrameNaming {
    /// The file name of 1-based frame `number`.
    pub fn file_name(self, number: usize) -> String {
        match self {
            FrameNaming::Prefixed => format!("img_{number:06}.jpg"),
            FrameNaming::Bare => format!("{number:06}.jpg"),
        }
    }

    /// The naming and 1-based number of a frame file name, if it is one.
    /// Only the canonical `%06d` spelling counts, so `img_1.jpg` is not frame 1.
    pub fn parse(name: &str) -> Option<(FrameNaming, usize)> {
        let stem = name.strip_suffix(".jpg")?;
        let (naming, digits) = match stem.strip_prefix("img_") {
            Some(digits) => (FrameNaming::Prefixed, digits),
            None => (FrameNaming::Bare, stem),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number: usize = digits.parse().ok()?;
        (number >= 1 && format!("{number:06}") == digits).then_some((naming, number))
    }
}

/// A checked frame folder: one naming, frames 1..=len all present.
#[derive(Debug, Clone)]
pub struct FrameFolder {
    dir: PathBuf,
    naming: FrameNaming,
    len: usize,
}

impl FrameFolder {
    /// Lists `dir`, detects its naming and checks the frames are contiguous.
    pub fn open(dir: &Path) -> Result<FrameFolder, DatasetError> {
        let problem = |problem| DatasetError::Frames {
            path: dir.to_path_buf(),
            problem,
        };
        let (prefixed, bare) = list_numbers(dir)?;
        let (naming, mut numbers) = match (prefixed.is_empty(), bare.is_empty()) {
            (true, true) => return Err(problem(FramesProblem::Empty)),
            (false, true) => (FrameNaming::Prefixed, prefixed),
            (true, false) => (FrameNaming::Bare, bare),
            (false, false) => {
                let mixed = FramesProblem::MixedNaming {
                    prefixed: prefixed.len(),
                    bare: bare.len(),
                };
                return Err(problem(mixed));
            }
        };
        numbers.sort_unstable();
        let last = numbers.last().copied().unwrap_or(0);
        // Sorted, distinct (one file per name) and starting at 1: contiguous iff number == position.
        if let Some(missing) = (1..=last)
            .zip(&numbers)
            .find(|(want, got)| want != *got)
            .map(|(w, _)| w)
        {
            return Err(problem(FramesProblem::Gap {
                missing: naming.file_name(missing),
                last,
            }));
        }
        Ok(FrameFolder {
            dir: dir.to_path_buf(),
            naming,
            len: last,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn naming(&self) -> FrameNaming {
        self.naming
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file of 0-based frame `index`, or an error if out of range.
    pub fn path(&self, index: usize) -> Result<PathBuf, DatasetError> {
        if index >= self.len {
            return Err(DatasetError::FrameIndex {
                path: self.dir.clone(),
                index,
                len: self.len,
            });
        }
        Ok(self.dir.join(self.naming.file_name(index + 1)))
    }

    /// Decodes 0-based frame `index` to RGB8, stamped `t`, at the file's size.
    pub fn decode(&self, index: usize, t: Timestamp) -> Result<Frame, DatasetError> {
        decode_frame(&self.path(index)?, t, None)
    }

    /// Decodes 0-based frame `index`, stamped `t`, resized to `to` as soon as it is
    /// decoded (the encoder's input size: nothing larger is kept).
    pub fn decode_at(&self, index: usize, t: Timestamp, to: Size) -> Result<Frame, DatasetError> {
        decode_frame(&self.path(index)?, t, Some(to))
    }

    /// Checks every frame as decoding would (`decode::check_frame_file`, no pixels
    /// decoded) and that all share frame 1's size. Returns the first
    /// `REPORTED_FRAMES` bad frames and a count of the rest: empty when all are good.
    /// This is `dataset check`'s fast path.
    pub fn check_frames(&self) -> Vec<DatasetError> {
        let mut errors = Vec::new();
        let mut bad = 0usize;
        let mut first = None;
        for index in 0..self.len {
            let path = self.dir.join(self.naming.file_name(index + 1));
            let checked = check_frame_file(&path).and_then(|(w, h)| {
                let (first_w, first_h) = *first.get_or_insert((w, h));
                same_size(&path, (w, h), (first_w, first_h))
            });
            if let Err(e) = checked {
                bad += 1;
                if bad <= REPORTED_FRAMES {
                    errors.push(e);
                }
            }
        }
        if bad > REPORTED_FRAMES {
            errors.push(DatasetError::More {
                path: self.dir.clone(),
                count: bad - REPORTED_FRAMES,
                what: "bad frames",
            });
        }
        errors
    }
}

fn same_size(
    path: &Path,
    (got_w, got_h): (u32, u32),
    (first_w, first_h): (u32, u32),
) -> Result<(), DatasetError> {
    if (got_w, got_h) == (first_w, first_h) {
        return Ok(());
    }
    Err(DatasetError::Frame {
        path: path.to_path_buf(),
        problem: FrameProblem::SizeChange {
            got_w,
            got_h,
            first_w,
            first_h,
        },
    })
}

/// The frame numbers in `dir`, split by naming.
fn list_numbers(dir: &Path) -> Result<(Vec<usize>, Vec<usize>), DatasetError> {
    let read = std::fs::read_dir(dir).map_err(|e| DatasetError::io(dir, "list frame folder", e))?;
    let (mut prefixed, mut bare) = (Vec::new(), Vec::new());
    for item in read {
        let item = item.map_err(|e| DatasetError::io(dir, "list frame folder", e))?;
        let name = item.file_name();
        match name.to_str().and_then(FrameNaming::parse) {
            Some((FrameNaming::Prefixed, n)) => prefixed.push(n),
            Some((FrameNaming::Bare, n)) => bare.push(n),
            None => {}
        }
    }
    Ok((prefixed, bare))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_namings_canonically() {
        assert_eq!(
            FrameNaming::parse("img_000001.jpg"),
            Some((FrameNaming::Prefixed, 1))
        );
        assert_eq!(
            FrameNaming::parse("000412.jpg"),
            Some((FrameNaming::Bare, 412))
        );
        assert_eq!(
            FrameNaming::parse("1234567.jpg"),
            Some((FrameNaming::Bare, 1_234_567))
        );
        for bad in [
            "img_1.jpg",
            "000000.jpg",
            "img_00001a.jpg",
            "000001.png",
            "img_.jpg",
            ".jpg",
            "+00001.jpg",
        ] {
            assert_eq!(FrameNaming::parse(bad), None, "{bad}");
        }
        assert_eq!(FrameNaming::Bare.file_name(7), "000007.jpg");
    }

    fn folder(names: &[&str]) -> (tempfile::TempDir, Result<FrameFolder, DatasetError>) {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let opened = FrameFolder::open(dir.path());
        (dir, opened)
    }

    #[test]
    fn detects_naming_and_counts() {
        let (_d, f) = folder(&["000002.jpg", "000001.jpg", "000003.jpg", "notes.txt"]);
        let f = f.unwrap();
        assert_eq!((f.naming(), f.len()), (FrameNaming::Bare, 3));
        assert!(f.path(2).unwrap().ends_with("000003.jpg"));
        assert!(matches!(
            f.path(3),
            Err(DatasetError::FrameIndex {
                index: 3,
                len: 3,
                ..
            })
        ));
    }

    #[test]
    fn refuses_gaps_mixtures_and_empty_folders() {
        let (_d, f) = folder(&["img_000001.jpg", "img_000002.jpg", "img_000004.jpg"]);
        let msg = f.unwrap_err().to_string();
        assert!(
            msg.ends_with(
                "frame file img_000003.jpg is missing: frames must run 1..=4 without gaps"
            ),
            "{msg}"
        );
        let (_d, f) = folder(&["img_000002.jpg"]);
        assert!(f
            .unwrap_err()
            .to_string()
            .contains("img_000001.jpg is missing"));
        let (_d, f) = folder(&["img_000001.jpg", "000001.jpg", "000002.jpg"]);
        assert!(f
            .unwrap_err()
            .to_string()
            .contains("(1 files) and `%06d.jpg` (2 files)"));
        let (_d, f) = folder(&[]);
        assert!(matches!(
            f,
            Err(DatasetError::Frames {
                problem: FramesProblem::Empty,
                ..
            })
        ));
    }
}
