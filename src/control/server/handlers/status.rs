//! `status`: the daemon's state now. Cheap: the target answers from counters it keeps.

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};

pub(super) fn handle(target: &dyn ControlTarget) -> Result<Reply, ControlError> {
    json(&target.status())
}
