//! `mmcl forget LABEL [--json]`: the running daemon forgets a class (journaled before it
//! answers); its id is never reused.

use super::control_client::{typed, ClientArgs};
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
    let outcome = args.client.connect().and_then(|mut c| Ok(c.call(request)?));
    args.client.show(outcome, |v| {
        let change: ClassChange = typed(v, "forget")?;
        Ok(format!(
            "forgot {} (class {}); now knows {} classes",
            change.name, change.class, change.classes
        ))
    })
}
