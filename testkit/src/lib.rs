//! Test fixtures for Rill: a raw HTTP/1.1 client, a launcher for real
//! `rill` processes on port 0 with a temporary data directory, and a
//! simulated network (`sim`) for whole clusters in one process.
//!
//! Dev-only: nothing here is linked into the server.

pub mod http;
pub mod process;
pub mod sim;
