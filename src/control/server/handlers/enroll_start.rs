//! `enroll_start {label, seconds? | clips?}`: starts capturing windows for a class (for
//! some seconds of stream, or, on replay, whole clips of it); answers with the
//! enrollment's first progress, whose `id` names it in the other `enroll_*` requests.

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget, ErrorKind};
use crate::control::protocol::EnrollStart;

pub(super) fn handle(
    target: &dyn ControlTarget,
    args: &EnrollStart,
) -> Result<Reply, ControlError> {
    match (args.seconds, args.clips) {
        (Some(_), Some(_)) => Err(ControlError::new(
            ErrorKind::Invalid,
            "enroll_start takes seconds or clips, not both",
        )),
        (_, Some(clips)) => json(&target.enroll_clips(&args.label, clips)?),
        (seconds, None) => json(&target.enroll_start(&args.label, seconds)?),
    }
}
