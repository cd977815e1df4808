//! `classes`: the class book as `{"classes": [{"label", "name", "windows", "enrolled_at"}]}`.

use super::{json, Reply};
use crate::control::api::{ControlError, ControlTarget};

pub(super) fn handle(target: &dyn ControlTarget) -> Result<Reply, ControlError> {
    json(&target.classes())
}
