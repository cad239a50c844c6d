//! The flag inside maps: Riak's `riak_dt_od_flag`, enable-wins with
//! observed disable. An enable adds a dot; a disable drops the dots it saw,
//! so a concurrent enable survives. A disable whose context the replica has
//! not seen yet is deferred like a set remove.

use super::clock::{ClockKey, clock_of, dot_clock, key_of, subtract_dots};
use super::orswot::merge_dots;
use crate::object::{Dot, VClock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OdFlag {
    clock: VClock,
    /// Dots of the enables that keep the flag on.
    dots: VClock,
    deferred: BTreeSet<ClockKey>,
}

impl OdFlag {
    pub fn new() -> Self {
        OdFlag::default()
    }

    pub fn value(&self) -> bool {
        !self.dots.is_empty()
    }

    pub(crate) fn set_clock(&mut self, clock: VClock) {
        self.clock = clock;
    }

    pub(crate) fn enable(&mut self, dot: Dot) {
        let d = dot_clock(dot);
        self.clock.merge(&d);
        self.dots.merge(&d);
    }

    /// Without a context: drops every enable this replica has seen (Riak does
    /// not require a context here). With one: drops what the context saw.
    pub(crate) fn disable(&mut self, ctx: Option<&VClock>) {
        match ctx {
            None => self.dots = VClock::new(),
            Some(ctx) => {
                self.dots = subtract_dots(&self.dots, ctx);
                if !self.clock.descends(ctx) {
                    self.deferred.insert(key_of(ctx));
                }
            }
        }
    }

    pub fn merge(&mut self, other: &OdFlag) {
        if self == other {
            return;
        }
        self.dots = merge_dots(&self.dots, &self.clock, &other.dots, &other.clock);
        self.clock.merge(&other.clock);
        let mut deferred = std::mem::take(&mut self.deferred);
        deferred.extend(other.deferred.iter().cloned());
        for ctx in deferred {
            self.disable(Some(&clock_of(&ctx)));
        }
    }
}
