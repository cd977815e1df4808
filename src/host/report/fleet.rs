//! One device evaluated from the store (`evaluate`), and the fleet summary: every device
//! the store knows, evaluated the same way where its snapshots share the test set's
//! encoder, otherwise listed with the reason it was not.

use super::ReportError;
use crate::classes::ClassModel;
use crate::host::eval::{evaluate_device, DeviceEval, Sample};
use crate::host::history;
use crate::host::storage::Storage;
use crate::uplink::Bundle;
use std::collections::BTreeSet;

/// One held-out test clip's embedding with its dataset class folder (`3_drinking`).
#[derive(Debug, Clone, PartialEq)]
pub struct TestClip {
    pub folder: String,
    pub embedding: crate::embedding::Embedding,
}

/// One device of the fleet summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FleetEntry {
    pub device_id: String,
    pub bundles: u64,
    pub last_bundle_at_ms: Option<u64>,
    /// Present when the device was evaluated on this test set.
    pub final_accuracy: Option<f64>,
    pub avg_incremental_accuracy: Option<f64>,
    pub forgetting: Option<f64>,
    pub bwt: Option<f64>,
    pub classes: Option<usize>,
    /// Why the device was not evaluated (another encoder, no snapshot, ...).
    pub skipped: Option<String>,
}

/// Evaluates every stored snapshot of `device` on `test` (embedded with `encoder_sha256`).
pub fn evaluate(
    storage: &dyn Storage,
    device: &str,
    encoder_sha256: &str,
    test: &[TestClip],
) -> Result<DeviceEval, ReportError> {
    let bundles = history::load(storage, device, encoder_sha256)?;
    let samples = samples_for(&bundles, test);
    Ok(evaluate_device(device, &bundles, &samples)?)
}

/// Every device in `storage`, evaluated on `test` where it can be.
pub fn fleet_summary(
    storage: &dyn Storage,
    encoder_sha256: &str,
    test: &[TestClip],
) -> Result<Vec<FleetEntry>, ReportError> {
    let devices = storage
        .devices()
        .map_err(|e| ReportError::Devices(Box::new(e)))?;
    let mut fleet = Vec::with_capacity(devices.len());
    for d in devices {
        let mut entry = FleetEntry {
            device_id: d.device_id.clone(),
            bundles: d.bundles,
            last_bundle_at_ms: d.last_bundle_at_ms,
            final_accuracy: None,
            avg_incremental_accuracy: None,
            forgetting: None,
            bwt: None,
            classes: None,
            skipped: None,
        };
        match evaluate(storage, &d.device_id, encoder_sha256, test) {
            Ok(eval) => {
                entry.final_accuracy = Some(eval.final_accuracy);
                entry.avg_incremental_accuracy = Some(eval.avg_incremental_accuracy);
                entry.forgetting = eval.forgetting;
                entry.bwt = eval.bwt;
                entry.classes = Some(eval.tasks.iter().map(Vec::len).sum());
            }
            Err(e) => entry.skipped = Some(chain(&e)),
        }
        fleet.push(entry);
    }
    Ok(fleet)
}

/// `test` as samples named the way `bundles`' class books spell them: the folder name
/// when a book has it (ASCII case aside), else the display name (`drinking`) in a book's
/// spelling, else the display name (a class the device never enrolled).
pub fn samples_for(bundles: &[Bundle], test: &[TestClip]) -> Vec<Sample> {
    let names = book_names(bundles);
    let spelled = |wanted: &str| {
        names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(wanted))
            .cloned()
    };
    test.iter()
        .map(|clip| {
            let display = display_name(&clip.folder);
            let class = spelled(&clip.folder)
                .or_else(|| spelled(&display))
                .unwrap_or(display);
            Sample {
                class,
                embedding: clip.embedding.clone(),
            }
        })
        .collect()
}

/// Every class name any of `bundles` names (a bundle that does not load names none here;
/// `evaluate_device` reports it).
fn book_names(bundles: &[Bundle]) -> BTreeSet<String> {
    bundles
        .iter()
        .filter_map(|b| ClassModel::restore(&b.snapshot.sections).ok())
        .flat_map(|m| {
            m.current()
                .book()
                .entries()
                .iter()
                .map(|e| e.name.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `"3_drinking"` -> `"drinking"`: the daemon's replay rule (private to `daemon::replay`),
/// which the names devices enroll on a replay profile follow.
fn display_name(folder: &str) -> String {
    match folder.split_once('_') {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest.into(),
        _ => folder.into(),
    }
}

/// An error and its sources, `: `-joined (one line for the summary).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_drop_the_numeric_prefix_only() {
        assert_eq!(display_name("3_brush_teeth"), "brush_teeth");
        assert_eq!(display_name("walk_fast"), "walk_fast");
        assert_eq!(display_name("_x"), "_x");
    }
}
