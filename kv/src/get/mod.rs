//! The get path: `core` decides, `fsm` sends to replicas and waits.

pub mod core;
pub mod fsm;
