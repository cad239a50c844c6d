//! The put path: `core` counts acknowledgements, `fsm` coordinates.

pub mod core;
pub mod fsm;
