//! Claim: which node owns each partition after members join or leave.
//!
//! Pure functions over owner lists (index = partition). `claim` balances the
//! partitions over the members, keeps every preference list on distinct nodes
//! where that is possible, and moves as few partitions as it can. Staging,
//! gossip and handoff of the moved partitions belong to `membership`.

use crate::ring::{NodeName, PartitionId};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// Marks a partition whose owner is not (or no longer) a member.
const NONE: usize = usize::MAX;

/// Work limit for the local repair of the incremental layout, in candidate
/// moves looked at. A fixed number, so every node computes the same result.
const REPAIR_BUDGET: usize = 4_000_000;

/// New ownership for `members`, starting from `current` owners.
///
/// `members` is treated as a set: order and duplicates do not matter (it is
/// sorted internally), so every node computes the same ring. A node in
/// `current` that is not in `members` gives up all its partitions.
///
/// With `Q = current.len()`, `M` distinct members, `c = ceil(Q / M)` and
/// `n = min(target_n_val, M)` (at least 1), the result guarantees:
///
/// * **Balance**: every member owns `floor(Q/M)` or `ceil(Q/M)` partitions
///   (with more members than partitions, some own none).
/// * **Spacing**: two partitions with the same owner are at least
///   `min(n, floor(Q / c))` apart round the ring. Hence every window of `n`
///   consecutive partitions (wrapping) has distinct owners exactly when
///   `c * n <= Q`; when `c * n > Q` no balanced ring can do that (the owner of
///   `c` partitions would need `c * n` slots). For ring sizes 8–1024 (powers
///   of two), `c * n <= Q` holds for every `M >= n` except `M == n` not
///   dividing `Q` and three tiny rings (8 partitions with target 5 on 6–7
///   nodes or target 6 on 7; 16 partitions with target 6 on 7). With fewer
///   nodes than the target, `n = M` and it holds when `M` divides `Q` (1, 2,
///   4 nodes; never 3). Whenever `M >= 2`, `n >= 2` and `Q` is even, no two
///   neighbouring partitions share an owner, so a preference list of
///   `min(3, M)` partitions never sits on one node.
/// * **Fewest violations known**: among layouts meeting the above, the one
///   returned has no more windows of `n` with a repeated owner than the
///   diagonal layout (`Q = 64`, 3 nodes: 2 windows, the minimum).
/// * **Movement** (measured, not promised): an incremental layout (keep what
///   can stay, hand surplus to the members short of their share, then
///   repair spacing by swaps) is preferred; a fresh diagonal layout, rotated
///   and relabelled to keep as many partitions in place as it can, is used
///   only when it has fewer spacing violations. A join into a cluster that
///   already has `target_n_val` nodes moves about the newcomer's share; the
///   joins that raise `n` (up to `target_n_val` nodes) and leaves down to
///   `target_n_val + 1` or `+ 2` nodes on large rings may re-diagonalise.
///   Numbers are in the tests and `docs/design/claim.md`.
/// * **Determinism**: no randomness, no hash-order iteration, a fixed work
///   limit.
///
/// Panics if `members` or `current` is empty: a ring always has an owner,
/// and the claimant never removes the last member.
pub fn claim(current: &[NodeName], members: &[NodeName], target_n_val: usize) -> Vec<NodeName> {
    assert!(!members.is_empty(), "claim needs at least one member");
    assert!(!current.is_empty(), "claim needs a ring with partitions");
    let mut names: Vec<&NodeName> = members.iter().collect();
    names.sort();
    names.dedup();
    let m = names.len();
    let q = current.len();
    let n = target_n_val.clamp(1, m).min(q);
    let ids: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let cur: Vec<usize> = current
        .iter()
        .map(|o| ids.get(o.as_str()).copied().unwrap_or(NONE))
        .collect();
    let most = q.div_ceil(m);
    let required = n.min(q / most);
    // Priority of window sizes: the guaranteed spacing first, then from the
    // target down (a repeat in a short window hurts more keys' replicas).
    let mut sizes = vec![required];
    sizes.extend((2..=n).rev().filter(|&w| w != required));
    sizes.retain(|&w| w >= 2);

    let diagonal = relabel(&diagonal(q, m), &cur, m);
    let mut incremental = incremental(&cur, m, n);
    let mut budget = REPAIR_BUDGET;
    repair(&mut incremental, &cur, m, n, &sizes, &mut budget);

    let rank = |own: &[usize]| (score(own, &sizes), moved(own, &cur));
    let best = if rank(&incremental.own) <= rank(&diagonal) {
        incremental.own
    } else {
        diagonal
    };
    best.into_iter().map(|i| names[i].clone()).collect()
}

