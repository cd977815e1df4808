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

/// Never made: without the client there are no trust roots to read.
#[derive(Debug, thiserror::Error)]
#[error("this mmcl was built without the uplink feature")]
pub struct CaError;

#[derive(Debug, Clone)]
pub struct Client;

impl Client {
    pub fn new(_base: &str, _token: &str, _timeout: Duration) -> Client {
        Client
    }

    pub fn with_ca(
        _base: &str,
        _token: &str,
        _timeout: Duration,
        _ca_pem: &[u8],
    ) -> Result<Client, CaError> {
        Ok(Client)
    }

    pub fn send(&self, _device: &str, _pending: &Pending) -> Outcome {
        Outcome::Retry {
            why: "this mmcl was built without the uplink feature".into(),
        }
    }
}
