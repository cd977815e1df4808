//! `mmcl bench host` in a build without the `host` feature.

use super::{Args, CliError};
use anyhow::anyhow;

pub fn run(_: Args) -> Result<(), CliError> {
    Err(CliError::Input(anyhow!(
        "this mmcl was built without the host feature (cargo build --features host)"
    )))
}
