//! The tract backend (feature `tract`, on by default): pure Rust, CPU only.
//! `enabled.rs` runs models (with `layout`, `stage`, `parallel`, `frames`;
//! `profile` times them by operator);
//! `disabled.rs` has the same API and refuses with a message naming the feature.

#[cfg(feature = "tract")]
mod enabled;
#[cfg(feature = "tract")]
mod frames;
#[cfg(feature = "tract")]
mod layout;
#[cfg(feature = "tract")]
mod parallel;
#[cfg(feature = "tract")]
mod profile;
#[cfg(feature = "tract")]
mod stage;
#[cfg(feature = "tract")]
pub use enabled::open;
#[cfg(feature = "tract")]
pub use profile::{flops_per_window, profile_ops};

#[cfg(not(feature = "tract"))]
mod disabled;
#[cfg(not(feature = "tract"))]
pub use disabled::{flops_per_window, open, profile_ops};
