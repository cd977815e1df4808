//! `enroll_start {label, seconds?}`: starts capturing windows for a class; answers with the
//! enrollment's first progress, whose `id` names it in the other `enroll_*` requests.

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};
use crate::control::protocol::EnrollStart;

pub(super) fn handle(
    target: &dyn ControlTarget,
    args: &EnrollStart,
) -> Result<Reply, ControlError> {
    json(&target.enroll_start(&args.label, args.seconds)?)
}