/// The first partition of every preference list (window of `n` consecutive
/// partitions, wrapping at the end; at most the whole ring) whose owners are
/// not all distinct. Empty for `n <= 1`.
pub fn violations(owners: &[NodeName], n: usize) -> Vec<PartitionId> {
    let q = owners.len();
    let w = n.min(q);
    if w <= 1 {
        return Vec::new();
    }
    (0..q)
        .filter(|&s| (1..w).any(|i| (0..i).any(|j| owners[(s + i) % q] == owners[(s + j) % q])))
        .map(|s| s as PartitionId)
        .collect()
}

/// How many partitions each node owns (nodes owning none are absent).
pub fn balance(owners: &[NodeName]) -> BTreeMap<NodeName, usize> {
    let mut out = BTreeMap::new();
    for o in owners {
        *out.entry(o.clone()).or_insert(0) += 1;
    }
    out
}

/// Number of partitions whose owner differs between `a` and `b` (the
/// handoffs a change from `a` to `b` needs). Both must have the same length.
pub fn moves(a: &[NodeName], b: &[NodeName]) -> usize {
    assert_eq!(a.len(), b.len(), "rings of different sizes");
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

/// The largest `n` for which every window of `n` partitions can have
/// distinct owners on a balanced ring of `ring_size` partitions over `nodes`
/// nodes: `floor(Q / ceil(Q / M))`, capped at `M`. `claim` reaches it.
pub fn max_spacing(ring_size: usize, nodes: usize) -> usize {
    assert!(ring_size > 0 && nodes > 0);
    (ring_size / ring_size.div_ceil(nodes)).min(nodes)
}

/// The diagonal layout: members in a fixed cyclic order, round after round,
/// `ceil(Q/M)` rounds. The `S = rounds*M - Q` surplus slots are dropped:
/// slot `u < S` is dropped from round `rounds - 1 - (u mod rounds)`. Each
/// member is dropped at most once (balance) and any `M - 1` consecutive
/// slots of the walk lose at most `ceil(S / rounds)`, so equal owners stay
/// `M - ceil(S/rounds) = floor(Q / rounds)` apart, the best possible.
fn diagonal(q: usize, m: usize) -> Vec<usize> {
    let rounds = q.div_ceil(m);
    let drop = rounds * m - q;
    let mut out = Vec::with_capacity(q);
    for r in 0..rounds {
        for u in 0..m {
            if !(u < drop && r == rounds - 1 - u % rounds) {
                out.push(u);
            }
        }
    }
    debug_assert_eq!(out.len(), q);
    out
}

/// Rotates and relabels a layout to keep as many partitions with their
/// current owner as possible: every rotation is tried, labels are matched to
/// members greedily by overlap; the first best rotation wins.
fn relabel(layout: &[usize], cur: &[usize], m: usize) -> Vec<usize> {
    let q = layout.len();
    let mut best: Option<(usize, Vec<usize>)> = None;
    let mut overlap = vec![0usize; m * m];
    let mut pairs: Vec<(usize, usize, usize)> = Vec::with_capacity(m * m);
    for shift in 0..q {
        overlap.iter_mut().for_each(|v| *v = 0);
        for (i, &o) in cur.iter().enumerate() {
            if o != NONE {
                overlap[layout[(i + shift) % q] * m + o] += 1;
            }
        }
        pairs.clear();
        pairs.extend(
            (0..m * m)
                .filter(|&k| overlap[k] > 0)
                .map(|k| (overlap[k], k / m, k % m)),
        );
        pairs.sort_by_key(|&(v, l, o)| (Reverse(v), l, o));
        let mut to = vec![NONE; m];
        let mut taken = vec![false; m];
        let mut kept = 0;
        for &(v, l, o) in &pairs {
            if to[l] == NONE && !taken[o] {
                to[l] = o;
                taken[o] = true;
                kept += v;
            }
        }
        let mut free = (0..m).filter(|&o| !taken[o]);
        for t in to.iter_mut().filter(|t| **t == NONE) {
            *t = free.next().expect("as many members as labels");
        }
        if best.as_ref().is_none_or(|(k, _)| kept > *k) {
            let own = (0..q).map(|i| to[layout[(i + shift) % q]]).collect();
            best = Some((kept, own));
        }
    }
    best.expect("a ring has partitions").1
}

/// Ownership under construction, with each member's partitions indexed.
struct Layout {
    own: Vec<usize>,
    parts: Vec<BTreeSet<usize>>,
}

impl Layout {
    fn new(own: Vec<usize>, m: usize) -> Layout {
        let mut parts = vec![BTreeSet::new(); m];
        for (p, &o) in own.iter().enumerate() {
            if o != NONE {
                parts[o].insert(p);
            }
        }
        Layout { own, parts }
    }

    fn count(&self, x: usize) -> usize {
        self.parts[x].len()
    }

    fn set(&mut self, p: usize, x: usize) {
        let old = self.own[p];
        if old != NONE {
            self.parts[old].remove(&p);
        }
        self.own[p] = x;
        self.parts[x].insert(p);
    }

    /// Distance round the ring from `p` to the nearest other partition of
    /// `x`; the ring size if `x` owns no other.
    fn gap(&self, p: usize, x: usize) -> usize {
        let q = self.own.len();
        let set = &self.parts[x];
        let next = set
            .range(p + 1..)
            .next()
            .or_else(|| set.iter().next())
            .filter(|&&s| s != p);
        let prev = set
            .range(..p)
            .next_back()
            .or_else(|| set.iter().next_back())
            .filter(|&&s| s != p);
        match (next, prev) {
            (Some(&a), Some(&b)) => ((a + q - p) % q).min((p + q - b) % q),
            _ => q,
        }
    }
}

/// Keeps every partition whose owner stays within its share; partitions of
/// departed nodes, then surplus partitions, go to members short of their
/// share, each to a place where it is far from the member's other
/// partitions (at least `n` where possible).
fn incremental(cur: &[usize], m: usize, n: usize) -> Layout {
    let q = cur.len();
    let mut lay = Layout::new(cur.to_vec(), m);
    // Shares: the larger ones go to those holding most already.
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by_key(|&x| (Reverse(lay.count(x)), x));
    let mut share = vec![q / m; m];
    for &x in order.iter().take(q % m) {
        share[x] += 1;
    }
    for p in 0..q {
        if lay.own[p] != NONE {
            continue;
        }
        let y = (0..m)
            .filter(|&y| lay.count(y) < share[y])
            .max_by_key(|&y| {
                let g = lay.gap(p, y);
                (g.min(n), share[y] - lay.count(y), g, Reverse(y))
            })
            .expect("free partitions never outnumber the shortfall");
        lay.set(p, y);
    }
    // Newcomers take evenly spaced partitions: the k-th near k*Q/share,
    // nudged to the nearest one whose owner has a surplus and that keeps
    // them `n` apart. Several newcomers start at staggered offsets.
    let newcomers: Vec<usize> = (0..m)
        .filter(|&y| lay.count(y) == 0 && share[y] > 0)
        .collect();
    for (j, &y) in newcomers.iter().enumerate() {
        let d = share[y];
        let offset = j * q / (d * newcomers.len());
        let radius = (q / d / 2).max(1);
        for k in 0..d {
            let target = offset + k * q / d;
            let pick = (0..=radius)
                .flat_map(|r| [(target + r) % q, (target + q - r) % q])
                .filter(|&p| {
                    let x = lay.own[p];
                    lay.count(x) > share[x] && lay.gap(p, y) >= n
                })
                .min_by_key(|&p| {
                    let x = lay.own[p];
                    let off = (p + q - target % q) % q;
                    let crowded = lay.gap(p, x) < n;
                    (
                        off.min(q - off),
                        !crowded,
                        Reverse(lay.count(x) - share[x]),
                        p,
                    )
                });
            if let Some(p) = pick {
                lay.set(p, y);
            }
        }
    }
    while let Some(y) = (0..m)
        .filter(|&y| lay.count(y) < share[y])
        .max_by_key(|&y| (share[y] - lay.count(y), Reverse(y)))
    {
        let p = (0..q)
            .filter(|&p| lay.count(lay.own[p]) > share[lay.own[p]])
            .max_by_key(|&p| {
                let x = lay.own[p];
                let g = lay.gap(p, y);
                let crowded = lay.gap(p, x) < n;
                (g.min(n), crowded, g, lay.count(x) - share[x], Reverse(p))
            })
            .expect("a shortfall implies a surplus");
        lay.set(p, y);
    }
    lay
}

/// Local search: while some partition `p` is closer than `n` to another of
/// the same owner, take the first such `p` (in ring order) that has a change
/// lowering the score, and apply its best: a swap of owners with another
/// partition, or a hand-over from a member at the larger share to one at the
/// smaller; ties are broken by fewer moves, then by scan order. Stops at a local optimum
/// or when the budget is spent.
fn repair(
    lay: &mut Layout,
    cur: &[usize],
    m: usize,
    n: usize,
    sizes: &[usize],
    budget: &mut usize,
) {
    let q = lay.own.len();
    let (lo, hi) = (q / m, q.div_ceil(m));
    let mut search = Search {
        cur,
        sizes,
        delta: vec![0; sizes.len()],
        zero: vec![0; sizes.len()],
        starts: Vec::new(),
        best: None,
    };
    let mut near = vec![false; q];
    loop {
        let crowded: Vec<usize> = (0..q).filter(|&p| lay.gap(p, lay.own[p]) < n).collect();
        if crowded.is_empty() || *budget == 0 {
            return;
        }
        search.best = None;
        for &p in &crowded {
            if *budget == 0 || search.best.is_some() {
                break;
            }
            let x = lay.own[p];
            if hi > lo && lay.count(x) == hi {
                for y in 0..m {
                    if y != x && lay.count(y) == lo {
                        *budget = budget.saturating_sub(EVAL_COST);
                        search.consider(&mut lay.own, &[(p, y)]);
                    }
                }
            }
            // Where `x` could go without a neighbour of its own (besides p).
            near.iter_mut().for_each(|v| *v = false);
            for &s in lay.parts[x].iter().filter(|&&s| s != p) {
                for d in 0..n {
                    near[(s + d) % q] = true;
                    near[(s + q - d) % q] = true;
                }
            }
            for d in 0..n {
                near[(p + d) % q] = false;
                near[(p + q - d) % q] = false;
            }
            *budget = budget.saturating_sub(q);
            for (r, &near_x) in near.iter().enumerate() {
                let z = lay.own[r];
                if z == x || near_x {
                    continue;
                }
                *budget = budget.saturating_sub(EVAL_COST);
                search.consider(&mut lay.own, &[(p, z), (r, x)]);
            }
        }
        if search.best.is_none() {
            rotate_three(lay, &crowded, n, &mut search, budget);
        }
        match search.best.take() {
            Some((_, _, changes)) => {
                for &(p, x) in &changes {
                    lay.set(p, x);
                }
            }
            None => return,
        }
    }
}

/// When no single swap helps: rotations of three owners, `p` (crowded, owner
/// `x`) takes `w` from `s`, `r` takes `x`, `s` takes `z` from `r`, with each
/// landing where it has no neighbour of its own. Stops at the first `r`
/// that yields an improvement.
fn rotate_three(
    lay: &mut Layout,
    crowded: &[usize],
    n: usize,
    search: &mut Search,
    budget: &mut usize,
) {
    let q = lay.own.len();
    let m = lay.parts.len();
    let near_of = |lay: &Layout, x: usize, skip: usize| {
        let mut near = vec![false; q];
        for &s in lay.parts[x].iter().filter(|&&s| s != skip) {
            for d in 0..n {
                near[(s + d) % q] = true;
                near[(s + q - d) % q] = true;
            }
        }
        near
    };
    let nears: Vec<Vec<bool>> = (0..m).map(|z| near_of(lay, z, NONE)).collect();
    for &p in crowded {
        let x = lay.own[p];
        let near_x = near_of(lay, x, p);
        let safe_at_p: Vec<bool> = (0..m).map(|w| w != x && lay.gap(p, w) >= n).collect();
        for (r, &x_near_r) in near_x.iter().enumerate() {
            let z = lay.own[r];
            if z == x || x_near_r || safe_at_p[z] {
                continue;
            }
            *budget = budget.saturating_sub(q);
            for (s, &z_near_s) in nears[z].iter().enumerate() {
                let w = lay.own[s];
                if s == p || s == r || w == z || !safe_at_p[w] || z_near_s {
                    continue;
                }
                *budget = budget.saturating_sub(EVAL_COST);
                search.consider(&mut lay.own, &[(p, w), (r, x), (s, z)]);
            }
            if search.best.is_some() || *budget == 0 {
                return;
            }
        }
    }
}

/// Cost of one candidate evaluation against the repair budget.
const EVAL_COST: usize = 16;

/// A candidate change: (score change, move change, (partition, new owner)s).
type Candidate = (Vec<i64>, i64, Vec<(usize, usize)>);

/// The best candidate change seen by `repair` so far.
struct Search<'a> {
    cur: &'a [usize],
    sizes: &'a [usize],
    delta: Vec<i64>,
    zero: Vec<i64>,
    starts: Vec<usize>,
    best: Option<Candidate>,
}

