//! `checkpoint`: a snapshot written now, the journal folded into it.

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};

pub(super) fn handle(target: &dyn ControlTarget) -> Result<Reply, ControlError> {
    json(&target.checkpoint()?)
}
