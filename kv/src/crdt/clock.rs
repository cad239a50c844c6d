//! Clock helpers the data types share (dot subtraction, greatest lower
//! bound, deferred-operation keys) and the opaque client `Context`: the
//! causal clock of a set or map, handed out on fetch and sent back with
//! removes. Its byte form is versioned and decoding it never trusts a count.

use super::error::{CrdtError, Result};
use crate::object::{Actor, Dot, VClock};

/// First byte of an encoded context (`'D'`, so an object vclock is refused).
const CONTEXT_MAGIC: u8 = b'D';
/// Layout version, the second byte.
pub const CONTEXT_VERSION: u8 = 1;
/// Most actors a context may name; more is garbage (actors are vnodes).
pub const MAX_CONTEXT_ENTRIES: usize = 4096;

/// Key of a deferred operation: the context's entries, sorted by actor.
pub(crate) type ClockKey = Vec<(Actor, u64)>;

pub(crate) fn key_of(clock: &VClock) -> ClockKey {
    clock.entries().to_vec()
}

pub(crate) fn clock_of(key: &ClockKey) -> VClock {
    VClock::from_entries(key.iter().copied())
}

/// The dots of `dots` (a clock holding at most one dot per actor) that
/// `seen` has not seen.
pub(crate) fn subtract_dots(dots: &VClock, seen: &VClock) -> VClock {
    VClock::from_entries(dots.iter().filter(|&(a, c)| seen.get(a) < c))
}

/// Greatest lower bound: the events both clocks have seen.
pub(crate) fn glb(a: &VClock, b: &VClock) -> VClock {
    VClock::from_entries(a.iter().map(|(actor, c)| (actor, c.min(b.get(actor)))))
}

/// A clock that has seen exactly `dot`'s actor up to `dot`.
pub(crate) fn dot_clock(dot: Dot) -> VClock {
    VClock::from_entries([(dot.actor, dot.counter)])
}

/// The causal context of a data type: what the client saw when it fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    clock: VClock,
}

impl Context {
    pub fn new(clock: VClock) -> Self {
        Context { clock }
    }

    pub fn clock(&self) -> &VClock {
        &self.clock
    }

    pub fn is_empty(&self) -> bool {
        self.clock.is_empty()
    }

    /// `['D'][version 1][varint n]` then n pairs `[varint actor][varint
    /// counter]`, actors strictly increasing, counters > 0. Canonical: equal
    /// contexts give equal bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.clock.len() * 6);
        out.push(CONTEXT_MAGIC);
        out.push(CONTEXT_VERSION);
        crate::varint::put(&mut out, self.clock.len() as u64);
        for (actor, counter) in self.clock.iter() {
            crate::varint::put(&mut out, actor.0);
            crate::varint::put(&mut out, counter);
        }
        out
    }

    /// Reads bytes from `encode`. Empty input is an error: callers treat an
    /// absent or empty context field as "no context" before calling this.
    pub fn decode(bytes: &[u8]) -> Result<Context> {
        let [magic, version, rest @ ..] = bytes else {
            return Err(CrdtError::BadContext("truncated"));
        };
        let mut rest: &[u8] = rest;
        if *magic != CONTEXT_MAGIC {
            return Err(CrdtError::BadContext("not a datatype context"));
        }
        if *version != CONTEXT_VERSION {
            return Err(CrdtError::BadContext("unknown context version"));
        }
        let n = crate::varint::get(&mut rest).map_err(CrdtError::BadContext)?;
        // Each entry takes at least two bytes: check before allocating.
        if n > MAX_CONTEXT_ENTRIES as u64 || n > (rest.len() / 2) as u64 {
            return Err(CrdtError::BadContext("entry count out of range"));
        }
        let mut entries = Vec::with_capacity(n as usize);
        let mut previous: Option<u64> = None;
        for _ in 0..n {
            let actor = crate::varint::get(&mut rest).map_err(CrdtError::BadContext)?;
            let counter = crate::varint::get(&mut rest).map_err(CrdtError::BadContext)?;
            if previous.is_some_and(|p| actor <= p) {
                return Err(CrdtError::BadContext("actors not strictly increasing"));
            }
            if counter == 0 {
                return Err(CrdtError::BadContext("zero counter"));
            }
            previous = Some(actor);
            entries.push((Actor(actor), counter));
        }
        if !rest.is_empty() {
            return Err(CrdtError::BadContext("trailing bytes"));
        }
        Ok(Context {
            clock: VClock::from_entries(entries),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vc(entries: &[(u64, u64)]) -> VClock {
        entries.iter().map(|&(a, c)| (Actor(a), c)).collect()
    }

    #[test]
    fn glb_and_subtract() {
        let a = vc(&[(1, 3), (2, 1), (4, 2)]);
        let b = vc(&[(1, 2), (2, 5), (3, 1)]);
        assert_eq!(glb(&a, &b), vc(&[(1, 2), (2, 1)]));
        assert_eq!(glb(&a, &b), glb(&b, &a));
        assert_eq!(subtract_dots(&a, &b), vc(&[(1, 3), (4, 2)]));
    }

    #[test]
    fn context_golden_bytes() {
        let ctx = Context::new(vc(&[(1, 2), (300, 1)]));
        let bytes = ctx.encode();
        assert_eq!(bytes, vec![b'D', 1, 2, 1, 2, 0xac, 0x02, 1]);
        assert_eq!(Context::decode(&bytes).unwrap(), ctx);
        assert_eq!(Context::default().encode(), vec![b'D', 1, 0]);
    }

    #[test]
    fn context_rejects_garbage() {
        assert!(Context::decode(b"").is_err());
        assert!(
            Context::decode(&[1, 0]).is_err(),
            "object contexts are refused"
        );
        assert!(Context::decode(&[b'D', 2, 0]).is_err());
        assert!(Context::decode(&[b'D', 1, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(
            Context::decode(&[b'D', 1, 2, 1, 1, 1, 1]).is_err(),
            "repeated actor"
        );
        assert!(
            Context::decode(&[b'D', 1, 1, 1, 0]).is_err(),
            "zero counter"
        );
        assert!(Context::decode(&[b'D', 1, 0, 0]).is_err(), "trailing bytes");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn context_round_trip(entries in prop::collection::vec((any::<u64>(), 1u64..), 0..8)) {
            let ctx = Context::new(entries.into_iter().map(|(a, c)| (Actor(a), c)).collect());
            prop_assert_eq!(Context::decode(&ctx.encode()).unwrap(), ctx);
        }

        #[test]
        fn context_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = Context::decode(&bytes);
            let mut tagged = vec![b'D', 1];
            tagged.extend_from_slice(&bytes);
            let _ = Context::decode(&tagged);
        }
    }
}
