//! The learner state format: what `Learner::save` writes and `learn::load` reads.
//!
//! Version 4 (written) is version 3's frame and body with config version 4 (which added
//! `shrinkage`; with it on, ncm and joint keep `strategies::whitened`'s fields and icarl its
//! discriminants, `learn::whiten`). Version 3 (read only) is a frame of the envelope (`crate::envelope`), magic `MMCL-LRN`:
//! ```text
//! body: config (config version u32 + its fields: `config`) | dim u64 | the strategy's fields
//! ```
//! Version 2 (read only) is the same frame and body; its config is config version 2 (version 3
//! writes config version 3, which added the modality blocks and the analytic options).
//! Version 1 (read only) predates the envelope; its frame is the same but its checksum covers
//! the body alone:
//! ```text
//! "MMCL-LRN" | version u32 = 1 | body length u64 | body | sha256(body)
//! body: strategy str | dim u64 | config as serde JSON str | the strategy's fields
//! ```
//! The strategies' own fields are the same in every version, so older states re-save as
//! version 4 with the same learned state. `tests/data/learn/` pins every version.

pub mod config;

pub use crate::envelope::{Reader, Writer};

use super::config::LearnerConfig;
use super::{LearnError, MAX_DIM};
use crate::envelope::{self, EnvelopeError, Format};

/// The learner state format.
pub const FORMAT: Format = Format {
    name: "learner state",
    magic: *b"MMCL-LRN",
    legacy: &[1],
};
/// The learner state version this build writes.
pub const FORMAT_VERSION: u32 = 4;
/// The envelope versions read by `open` (version 1 predates the envelope).
const ENVELOPE_VERSIONS: [u32; 3] = [2, 3, 4];

/// What precedes the strategy's own fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub dim: usize,
    /// Validated.
    pub config: LearnerConfig,
}

/// A writer holding the header of a learner state; the strategy appends its fields and
/// `seal` frames the whole.
pub fn start(config: &LearnerConfig, dim: usize) -> Writer {
    let mut w = Writer::default();
    config::write(&mut w, config);
    w.usize(dim);
    w
}

/// Frames a body `start` began.
pub fn seal(w: Writer) -> Vec<u8> {
    envelope::seal(&FORMAT, FORMAT_VERSION, &w.buf)
}

/// Checks the frame and reads the header of a learner state of any version this build
/// knows; the reader is left at the strategy's fields.
pub fn open(bytes: &[u8]) -> Result<(Header, Reader<'_>), LearnError> {
    let (header, r) = match envelope::version(&FORMAT, bytes)? {
        1 => open_v1(bytes)?,
        _ => {
            let opened = envelope::open(&FORMAT, &ENVELOPE_VERSIONS, bytes)?;
            let mut r = Reader::new(FORMAT.name, opened.body);
            let config = config::read(&mut r)?;
            (
                Header {
                    dim: r.usize("dimension")?,
                    config,
                },
                r,
            )
        }
    };
    let bad = |message: String| LearnError::Snapshot {
        strategy: Some(header.config.strategy),
        error: r.error(message),
    };
    header
        .config
        .validate()
        .map_err(|e| bad(format!("config: {e}")))?;
    if header.dim == 0 || header.dim > MAX_DIM {
        return Err(bad(format!(
            "dimension {} outside 1..={MAX_DIM}",
            header.dim
        )));
    }
    Ok((header, r))
}

/// Version 1: the envelope's frame with the checksum over the body only.
fn open_v1(bytes: &[u8]) -> Result<(Header, Reader<'_>), EnvelopeError> {
    let frame = envelope::whole_frame(&FORMAT, bytes)?;
    envelope::verify_checksum(&FORMAT, frame.body, frame.checksum)?;
    let mut r = Reader::new(FORMAT.name, frame.body);
    let strategy = r.str("strategy")?;
    let dim = r.usize("dimension")?;
    let json = r.str("config")?;
    let config = config::from_json_v1(&json).map_err(|e| r.error(e))?;
    if config.strategy.name() != strategy {
        return Err(r.error(format!(
            "header names strategy {strategy:?} but the config names {:?}",
            config.strategy.name()
        )));
    }
    Ok((Header { dim, config }, r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::config::Strategy;

    #[test]
    fn header_round_trips_and_damage_is_refused_by_name() {
        let config = LearnerConfig::for_strategy(Strategy::Ncm, 8);
        let mut w = start(&config, 8);
        w.u64(42);
        let bytes = seal(w);
        let (header, mut r) = open(&bytes).unwrap();
        assert_eq!((header.dim, &header.config), (8, &config));
        assert_eq!(r.u64("rest").unwrap(), 42);
        r.finish().unwrap();
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        let err = open(&flipped).unwrap_err().to_string();
        assert!(err.starts_with("learner state: checksum mismatch"), "{err}");
        let err = open(&bytes[..bytes.len() - 1]).unwrap_err().to_string();
        assert!(err.starts_with("learner state: body length"), "{err}");
    }

    #[test]
    fn an_invalid_config_or_dimension_is_refused_naming_the_strategy() {
        let config = LearnerConfig {
            epochs: 0,
            ..LearnerConfig::for_strategy(Strategy::Er, 8)
        };
        let err = open(&seal(start(&config, 8))).unwrap_err().to_string();
        assert!(
            err.contains("config: bad learner parameter epochs = 0"),
            "{err}"
        );
        assert!(err.ends_with("(strategy er)"), "{err}");
        let config = LearnerConfig::for_strategy(Strategy::Er, 8);
        let err = open(&seal(start(&config, 0))).unwrap_err().to_string();
        assert!(err.contains("dimension 0 outside"), "{err}");
    }
}
