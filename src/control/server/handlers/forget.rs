//! `forget {name}`: the class is forgotten (journaled before the answer).

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};
use crate::control::protocol::Forget;

pub(super) fn handle(target: &dyn ControlTarget, args: &Forget) -> Result<Reply, ControlError> {
    json(&target.forget(&args.name)?)
}
