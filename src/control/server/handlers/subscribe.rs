//! `subscribe`: a stream of prediction events on this connection until either side closes
//! (`server::subscription` writes it).

use super::Reply;
use crate::control::api::{ControlError, ControlTarget};

pub(super) fn handle(target: &dyn ControlTarget) -> Result<Reply, ControlError> {
    Ok(Reply::Events(target.subscribe()))
}
