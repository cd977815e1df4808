//! The host side of sync (feature `host`): `storage` (devices, hashed tokens, bundle
//! metadata and blobs behind one `Storage` contract), `auth` (tokens: made, hashed,
//! compared in constant time), `server` (`mmcl host serve`: the HTTP API on axum),
//! `eval` (every stored snapshot of a device scored on a held-out test set), `history` (a
//! device's snapshots read back, encoder checked) and `report` (`mmcl host eval`'s
//! report.json and report.html with the fleet summary); `load` is `mmcl bench host`.

pub mod auth;
pub mod eval;
pub mod history;
pub mod load;
pub mod report;
pub mod server;
pub mod storage;

/// Unix milliseconds now (the host's clock; bundles carry the device's).
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
