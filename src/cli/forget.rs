//! `mmcl forget LABEL [--json]`: the running daemon forgets a class (journaled before it
//! answers); its id is never reused.

use super::control_client::ClientArgs;
use super::CliError;
use crate::control::api::ClassChange;
use crate::control::protocol::{Forget, Request};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The class to forget.
    pub label: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let request = Request::Forget(Forget { name: args.label });
    args.client.ask(request, |change: ClassChange| {
        format!(
            "forgot {} (class {}); now knows {} classes",
            change.name, change.class, change.classes
        )
    })
}
