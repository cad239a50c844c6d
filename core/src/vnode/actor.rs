//! The vnode actor: a thread, a bounded mailbox, and the vnode it owns.
//!
//! Senders never block: a full mailbox is reported as `Overload` at once, as
//! riak_core's vnode proxy does. Dropping every handle stops the thread after
//! it has drained the mailbox.

use super::{Vnode, VnodeConfig};
use crate::error::{CoreError, Result};
use crate::ring::PartitionId;
use std::sync::mpsc::{RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

enum Envelope<C> {
    Command(C),
    Stop,
}

/// A handle to send commands to one running vnode.
pub struct VnodeHandle<C: Send + 'static> {
    partition: PartitionId,
    tx: SyncSender<Envelope<C>>,
    thread: Option<JoinHandle<()>>,
}

impl<C: Send + 'static> VnodeHandle<C> {
    /// Start `vnode` on its own thread.
    pub fn spawn<V: Vnode<Command = C>>(
        partition: PartitionId,
        vnode: V,
        cfg: &VnodeConfig,
    ) -> VnodeHandle<C> {
        let (tx, rx) = sync_channel::<Envelope<C>>(cfg.mailbox);
        let tick = cfg.tick_interval;
        let thread = std::thread::Builder::new()
            .name(format!("vnode-{partition}"))
            .spawn(move || {
                let mut vnode = vnode;
                let mut next_tick = Instant::now() + tick;
                loop {
                    let wait = next_tick.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(Envelope::Command(c)) => {
                            // A bug in one command must not kill the vnode:
                            // its caller sees the reply channel dropped.
                            let run = std::panic::AssertUnwindSafe(|| vnode.handle_command(c));
                            if std::panic::catch_unwind(run).is_err() {
                                tracing::error!(partition, "vnode command panicked");
                            }
                        }
                        Ok(Envelope::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    if Instant::now() >= next_tick {
                        vnode.tick();
                        next_tick = Instant::now() + tick;
                    }
                }
            })
            .expect("spawn vnode thread");
        VnodeHandle {
            partition,
            tx,
            thread: Some(thread),
        }
    }

    pub fn partition(&self) -> PartitionId {
        self.partition
    }

    /// Queue a command; never blocks.
    pub fn send(&self, cmd: C) -> Result<()> {
        match self.tx.try_send(Envelope::Command(cmd)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(CoreError::Overload),
            Err(TrySendError::Disconnected(_)) => Err(CoreError::VnodeNotRunning(self.partition)),
        }
    }

    /// Stop after the queued commands, and wait for the thread to end.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        // A blocking send: the stop must not be lost to a full mailbox.
        let _ = self.tx.send(Envelope::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<C: Send + 'static> Drop for VnodeHandle<C> {
    fn drop(&mut self) {
        self.stop_inner();
    }
}
