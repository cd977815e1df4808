//! (skeleton: filled by its issue)

pub mod layout;
