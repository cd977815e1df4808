//! `enroll_stop {enrollment}`: ends capture and learns. The slow request (a learn call and
//! an fsynced journal record): it holds this client's thread only, and its answer means the
//! enrollment is durable.

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};
use crate::control::protocol::EnrollmentId;

pub(super) fn handle(
    target: &dyn ControlTarget,
    args: EnrollmentId,
) -> Result<Reply, ControlError> {
    json(&target.enroll_stop(args.enrollment)?)
}
