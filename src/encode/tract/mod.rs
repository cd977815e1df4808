//! The tract backend (feature `tract`, on by default): pure Rust, CPU only.
//! `enabled.rs` runs models; `disabled.rs` has the same API and refuses with a
//! message naming the feature.

#[cfg(feature = "tract")]
mod enabled;
#[cfg(feature = "tract")]
pub use enabled::{flops_per_window, open};

#[cfg(not(feature = "tract"))]
mod disabled;
#[cfg(not(feature = "tract"))]
pub use disabled::{flops_per_window, open};
