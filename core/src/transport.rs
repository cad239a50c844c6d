//! The node-to-node transport, behind a trait.
//!
//! Production sends framed messages over TCP (the cluster port); tests use a
//! simulated network that can drop, delay and partition. A one-node cluster
//! only ever talks to itself, which `Loopback` serves.

use crate::error::{CoreError, Result};
use crate::ring::NodeName;
use std::sync::Mutex;
use std::sync::mpsc::Sender;

/// Sends opaque, already-encoded messages to other nodes.
pub trait Transport: Send + Sync + 'static {
    /// This node's name.
    fn local(&self) -> &NodeName;
    /// Queue `payload` for `to`; fails fast when the peer is unreachable.
    fn send(&self, to: &NodeName, payload: Vec<u8>) -> Result<()>;
}

/// The transport of a one-node cluster: messages to self are delivered to a
/// local inbox; every other node is unreachable.
pub struct Loopback {
    node: NodeName,
    inbox: Mutex<Sender<Vec<u8>>>,
}

impl Loopback {
    pub fn new(node: NodeName, inbox: Sender<Vec<u8>>) -> Self {
        Loopback {
            node,
            inbox: Mutex::new(inbox),
        }
    }
}

impl Transport for Loopback {
    fn local(&self) -> &NodeName {
        &self.node
    }

    fn send(&self, to: &NodeName, payload: Vec<u8>) -> Result<()> {
        if to != &self.node {
            return Err(CoreError::Unreachable(to.clone()));
        }
        self.inbox
            .lock()
            .expect("inbox lock")
            .send(payload)
            .map_err(|_| CoreError::Unreachable(to.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_delivers_to_self_only() {
        let (tx, rx) = std::sync::mpsc::channel();
        let t = Loopback::new("a@h".into(), tx);
        t.send(&"a@h".to_string(), vec![1, 2]).unwrap();
        assert_eq!(rx.recv().unwrap(), vec![1, 2]);
        assert!(matches!(
            t.send(&"b@h".to_string(), vec![]),
            Err(CoreError::Unreachable(_))
        ));
    }
}
