//! `mmcl checkpoint [--json]`: the running daemon writes a snapshot now and folds its
//! journal into it (what it does on its own at its checkpoint interval and on stop).

use super::control_client::ClientArgs;
use super::CliError;
use crate::control::api::CheckpointReport;
use crate::control::protocol::Request;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: Args) -> Result<(), CliError> {
    args.client.ask(Request::Checkpoint, |r: CheckpointReport| {
        format!(
            "wrote snapshot {} to {} ({} bytes), journal folded through record {}",
            r.snapshot_seq, r.path, r.bytes, r.journal_seq
        )
    })
}
