//! (placeholder in the skeleton: replaced by the command's implementation)

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<(), CliError> {
    Err(CliError::Runtime(anyhow::anyhow!(
        "this command is being built"
    )))
}
