//! The client in a build without the `uplink` feature: every send is a retry that says so,
//! so bundles stay queued until a build with the client runs.

use super::queue::Pending;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Acknowledged { stored: bool },
    Refused { status: u16, message: String },
    Retry { why: String },
}

#[derive(Debug, Clone)]
pub struct Client;

impl Client {
    pub fn new(_base: &str, _token: &str, _timeout: Duration) -> Client {
        Client
    }

    pub fn send(&self, _device: &str, _pending: &Pending) -> Outcome {
        Outcome::Retry {
            why: "this mmcl was built without the uplink feature".into(),
        }
    }
}
