//! `Mp4Video` for builds without the `mp4` feature: every `.mp4` clip is refused
//! at `open`, naming the clip and the feature that would read it.

use crate::dataset::error::DatasetError;
use crate::sample::Frame;
use crate::time::Timestamp;
use std::path::Path;

/// An opened `.mp4` clip; this build cannot open any, so the type has no values.
#[derive(Debug, Clone)]
pub enum Mp4Video {}

impl Mp4Video {
    /// Always refuses: this build has no H.264 decoder.
    pub fn open(path: &Path, clip: &str) -> Result<Mp4Video, DatasetError> {
        Err(DatasetError::Mp4Disabled {
            path: path.to_path_buf(),
            clip: clip.to_string(),
        })
    }

    pub fn path(&self) -> &Path {
        match *self {}
    }

    pub fn len(&self) -> usize {
        match *self {}
    }

    pub fn is_empty(&self) -> bool {
        match *self {}
    }

    pub fn stream(&self) -> Result<Mp4Stream, DatasetError> {
        match *self {}
    }

    pub fn decode_frames(
        &self,
        _wanted: &[(usize, Timestamp)],
    ) -> Result<Vec<Frame>, DatasetError> {
        match *self {}
    }
}

/// A sequential decoder; without the feature there is no clip to decode, so no values.
pub enum Mp4Stream {}

impl Mp4Stream {
    pub fn produced(&self) -> usize {
        match *self {}
    }

    pub fn next_output(
        &mut self,
        _stamp: &dyn Fn(usize) -> Option<Timestamp>,
    ) -> Result<Option<Option<Frame>>, DatasetError> {
        match *self {}
    }

    pub fn missing_frame(&self, _index: usize) -> DatasetError {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_clip_and_the_feature() {
        let err =
            Mp4Video::open(Path::new("/d/video/1_upstairs/c.mp4"), "1_upstairs/c").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/d/video/1_upstairs/c.mp4: clip 1_upstairs/c is an .mp4 but mmcl was built without the `mp4` feature"
        );
    }
}
