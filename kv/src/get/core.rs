//! GetCore: counts replica replies to a get and decides when and what to
//! answer, as riak_kv_get_core does. Pure: no I/O, no time.
//!
//! `notfound_ok` makes a notfound count toward `r`; the request fails early
//! once too many replicas said notfound or failed for `r` to be reachable
//! (`basic_quorum` lowers that threshold to a simple majority).

use crate::error::KvError;
use crate::object::RiakObject;

/// One replica's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplicaReply {
    Found(RiakObject),
    NotFound,
    Error(KvError),
}

#[derive(Debug, Clone)]
pub struct GetCore {
    n: u32,
    r: u32,
    pr: u32,
    fail_threshold: u32,
    notfound_ok: bool,
    allow_mult: bool,
    num_ok: u32,
    num_pok: u32,
    num_notfound: u32,
    num_fail: u32,
    /// Primaries that have not answered yet.
    primaries_left: u32,
    replies: Vec<(usize, ReplicaReply)>,
}

/// What the coordinator answers.
#[derive(Debug, Clone, PartialEq)]
pub enum GetOutcome {
    Found(RiakObject),
    /// Every replica that answered had nothing (or only tombstones: the
    /// merged tombstone is kept for `deletedvclock`).
    NotFound(Option<RiakObject>),
    Error(KvError),
}

impl GetCore {
    pub fn new(
        n: u32,
        r: u32,
        pr: u32,
        primaries: u32,
        basic_quorum: bool,
        notfound_ok: bool,
        allow_mult: bool,
    ) -> GetCore {
        let threshold = n.saturating_sub(r) + 1;
        let fail_threshold = if basic_quorum {
            threshold.min(n / 2 + 1)
        } else {
            threshold
        };
        GetCore {
            n,
            r,
            pr,
            fail_threshold,
            notfound_ok,
            allow_mult,
            num_ok: 0,
            num_pok: 0,
            num_notfound: 0,
            num_fail: 0,
            primaries_left: primaries,
            replies: Vec::new(),
        }
    }

    /// Record the reply of replica `idx` (its position in the preflist).
    pub fn add(&mut self, idx: usize, primary: bool, reply: ReplicaReply) {
        if primary {
            self.primaries_left = self.primaries_left.saturating_sub(1);
        }
        let ok = match &reply {
            ReplicaReply::Found(_) => true,
            ReplicaReply::NotFound => {
                self.num_notfound += 1;
                self.notfound_ok
            }
            ReplicaReply::Error(_) => {
                self.num_fail += 1;
                false
            }
        };
        if ok {
            self.num_ok += 1;
            if primary {
                self.num_pok += 1;
            }
        }
        self.replies.push((idx, reply));
    }

    /// True once the answer is decided.
    pub fn enough(&self) -> bool {
        (self.num_ok >= self.r && self.num_pok >= self.pr)
            || self.notfound_and_fail() >= self.fail_threshold
            || self.num_pok + self.primaries_left < self.pr
            || self.replies.len() as u32 >= self.n
    }

    /// The objects the replicas answered so far (the data type fetch joins
    /// their values rather than relying on the object merge).
    pub fn found(&self) -> impl Iterator<Item = &RiakObject> {
        self.replies.iter().filter_map(|(_, r)| match r {
            ReplicaReply::Found(o) => Some(o),
            _ => None,
        })
    }

    pub fn all_replied(&self) -> bool {
        self.replies.len() as u32 >= self.n
    }

    fn notfound_and_fail(&self) -> u32 {
        let nf = if self.notfound_ok {
            0
        } else {
            self.num_notfound
        };
        nf + self.num_fail
    }

    /// The merge of every object received so far.
    pub fn merged(&self) -> Option<RiakObject> {
        let mut objs = self.replies.iter().filter_map(|(_, r)| match r {
            ReplicaReply::Found(o) => Some(o),
            _ => None,
        });
        let mut merged = objs.next()?.clone();
        for o in objs {
            // Replicas usually agree: an equal object adds nothing.
            if *o != merged {
                // Data types merge by type: their collapsed siblings must not
                // be dropped by the object merge (read repair sends this).
                merged = crate::dt::merge_datatype(&merged, o);
            }
        }
        if !self.allow_mult {
            merged.collapse_lww();
        }
        Some(merged)
    }

    /// The answer to the client (call once `enough()`).
    pub fn response(&self) -> GetOutcome {
        if self.num_ok >= self.r && self.num_pok < self.pr {
            return GetOutcome::Error(KvError::PrValUnsatisfied {
                needed: self.pr,
                got: self.num_pok,
            });
        }
        let merged = self.merged();
        if self.num_ok >= self.r {
            return match merged {
                Some(o) if !o.is_tombstone() => GetOutcome::Found(o),
                other => GetOutcome::NotFound(other),
            };
        }
        if self.num_pok + self.primaries_left < self.pr {
            return GetOutcome::Error(KvError::PrValUnsatisfied {
                needed: self.pr,
                got: self.num_pok,
            });
        }
        // Riak: nothing but notfounds and tombstones, and no errors → notfound.
        let live = self
            .replies
            .iter()
            .filter(|(_, r)| matches!(r, ReplicaReply::Found(o) if !o.is_tombstone()))
            .count();
        if live == 0 && self.num_fail == 0 && self.num_notfound + (self.num_ok) > 0 {
            return GetOutcome::NotFound(merged);
        }
        GetOutcome::Error(KvError::RValUnsatisfied {
            needed: self.r,
            got: self.num_ok,
        })
    }

