//! `enroll_cancel {enrollment}`: drops the enrollment's windows; nothing is learned.

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};
use crate::control::protocol::{Cancelled, EnrollmentId};

pub(super) fn handle(
    target: &dyn ControlTarget,
    args: EnrollmentId,
) -> Result<Reply, ControlError> {
    target.enroll_cancel(args.enrollment)?;
    json(&Cancelled {
        enrollment: args.enrollment,
        cancelled: true,
    })
}