impl Search<'_> {
    /// Scores `changes[..len]` against `own` (left unchanged) and keeps it
    /// if it beats the best so far and improves on doing nothing.
    fn consider(&mut self, own: &mut [usize], changes: &[(usize, usize)]) {
        let q = own.len();
        let mut old = [NONE; 3];
        let mut dm = 0i64;
        for (k, &(p, x)) in changes.iter().enumerate() {
            old[k] = own[p];
            dm += i64::from(x != self.cur[p]) - i64::from(old[k] != self.cur[p]);
        }
        for (k, &w) in self.sizes.iter().enumerate() {
            self.starts.clear();
            for &(p, _) in changes {
                self.starts.extend((0..w).map(|i| (p + q - i) % q));
            }
            self.starts.sort_unstable();
            self.starts.dedup();
            let count = |own: &[usize], starts: &[usize]| {
                starts.iter().filter(|&&s| bad_window(own, s, w)).count() as i64
            };
            let before = count(own, &self.starts);
            for &(p, x) in changes {
                own[p] = x;
            }
            let after = count(own, &self.starts);
            for (k, &(p, _)) in changes.iter().enumerate().rev() {
                own[p] = old[k];
            }
            self.delta[k] = after - before;
            // Lexicographic: worse at the first size that changed is final.
            if after > before && self.delta[..k].iter().all(|&d| d == 0) {
                return;
            }
        }
        let mine = (self.delta.as_slice(), dm);
        let better = match &self.best {
            None => mine < (self.zero.as_slice(), 0),
            Some((d, bm, _)) => mine < (d.as_slice(), *bm),
        };
        if better {
            self.best = Some((self.delta.clone(), dm, changes.to_vec()));
        }
    }
}