    /// Replicas to repair once all have answered: those that had nothing or
    /// a version the merge strictly dominates. Errors are repaired too (a
    /// corrupt record is replaced by the merged object).
    pub fn repairs(&self) -> Vec<usize> {
        // The common case, replicas in agreement, needs no merge.
        let mut clocks = self.replies.iter().map(|(_, r)| match r {
            ReplicaReply::Found(o) => Some(&o.clock),
            _ => None,
        });
        if let Some(Some(first)) = clocks.next()
            && clocks.all(|c| c == Some(first))
        {
            return Vec::new();
        }
        let Some(merged) = self.merged() else {
            return Vec::new();
        };
        self.replies
            .iter()
            .filter(|(_, r)| match r {
                ReplicaReply::Found(o) => merged.clock.dominates(&o.clock),
                ReplicaReply::NotFound => true,
                ReplicaReply::Error(KvError::Corrupt(_)) => true,
                ReplicaReply::Error(_) => false,
            })
            .map(|(i, _)| *i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Actor, Content, Metadata, VClock};

    fn obj(v: &[u8], actor: u64) -> RiakObject {
        RiakObject::coordinate_put(
            None,
            &VClock::new(),
            Content::new(v.to_vec(), Metadata::default()),
            Actor(actor),
        )
    }

    #[test]
    fn quorum_of_found_answers_found() {
        let mut c = GetCore::new(3, 2, 0, 3, false, true, true);
        let o = obj(b"x", 1);
        c.add(0, true, ReplicaReply::Found(o.clone()));
        assert!(!c.enough());
        c.add(1, true, ReplicaReply::Found(o.clone()));
        assert!(c.enough());
        assert_eq!(c.response(), GetOutcome::Found(o));
    }

    #[test]
    fn notfound_ok_counts_notfounds() {
        let mut c = GetCore::new(3, 2, 0, 3, false, true, true);
        c.add(0, true, ReplicaReply::NotFound);
        c.add(1, true, ReplicaReply::NotFound);
        assert!(c.enough());
        assert_eq!(c.response(), GetOutcome::NotFound(None));
    }

    #[test]
    fn without_notfound_ok_a_single_found_value_waits() {
        let mut c = GetCore::new(3, 2, 0, 3, false, false, true);
        c.add(0, true, ReplicaReply::NotFound);
        assert!(!c.enough());
        c.add(1, true, ReplicaReply::Found(obj(b"x", 1)));
        assert!(!c.enough());
        c.add(2, true, ReplicaReply::NotFound);
        assert!(c.enough());
        // r=2 not reached: only one ok.
        assert_eq!(
            c.response(),
            GetOutcome::Error(KvError::RValUnsatisfied { needed: 2, got: 1 })
        );
    }

    #[test]
    fn basic_quorum_fails_fast_on_majority_notfound() {
        let mut c = GetCore::new(3, 1, 0, 3, true, false, true);
        c.add(0, true, ReplicaReply::NotFound);
        assert!(!c.enough());
        c.add(1, true, ReplicaReply::NotFound);
        assert!(c.enough());
        assert_eq!(c.response(), GetOutcome::NotFound(None));
    }

    #[test]
    fn errors_make_r_unsatisfied() {
        let mut c = GetCore::new(3, 3, 0, 3, false, true, true);
        c.add(0, true, ReplicaReply::Found(obj(b"x", 1)));
        c.add(1, true, ReplicaReply::Error(KvError::Timeout));
        assert!(c.enough());
        assert_eq!(
            c.response(),
            GetOutcome::Error(KvError::RValUnsatisfied { needed: 3, got: 1 })
        );
    }

    #[test]
    fn pr_counts_primaries_only() {
        let mut c = GetCore::new(3, 1, 2, 1, false, true, true);
        c.add(0, false, ReplicaReply::Found(obj(b"x", 1)));
        // One primary in the list, pr=2: impossible.
        assert!(c.enough());
        assert_eq!(
            c.response(),
            GetOutcome::Error(KvError::PrValUnsatisfied { needed: 2, got: 0 })
        );
    }

    #[test]
    fn repairs_stale_and_missing_replicas() {
        let mut c = GetCore::new(3, 3, 0, 3, false, true, true);
        let old = obj(b"old", 1);
        let new = RiakObject::coordinate_put(
            Some(&old),
            &old.clock,
            Content::new(b"new".to_vec(), Metadata::default()),
            Actor(1),
        );
        c.add(0, true, ReplicaReply::Found(new.clone()));
        c.add(1, true, ReplicaReply::Found(old));
        c.add(2, true, ReplicaReply::NotFound);
        assert_eq!(c.response(), GetOutcome::Found(new));
        assert_eq!(c.repairs(), vec![1, 2]);
    }

    #[test]
    fn agreeing_replicas_need_no_repair_but_a_missing_one_does() {
        let o = obj(b"v", 1);
        let mut c = GetCore::new(3, 2, 0, 3, false, true, true);
        for i in 0..3 {
            c.add(i, true, ReplicaReply::Found(o.clone()));
        }
        assert!(c.repairs().is_empty());
        let mut c = GetCore::new(3, 2, 0, 3, false, true, true);
        c.add(0, true, ReplicaReply::Found(o.clone()));
        c.add(1, true, ReplicaReply::NotFound);
        c.add(2, true, ReplicaReply::Found(o));
        assert_eq!(c.repairs(), vec![1]);
    }
}
