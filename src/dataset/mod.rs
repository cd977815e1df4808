//! (skeleton: filled by its issue)

pub mod layout;
pub mod synth;
