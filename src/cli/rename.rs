//! `mmcl rename OLD NEW [--json]`: a class of the running daemon takes a new name; its id
//! and learned windows stay (journaled before it answers).

use super::control_client::ClientArgs;
use super::CliError;
use crate::control::api::ClassChange;
use crate::control::protocol::{Rename, Request};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The class's name now.
    pub old: String,
    /// Its new name.
    pub new: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let old = args.old.clone();
    let request = Request::Rename(Rename {
        from: args.old,
        to: args.new,
    });
    args.client.ask(request, |change: ClassChange| {
        format!("renamed {old} to {} (class {})", change.name, change.class)
    })
}