/// Whether the `w` partitions from `s` have a repeated owner.
fn bad_window(own: &[usize], s: usize, w: usize) -> bool {
    let q = own.len();
    (1..w).any(|i| (0..i).any(|j| own[(s + i) % q] == own[(s + j) % q]))
}

/// Bad windows for each size in `sizes`, in that order of priority.
fn score(own: &[usize], sizes: &[usize]) -> Vec<usize> {
    sizes
        .iter()
        .map(|&w| (0..own.len()).filter(|&s| bad_window(own, s, w)).count())
        .collect()
}

fn moved(own: &[usize], cur: &[usize]) -> usize {
    own.iter().zip(cur).filter(|(a, b)| a != b).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SIZES: [usize; 8] = [8, 16, 32, 64, 128, 256, 512, 1024];

    fn names(k: usize) -> Vec<NodeName> {
        (1..=k).map(|i| format!("n{i:02}")).collect()
    }

    /// Smallest distance round the ring between two partitions with the same
    /// owner; the ring size if no owner repeats.
    fn min_gap(owners: &[NodeName]) -> usize {
        let q = owners.len();
        let mut last: BTreeMap<&NodeName, usize> = BTreeMap::new();
        let mut best = q;
        for i in 0..2 * q {
            let o = &owners[i % q];
            if let Some(&j) = last.get(o)
                && i > j
            {
                best = best.min(i - j);
            }
            last.insert(o, i);
        }
        best
    }

    fn assert_balanced(owners: &[NodeName], members: &[NodeName]) {
        let q = owners.len();
        let mut distinct = members.to_vec();
        distinct.sort();
        distinct.dedup();
        let m = distinct.len();
        let counts = balance(owners);
        for (node, &c) in &counts {
            assert!(distinct.contains(node), "{node} is not a member");
            assert!(
                c <= q.div_ceil(m),
                "{node} owns {c} of {q} with {m} members"
            );
        }
        if m <= q {
            for node in &distinct {
                let c = counts.get(node).copied().unwrap_or(0);
                assert!(c >= q / m, "{node} owns {c} of {q} with {m} members");
            }
        }
    }

    /// What `claim` promises about spacing, checked from the outside.
    fn assert_spaced(owners: &[NodeName], m: usize, target: usize) {
        let q = owners.len();
        let n = target.clamp(1, m).min(q);
        let promised = n.min(max_spacing(q, m));
        assert!(
            min_gap(owners) >= promised,
            "owners repeat within {} < {promised} (q={q} m={m} n={n})",
            min_gap(owners)
        );
        if q.div_ceil(m) * n <= q {
            assert!(violations(owners, n).is_empty());
        }
    }

    fn grow(q: usize, upto: usize, target: usize) -> Vec<NodeName> {
        let mut ring = vec!["n01".to_string(); q];
        for k in 2..=upto {
            ring = claim(&ring, &names(k), target);
        }
        ring
    }

    #[test]
    fn single_node_owns_everything() {
        let ring = claim(&names(3), &names(1), 4);
        assert_eq!(ring, vec!["n01".to_string(); 3]);
        let ring = claim(&vec!["x".to_string(); 64], &names(1), 4);
        assert_eq!(balance(&ring).get("n01"), Some(&64));
    }

    #[test]
    #[should_panic(expected = "at least one member")]
    fn no_members_panics() {
        claim(&names(8), &[], 4);
    }

    #[test]
    fn helpers() {
        let ring: Vec<NodeName> = ["a", "b", "a", "c"].map(String::from).to_vec();
        assert_eq!(violations(&ring, 2), Vec::<PartitionId>::new());
        assert_eq!(violations(&ring, 3), vec![0, 2]);
        assert_eq!(violations(&ring, 1), Vec::<PartitionId>::new());
        assert_eq!(violations(&ring, 9).len(), 4);
        assert_eq!(balance(&ring).get("a"), Some(&2));
        assert_eq!(moves(&ring, &names(4)), 4);
        assert_eq!(moves(&ring, &ring), 0);
        assert_eq!(max_spacing(64, 4), 4);
        assert_eq!(max_spacing(64, 3), 2);
        assert_eq!(max_spacing(64, 5), 4);
        assert_eq!(max_spacing(64, 7), 6);
        assert_eq!(max_spacing(8, 6), 4);
        assert_eq!(max_spacing(8, 20), 8);
    }

    #[test]
    fn diagonal_reaches_the_best_possible_spacing() {
        for q in SIZES {
            for m in 1..=40 {
                let layout = diagonal(q, m);
                let owners: Vec<NodeName> = layout.iter().map(|i| format!("{i:03}")).collect();
                let members: Vec<NodeName> = (0..m).map(|i| format!("{i:03}")).collect();
                assert_balanced(&owners, &members);
                let expect = if m >= q { q } else { max_spacing(q, m) };
                assert_eq!(min_gap(&owners), expect, "q={q} m={m}");
            }
        }
    }

    #[test]
    fn with_four_nodes_every_preference_list_is_fully_distinct() {
        for q in SIZES {
            let ring = grow(q, 4, 4);
            assert_balanced(&ring, &names(4));
            assert!(violations(&ring, 4).is_empty(), "q={q}");
        }
    }

    #[test]
    fn three_nodes_repeat_only_at_two_windows() {
        // 3 does not divide a power of two: two windows of 3 must repeat a
        // node (the owner of ceil(Q/3) partitions has too few slots), and
        // no two neighbours share an owner.
        for q in SIZES {
            for target in [3, 4] {
                let ring = grow(q, 3, target);
                assert_eq!(violations(&ring, 3).len(), 2, "q={q}");
                assert!(violations(&ring, 2).is_empty(), "q={q}");
            }
        }
    }

    #[test]
    fn members_are_a_set() {
        let start = grow(64, 5, 4);
        let mut shuffled = names(7);
        shuffled.reverse();
        shuffled.push("n03".into());
        assert_eq!(claim(&start, &names(7), 4), claim(&start, &shuffled, 4));
    }

    #[test]
    fn leaver_gives_up_only_what_it_must() {
        let start = grow(64, 8, 4);
        let rest: Vec<NodeName> = names(8).into_iter().filter(|n| n != "n03").collect();
        let after = claim(&start, &rest, 4);
        assert!(!after.contains(&"n03".to_string()));
        assert_balanced(&after, &rest);
        assert!(violations(&after, 4).is_empty());
        // The leaver's 8 partitions, plus a swap or two to keep the spacing.
        let moved = moves(&start, &after);
        assert!((8..=12).contains(&moved), "{moved}");
    }

    /// Grows a cluster one node at a time, then shrinks it, printing the
    /// table kept in docs/design/claim.md. Joins into a cluster that already
    /// has `target_n_val` nodes move exactly the newcomer's share (the
    /// minimum); leaves down to 7 nodes move at most twice the leaver's share.
    #[test]
    fn growth_and_shrink_table() {
        // Row k: the join of the k-th node, the leave from k nodes to k-1,
        // and bad windows of min(3, k) and min(4, k) partitions after the join.
        println!("ring  nodes  join-moves  share  leave-moves  leaver-share  viol(3)  viol(4)");
        for q in [64usize, 256, 1024] {
            let mut ring = vec!["n01".to_string(); q];
            let mut rows = Vec::new();
            for k in 2..=16 {
                let next = claim(&ring, &names(k), 4);
                let share = balance(&next)[&names(k)[k - 1]];
                let moved = moves(&ring, &next);
                if k > 4 {
                    assert_eq!(moved, share, "q={q} join to {k}");
                }
                assert_balanced(&next, &names(k));
                assert_spaced(&next, k, 4);
                let (v3, v4) = (violations(&next, k.min(3)), violations(&next, k.min(4)));
                rows.push((k, moved, share, v3.len(), v4.len()));
                ring = next;
            }
            let mut leaves = BTreeMap::new();
            for k in (1..16).rev() {
                let share = balance(&ring)[&names(k + 1)[k]];
                let next = claim(&ring, &names(k), 4);
                let moved = moves(&ring, &next);
                assert!(moved >= share);
                if k >= 7 {
                    assert!(
                        moved <= 2 * share,
                        "q={q} leave to {k}: {moved} > 2*{share}"
                    );
                }
                assert_balanced(&next, &names(k));
                assert_spaced(&next, k, 4);
                leaves.insert(k, (moved, share));
                ring = next;
            }
            for (k, moved, share, v3, v4) in rows {
                let (lm, ls) = leaves.get(&(k - 1)).copied().unwrap_or((0, 0));
                println!(
                    "{q:>4}  {k:>5}  {moved:>10}  {share:>5}  {lm:>11}  {ls:>12}  {v3:>7}  {v4:>7}"
                );
            }
        }
    }

    fn pool() -> Vec<NodeName> {
        (0..20).map(|i| format!("node{i:02}")).collect()
    }

    fn arb_case() -> impl Strategy<Value = (Vec<NodeName>, Vec<NodeName>, usize)> {
        (
            prop::sample::select(SIZES.to_vec()),
            prop::collection::btree_set(0usize..20, 1..=16),
            1usize..=5,
            any::<u64>(),
        )
            .prop_map(|(q, members, target, seed)| {
                // A cheap deterministic scramble of owners from the pool.
                let mut x = seed | 1;
                let current: Vec<NodeName> = (0..q)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        pool()[(x % 20) as usize].clone()
                    })
                    .collect();
                let members = members.into_iter().map(|i| pool()[i].clone()).collect();
                (current, members, target)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn any_start_gives_a_balanced_spaced_ring((current, members, target) in arb_case()) {
            let ring = claim(&current, &members, target);
            prop_assert_eq!(ring.len(), current.len());
            assert_balanced(&ring, &members);
            assert_spaced(&ring, members.len(), target);
            let mut reversed = members.clone();
            reversed.reverse();
            prop_assert_eq!(&ring, &claim(&current, &reversed, target));
            // Never worse than the diagonal layout.
            let n = target.clamp(1, members.len());
            let diag = diagonal(current.len(), members.len());
            let diag: Vec<NodeName> = diag.iter().map(|&i| members[i].clone()).collect();
            prop_assert!(violations(&ring, n).len() <= violations(&diag, n).len());
        }

        #[test]
        fn joins_and_leaves_keep_the_promises(
            (current, members, target) in arb_case(),
            ops in prop::collection::vec((any::<bool>(), 0usize..20), 1..5),
        ) {
            let mut members: Vec<NodeName> = members;
            let mut ring = claim(&current, &members, target);
            for (join, i) in ops {
                let node = pool()[i].clone();
                let before = members.clone();
                if join && !members.contains(&node) {
                    members.push(node.clone());
                } else if !join && members.len() > 1 && members.contains(&node) {
                    members.retain(|m| *m != node);
                } else {
                    continue;
                }
                let next = claim(&ring, &members, target);
                assert_balanced(&next, &members);
                assert_spaced(&next, members.len(), target);
                if !join {
                    prop_assert!(!next.contains(&node));
                }
                // A join into a cluster that already reaches its target
                // spacing moves about one share, never a reshuffle.
                let q = ring.len();
                let n = target.clamp(1, before.len());
                if join && n == target && q.div_ceil(before.len()) * target <= q {
                    let share = balance(&next).get(&node).copied().unwrap_or(0);
                    prop_assert!(
                        moves(&ring, &next) <= 2 * share + 2,
                        "q={} m={} join moved {} share {}", q, members.len(), moves(&ring, &next), share
                    );
                }
                ring = next;
            }
        }
    }
}
