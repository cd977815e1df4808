//! (skeleton: filled by its issue)
