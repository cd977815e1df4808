//! The replay profile's source: a dataset split played from a playlist on the daemon's
//! clock (real time, or faster by `speed`), and the ground truth it knows — the class of
//! the clip each window was cut from (`sensor::replay::PlayLog`) — so `status` can show
//! what is playing and the online accuracy, and a user can enroll "the activity now
//! playing" and watch the daemon learn it.
//!
//! Playlist (`[sources.replay]`): `order = "list"` plays the split's list file in order;
//! `"by-class"` groups the clips by class, the classes in `classes` order (else by label),
//! at most `clips_per_class` of each. `classes` filters in both orders; names match the
//! class folders with or without their `<n>_` prefix, ignoring case.

use crate::config::{ReplayOrder, ReplaySource as ReplayConfig};
use crate::dataset::{Clip, Dataset};
use crate::sensor::replay::{PlayLog, Playlist, ReplaySource};
use crate::sensor::Pacing;
use crate::time::{Clock, Timestamp};
use std::sync::Arc;

/// Why the replay source could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("replay dataset {}", path.display())]
    Dataset {
        path: std::path::PathBuf,
        #[source]
        source: Box<crate::dataset::DatasetError>,
    },
    #[error("replay playlist of {} ({split} split) is empty{why}", path.display())]
    Empty {
        path: std::path::PathBuf,
        split: &'static str,
        why: String,
    },
}

/// The class name replay reports for a clip: its class folder without the `<n>_` prefix.
pub fn truth_name(clip: &Clip) -> String {
    display_name(clip.class_name())
}

/// `"3_brush_teeth"` -> `"brush_teeth"`.
pub fn display_name(folder: &str) -> String {
    match folder.split_once('_') {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest.into(),
        _ => folder.into(),
    }
}

/// The clips `config` asks for, in play order.
pub fn playlist_clips(dataset: &Dataset, config: &ReplayConfig) -> Vec<Clip> {
    let wanted = |c: &Clip| {
        config.classes().is_none_or(|names| {
            names.iter().any(|n| {
                n.eq_ignore_ascii_case(c.class_name()) || n.eq_ignore_ascii_case(&truth_name(c))
            })
        })
    };
    let clips: Vec<Clip> = dataset
        .split(config.split())
        .filter(|c| wanted(c))
        .cloned()
        .collect();
    match config.order() {
        ReplayOrder::List => clips,
        ReplayOrder::ByClass => by_class(clips, config),
    }
}

fn by_class(clips: Vec<Clip>, config: &ReplayConfig) -> Vec<Clip> {
    let mut classes: Vec<(usize, u32)> = Vec::new();
    for c in &clips {
        if !classes.iter().any(|&(_, l)| l == c.label()) {
            let rank = config.classes().map_or(c.label() as usize, |names| {
                names
                    .iter()
                    .position(|n| {
                        n.eq_ignore_ascii_case(c.class_name())
                            || n.eq_ignore_ascii_case(&truth_name(c))
                    })
                    .unwrap_or(usize::MAX)
            });
            classes.push((rank, c.label()));
        }
    }
    classes.sort_unstable();
    let per_class = config.clips_per_class().map_or(usize::MAX, |n| n as usize);
    classes
        .iter()
        .flat_map(|&(_, label)| {
            clips
                .iter()
                .filter(move |c| c.label() == label)
                .take(per_class)
                .cloned()
        })
        .collect()
}

/// The replay source of `config`, paced on `clock` from `origin` (where the aligner's
/// windows start), and its play log. Clips start on the window grid, so a clip's windows
/// are the ones `mmcl embed` cuts when the stride is half a window (`enroll --clips`).
pub fn source(
    config: &ReplayConfig,
    (spec_len_ns, stride_ns): (u64, u64),
    clock: Arc<dyn Clock>,
    origin: Timestamp,
) -> Result<(ReplaySource, PlayLog, usize), ReplayError> {
    let path = config.dataset().to_path_buf();
    let dataset = Dataset::open(&path).map_err(|source| ReplayError::Dataset {
        path: path.clone(),
        source: Box::new(source),
    })?;
    let clips = playlist_clips(&dataset, config);
    if clips.is_empty() {
        let why = match config.classes() {
            Some(names) => format!(" (classes {names:?} not found in it)"),
            None => String::new(),
        };
        return Err(ReplayError::Empty {
            path,
            split: config.split().name(),
            why,
        });
    }
    let n = clips.len();
    let playlist = match config.looping() {
        true => Playlist::looping(clips),
        false => Playlist::once(clips),
    };
    let pacing = Pacing::Clock {
        clock,
        speed: config.speed(),
        origin,
    };
    // More than a window of silence between clips: no window mixes two clips.
    let gap = spec_len_ns + spec_len_ns / 4;
    let source = ReplaySource::new(playlist, origin, gap, pacing).on_window_grid(stride_ns);
    let log = source.play_log();
    Ok((source, log, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_drop_the_number_prefix_only() {
        assert_eq!(display_name("3_brush_teeth"), "brush_teeth");
        assert_eq!(display_name("watch_TV"), "watch_TV");
        assert_eq!(display_name("12_"), "");
        assert_eq!(display_name("plain"), "plain");
    }
}
