//! Open-loop pacing for `--rate`: when each worker's next request is due,
//! and from when its latency is counted.
//!
//! Each worker's requests arrive as a Poisson process (exponential gaps
//! whose mean is `workers / rate`), the first one a random gap after the
//! start, so the workers' arrivals interleave. Workers sharing one fixed
//! period would all fire at each tick and send the server a burst of
//! `workers` requests at once; the latencies would then measure that
//! burst's queue rather than the server.
//!
//! A worker still busy with its previous request when the next one falls
//! due sends it at once, and that request's latency counts from when it was
//! due: a server that stalls shows as queueing delay in the latencies, not
//! as requests that were never sent (no coordinated omission). A worker
//! that was idle and woke up late (the runtime's timer has a granularity
//! of about a millisecond) counts from when it sent, so the client's own
//! lateness is not charged to the server.

use std::time::{Duration, Instant};

use crate::rng::Rng;

/// One worker's arrival times.
#[derive(Debug)]
pub struct Schedule {
    mean_gap_s: f64,
    due: Instant,
    /// The schedule's own generator: drawing gaps must not shift the
    /// worker's keys, so a rated run asks for the keys an unrated run with
    /// the same seed asks for.
    rng: Rng,
}

impl Schedule {
    /// Arrivals at `rate_per_worker` a second on average, the first one a
    /// random gap after `start`.
    pub fn new(start: Instant, rate_per_worker: f64, seed: u64) -> Schedule {
        let mut rng = Rng::new(seed);
        let mean_gap_s = 1.0 / rate_per_worker;
        let due = start + exponential(mean_gap_s, &mut rng);
        Schedule {
            mean_gap_s,
            due,
            rng,
        }
    }

    /// When the next request is due.
    pub fn due(&self) -> Instant {
        self.due
    }

    /// Takes the due request, sent at `now`: returns the instant its
    /// latency counts from and draws the next arrival. `waited` says
    /// whether the worker slept until the request was due (it was idle) or
    /// found it already due (its previous request ran past it).
    pub fn take(&mut self, now: Instant, waited: bool) -> Instant {
        let counted_from = if waited { now } else { self.due.min(now) };
        self.due += exponential(self.mean_gap_s, &mut self.rng);
        counted_from
    }
}

/// An exponentially distributed gap with the given mean.
fn exponential(mean_s: f64, rng: &mut Rng) -> Duration {
    // `unit` is in [0, 1), so `1 - u` is in (0, 1] and its logarithm finite.
    let u = rng.unit();
    Duration::from_secs_f64(-mean_s * (1.0 - u).ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_average_to_the_rate() {
        let start = Instant::now();
        let mut s = Schedule::new(start, 1000.0, 7);
        let n = 100_000;
        for _ in 0..n {
            let due = s.due();
            s.take(due, true);
        }
        let mean_ms = s.due().duration_since(start).as_secs_f64() * 1000.0 / f64::from(n);
        assert!((mean_ms - 1.0).abs() < 0.02, "mean gap {mean_ms} ms");
    }

    #[test]
    fn workers_do_not_share_arrival_times() {
        let start = Instant::now();
        let firsts: Vec<Instant> = (1..=64)
            .map(|seed| Schedule::new(start, 100.0, seed).due())
            .collect();
        let mut distinct = firsts.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), firsts.len());
        // Spread over the mean gap (10 ms), not bunched at the start.
        let late = firsts
            .iter()
            .filter(|t| t.duration_since(start) > Duration::from_millis(5))
            .count();
        assert!((16..=48).contains(&late), "{late} of 64 after 5 ms");
    }

    #[test]
    fn a_late_request_counts_from_when_it_was_due() {
        let start = Instant::now();
        let mut s = Schedule::new(start, 100.0, 3);
        let due = s.due();
        let late = due + Duration::from_millis(40);
        assert_eq!(s.take(late, false), due);
        assert!(s.due() > due, "the next arrival comes after this one");
    }

    #[test]
    fn a_worker_that_waited_counts_from_its_send() {
        let start = Instant::now();
        let mut s = Schedule::new(start, 100.0, 3);
        let woke = s.due() + Duration::from_micros(900);
        assert_eq!(s.take(woke, true), woke);
    }

    #[test]
    fn a_request_taken_early_counts_from_its_send() {
        let start = Instant::now();
        let mut s = Schedule::new(start, 100.0, 3);
        let early = s.due() - Duration::from_micros(10);
        assert_eq!(s.take(early, false), early);
    }
}
