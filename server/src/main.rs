//! The `rill` binary.
fn main() {}
