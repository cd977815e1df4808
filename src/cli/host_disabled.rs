//! `mmcl host` in a build without the `host` feature.

use super::{CliError, Command};
use anyhow::anyhow;

pub fn run(_: Command) -> Result<(), CliError> {
    Err(CliError::Input(anyhow!(
        "this mmcl was built without the host feature (cargo build --features host)"
    )))
}
