//! `mmcl model inspect FILE`: report an ONNX encoder's inputs, outputs,
//! metadata and contract problems, and whether the chosen backend runs it.
//! Exit 2 when the model breaks the contract (the report is printed first).

use super::profile_args::BackendArgs;
use super::{print_json, print_out, CliError};
use crate::encode::inspect::inspect;
use crate::encode::EncodeError;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ONNX model file.
    pub file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Backend used to load and run one check batch.
    #[command(flatten)]
    pub backend: BackendArgs,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let options = args.backend.options(1)?;
    let report = inspect(&args.file, &options).map_err(|e| match e {
        EncodeError::Io { .. } | EncodeError::ModelFormat { .. } => CliError::Input(e.into()),
        other => CliError::Runtime(other.into()),
    })?;
    if args.json {
        print_json(&report)?;
    } else {
        print_out(&report.summary())?;
    }
    match report.problems.len() {
        0 => Ok(()),
        n => {
            let e = CliError::Input(anyhow::anyhow!(
                "{}: {n} problem(s), listed above",
                args.file.display()
            ));
            Err(if args.json { e.reported() } else { e })
        }
    }
}
