//! `rename {from, to}`: the class keeps its id and windows under a new name (journaled).

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};
use crate::control::protocol::Rename;

pub(super) fn handle(target: &dyn ControlTarget, args: &Rename) -> Result<Reply, ControlError> {
    json(&target.rename(&args.from, &args.to)?)
}
