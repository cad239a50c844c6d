//! PutCore: counts replica acknowledgements of a put, as riak_kv_put_core.
//! Pure: no I/O, no time.
//!
//! A replica acknowledges once its write reached storage with the node's
//! durability, so each reply counts toward both `w` and `dw`; `pw` counts
//! primaries only.

use crate::error::KvError;

#[derive(Debug, Clone)]
pub struct PutCore {
    targets: u32,
    w: u32,
    dw: u32,
    pw: u32,
    num_ok: u32,
    num_pok: u32,
    num_fail: u32,
    primaries_left: u32,
    last_error: Option<KvError>,
}

impl PutCore {
    /// `targets`: replicas written; `primaries`: how many of them are primaries.
    pub fn new(targets: u32, primaries: u32, w: u32, dw: u32, pw: u32) -> PutCore {
        PutCore {
            targets,
            w,
            dw: dw.max(1),
            pw,
            num_ok: 0,
            num_pok: 0,
            num_fail: 0,
            primaries_left: primaries,
            last_error: None,
        }
    }

    pub fn add(&mut self, primary: bool, result: Result<(), KvError>) {
        if primary {
            self.primaries_left = self.primaries_left.saturating_sub(1);
        }
        match result {
            Ok(()) => {
                self.num_ok += 1;
                if primary {
                    self.num_pok += 1;
                }
            }
            Err(e) => {
                self.num_fail += 1;
                self.last_error = Some(e);
            }
        }
    }

    fn needed(&self) -> u32 {
        self.w.max(self.dw)
    }

    fn succeeded(&self) -> bool {
        self.num_ok >= self.needed() && self.num_pok >= self.pw
    }

    pub fn enough(&self) -> bool {
        self.succeeded()
            || self.num_fail > self.targets.saturating_sub(self.needed())
            || self.num_pok + self.primaries_left < self.pw
            || self.num_ok + self.num_fail >= self.targets
    }

    pub fn response(&self) -> Result<(), KvError> {
        if self.succeeded() {
            return Ok(());
        }
        if self.num_ok >= self.needed() {
            return Err(KvError::PwValUnsatisfied {
                needed: self.pw,
                got: self.num_pok,
            });
        }
        // A failure every replica agreed on (e.g. too many siblings) is the answer.
        if let (0, Some(e)) = (self.num_ok, &self.last_error)
            && matches!(
                e,
                KvError::TooManySiblings(_) | KvError::TooLarge(_) | KvError::Overload
            )
        {
            return Err(e.clone());
        }
        if self.num_ok >= self.w {
            return Err(KvError::DwValUnsatisfied {
                needed: self.dw,
                got: self.num_ok,
            });
        }
        Err(KvError::WValUnsatisfied {
            needed: self.w,
            got: self.num_ok,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w_acks_succeed() {
        let mut c = PutCore::new(3, 3, 2, 0, 0);
        c.add(true, Ok(()));
        assert!(!c.enough());
        c.add(true, Ok(()));
        assert!(c.enough());
        assert_eq!(c.response(), Ok(()));
    }

    #[test]
    fn dw_is_at_least_one() {
        let mut c = PutCore::new(3, 3, 0, 0, 0);
        assert!(!c.enough());
        c.add(true, Ok(()));
        assert!(c.enough());
    }

    #[test]
    fn too_many_failures_end_early() {
        let mut c = PutCore::new(3, 3, 3, 3, 0);
        c.add(true, Err(KvError::Timeout));
        assert!(c.enough());
        assert_eq!(
            c.response(),
            Err(KvError::WValUnsatisfied { needed: 3, got: 0 })
        );
    }

    #[test]
    fn pw_counts_primaries() {
        let mut c = PutCore::new(3, 1, 2, 2, 2);
        // Only one primary in the preflist: pw=2 can never be met.
        assert!(c.enough());
        c.add(false, Ok(()));
        c.add(false, Ok(()));
        assert_eq!(
            c.response(),
            Err(KvError::PwValUnsatisfied { needed: 2, got: 0 })
        );
    }

    #[test]
    fn a_common_failure_is_reported_as_such() {
        let mut c = PutCore::new(1, 1, 1, 1, 0);
        c.add(true, Err(KvError::TooManySiblings(101)));
        assert_eq!(c.response(), Err(KvError::TooManySiblings(101)));
    }
}
