//! Test fixtures for Rill: a raw HTTP/1.1 client and a launcher for real
//! `rill` processes on port 0 with a temporary data directory.
//!
//! Dev-only: nothing here is linked into the server.

pub mod http;
pub mod process;
