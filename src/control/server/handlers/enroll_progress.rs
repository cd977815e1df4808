//! `enroll_progress {enrollment}`: windows and seconds captured so far (the CLI's progress bar).

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};
use crate::control::protocol::EnrollmentId;

pub(super) fn handle(
    target: &dyn ControlTarget,
    args: EnrollmentId,
) -> Result<Reply, ControlError> {
    json(&target.enroll_progress(args.enrollment)?)
}
