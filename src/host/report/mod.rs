//! `mmcl host eval`'s report: one device's evaluation (`host::eval`) with the fleet
//! summary over every device in the store, written as `report.json` (stable field names,
//! fractions and Unix ms) and `report.html` (one static page, no external assets, its plots
//! inline SVG: `svg` and `eval::plot`'s heatmap).
//!
//! Test samples name their class by dataset folder (`3_drinking`); devices may have
//! enrolled it under that name or its display name (`drinking`, what replay reports), so
//! each device's samples take the spelling its class books use (`samples_for`).

mod fleet;
mod html;
pub mod svg;

pub use fleet::{evaluate, fleet_summary, samples_for, FleetEntry, TestClip};

use super::eval::{DeviceEval, HostEvalError};
use super::history::HistoryError;
use super::storage::StorageError;
use std::path::{Path, PathBuf};

/// Version of the `report.json` layout; bumped when a field changes meaning.
pub const HOST_REPORT_FORMAT: u32 = 1;

/// Everything one `mmcl host eval` produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HostReport {
    pub format: u32,
    /// The test set's directory, as given.
    pub testset: String,
    pub encoder_sha256: String,
    pub test_samples: usize,
    #[serde(flatten)]
    pub device: DeviceEval,
    /// Every device in the store, by id (the evaluated one included).
    pub fleet: Vec<FleetEntry>,
}

/// Why the report could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Eval(#[from] HostEvalError),
    #[error("listing the devices")]
    Devices(#[source] Box<StorageError>),
    #[error("{action} {}", path.display())]
    Write {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Atomic(#[from] crate::envelope::WriteError),
    #[error("serializing report.json")]
    Json(#[source] serde_json::Error),
}

impl HostReport {
    /// `report.json`: pretty-printed, ending with a newline.
    pub fn to_json(&self) -> Result<String, ReportError> {
        let mut json = serde_json::to_string_pretty(self).map_err(ReportError::Json)?;
        json.push('\n');
        Ok(json)
    }

    /// `report.html`.
    pub fn to_html(&self) -> String {
        html::page(self)
    }
}

/// Writes `dir/report.json` and `dir/report.html` (atomically each); returns their paths.
pub fn write(dir: &Path, report: &HostReport) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        action: "create the report directory",
        source,
    })?;
    let files = [
        ("report.json", report.to_json()?),
        ("report.html", report.to_html()),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        crate::envelope::write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}
