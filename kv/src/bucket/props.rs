//! Bucket properties: the value type, Riak's two sets of defaults, the
//! validation rules for creating and updating a bucket type or bucket, and the
//! versioned storage encoding. Reading updates from JSON and PB lives in
//! `json.rs` and `pb.rs`; both funnel into [`apply_patch`] here so the two
//! protocols share one set of rules. Storing props in cluster metadata is left
//! to the bucket-type registry.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{PropError, PropsCodecError, PropsError, Reason};
use super::quorum::{PB_DEFAULT, Quorum};

/// HLL precision a `hll` type gets when none is given.
pub const DEFAULT_HLL_PRECISION: u8 = 14;
/// Smallest and largest HLL precision Riak accepts.
pub const HLL_PRECISION_RANGE: std::ops::RangeInclusive<u8> = 4..=16;

/// Version byte in front of every stored props record.
const STORAGE_VERSION: u8 = 1;

/// An Erlang `{Module, Function}` pair, kept by name only (`chash_keyfun`,
/// `linkfun`, commit hooks).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModFun {
    pub module: String,
    pub function: String,
}

impl ModFun {
    pub fn new(module: &str, function: &str) -> Self {
        ModFun {
            module: module.to_string(),
            function: function.to_string(),
        }
    }
}

/// A pre- or post-commit hook: an Erlang function or a named (JavaScript)
/// function.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommitHook {
    ModFun(ModFun),
    Name(String),
}

/// The CRDT a bucket type is fixed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Datatype {
    Counter,
    Set,
    Map,
    Hll,
    Gset,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::Counter => "counter",
            Datatype::Set => "set",
            Datatype::Map => "map",
            Datatype::Hll => "hll",
            Datatype::Gset => "gset",
        }
    }

    /// Parses Riak's lower-case name.
    pub fn parse(s: &str) -> Option<Datatype> {
        match s {
            "counter" => Some(Datatype::Counter),
            "set" => Some(Datatype::Set),
            "map" => Some(Datatype::Map),
            "hll" => Some(Datatype::Hll),
            "gset" => Some(Datatype::Gset),
            _ => None,
        }
    }
}

/// `sync_on_write`: whether a put forces a flush to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SyncOnWrite {
    /// Leave it to the backend's configuration.
    Backend,
    /// Sync on the coordinating vnode only.
    One,
    /// Sync on every vnode.
    All,
}

impl SyncOnWrite {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncOnWrite::Backend => "backend",
            SyncOnWrite::One => "one",
            SyncOnWrite::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<SyncOnWrite> {
        match s {
            "backend" => Some(SyncOnWrite::Backend),
            "one" => Some(SyncOnWrite::One),
            "all" => Some(SyncOnWrite::All),
            _ => None,
        }
    }
}

/// `repl`: multi-datacenter replication mode (kept and reported only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Repl {
    False,
    Realtime,
    Fullsync,
    True,
}

/// Every property of a bucket or bucket type.
///
/// `consistent`, `write_once` and `search` are reported only when true;
/// `active` and `claimant` belong to bucket types and are set by the type
/// registry, never by a props update. `extra` keeps properties Rill does not
/// know, as given, so they read back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BucketProps {
    pub n_val: u32,
    pub allow_mult: bool,
    pub last_write_wins: bool,
    pub dvv_enabled: bool,
    pub r: Quorum,
    pub w: Quorum,
    pub dw: Quorum,
    pub rw: Quorum,
    pub pr: Quorum,
    pub pw: Quorum,
    pub node_confirms: Quorum,
    pub basic_quorum: bool,
    pub notfound_ok: bool,
    pub sync_on_write: SyncOnWrite,
    pub precommit: Vec<CommitHook>,
    pub postcommit: Vec<CommitHook>,
    pub chash_keyfun: ModFun,
    pub linkfun: ModFun,
    pub old_vclock: u32,
    pub young_vclock: u32,
    pub big_vclock: u32,
    pub small_vclock: u32,
    pub backend: Option<String>,
    pub datatype: Option<Datatype>,
    pub hll_precision: Option<u8>,
    pub consistent: bool,
    pub write_once: bool,
    pub search_index: Option<String>,
    pub search: bool,
    pub repl: Option<Repl>,
    pub active: Option<bool>,
    pub claimant: Option<String>,
    pub extra: BTreeMap<String, Value>,
}

impl Default for BucketProps {
    fn default() -> Self {
        BucketProps::default_type()
    }
}

impl BucketProps {
    /// Properties of Riak's `default` bucket type (legacy buckets):
    /// no siblings, no DVV, n_val 3, quorum reads and writes.
    pub fn default_type() -> Self {
        BucketProps {
            n_val: 3,
            allow_mult: false,
            last_write_wins: false,
            dvv_enabled: false,
            r: Quorum::Quorum,
            w: Quorum::Quorum,
            dw: Quorum::Quorum,
            rw: Quorum::Quorum,
            pr: Quorum::N(0),
            pw: Quorum::N(0),
            node_confirms: Quorum::N(0),
            basic_quorum: false,
            notfound_ok: true,
            sync_on_write: SyncOnWrite::Backend,
            precommit: Vec::new(),
            postcommit: Vec::new(),
            chash_keyfun: ModFun::new("riak_core_util", "chash_std_keyfun"),
            linkfun: ModFun::new("riak_kv_wm_link_walker", "mapreduce_linkfun"),
            old_vclock: 86400,
            young_vclock: 20,
            big_vclock: 50,
            small_vclock: 50,
            backend: None,
            datatype: None,
            hll_precision: None,
            consistent: false,
            write_once: false,
            search_index: None,
            search: false,
            repl: None,
            active: None,
            claimant: None,
            extra: BTreeMap::new(),
        }
    }

    /// Defaults of a newly created custom bucket type: as the default type
    /// but with siblings and DVV on.
    pub fn new_type_defaults() -> Self {
        BucketProps {
            allow_mult: true,
            dvv_enabled: true,
            ..BucketProps::default_type()
        }
    }

    /// Encodes for storage: a version byte, then MessagePack with field names.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PropsCodecError> {
        let mut out = vec![STORAGE_VERSION];
        out.extend(rmp_serde::to_vec_named(self)?);
        Ok(out)
    }

    /// Decodes what [`BucketProps::to_bytes`] wrote. Fields missing from an
    /// older record take the default type's values.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PropsCodecError> {
        match bytes.split_first() {
            None => Err(PropsCodecError::Empty),
            Some((&STORAGE_VERSION, rest)) => Ok(rmp_serde::from_slice(rest)?),
            Some((&v, _)) => Err(PropsCodecError::UnknownVersion(v)),
        }
    }
}

/// Checks a complete set of properties for a bucket type being created:
/// data types need `allow_mult`, `write_once` excludes `consistent` and
/// `datatype`, HLL precision is in range, and `last_write_wins` excludes
/// `dvv_enabled`.
pub fn validate_create(new: &BucketProps) -> Result<(), PropsError> {
    into_result(dedupe(invariant_errors(new)))
}

/// Checks an update of an existing bucket type (or of a bucket in it) from
/// `old` to `new`: `datatype`, `consistent` and `write_once` cannot change,
/// a consistent type keeps its n_val, HLL precision can only go down, and
/// the creation invariants still hold.
pub fn validate_type_update(old: &BucketProps, new: &BucketProps) -> Result<(), PropsError> {
    into_result(dedupe(update_errors(old, new)))
}

/// Rejects the bucket-type name Riak reserves.
pub fn validate_type_name(name: &str) -> Result<(), PropsError> {
    if name == "any" {
        Err(PropsError::single(
            "reserved_name",
            Reason::Text("The name 'any' may not be used for bucket types".into()),
        ))
    } else {
        Ok(())
    }
}

fn into_result(errors: Vec<PropError>) -> Result<(), PropsError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(PropsError { errors })
    }
}

/// Keeps the first error per property, as later rules often restate an
/// earlier complaint.
fn dedupe(errors: Vec<PropError>) -> Vec<PropError> {
    let mut seen = HashSet::new();
    errors
        .into_iter()
        .filter(|e| seen.insert(e.property.clone()))
        .collect()
}

pub(crate) fn err(property: &str, reason: Reason) -> PropError {
    PropError {
        property: property.to_string(),
        reason,
    }
}

fn text(property: &str, s: &str) -> PropError {
    err(property, Reason::Text(s.to_string()))
}

pub(crate) fn hll_precision_text(shown: &str) -> String {
    format!(
        "{shown} not supported for Hyperloglog precision property for bucket type. \
         Precision must be an integer between 4 and 16, inclusive (3 < p < 17) and \
         precision can be reduced but never increased after initial setting"
    )
}

pub(crate) fn datatype_text(shown: &str) -> String {
    format!("{shown} not supported for bucket datatype property")
}

fn invariant_errors(p: &BucketProps) -> Vec<PropError> {
    let mut errors = Vec::new();
    if p.datatype.is_some() && !p.allow_mult {
        errors.push(text(
            "allow_mult",
            "Data Type buckets must be allow_mult=true",
        ));
    }
    if p.write_once && p.datatype.is_some() {
        errors.push(text(
            "datatype",
            "Write once buckets must not have datatype defined",
        ));
    }
    if p.write_once && p.consistent {
        errors.push(text(
            "consistent",
            "Write once buckets must be not be consistent=true",
        ));
    }
    if let Some(hp) = p.hll_precision
        && !HLL_PRECISION_RANGE.contains(&hp)
    {
        errors.push(err(
            "hll_precision",
            Reason::Text(hll_precision_text(&hp.to_string())),
        ));
    }
    if p.last_write_wins && p.dvv_enabled {
        errors.push(text(
            "dvv_enabled",
            "If last_write_wins is true, dvv_enabled must be false",
        ));
    }
    errors
}

fn update_errors(old: &BucketProps, new: &BucketProps) -> Vec<PropError> {
    let mut errors = Vec::new();
    match (old.datatype, new.datatype) {
        (None, Some(_)) if old.write_once => errors.push(text(
            "datatype",
            "Write once buckets must not have datatype defined",
        )),
        (None, Some(_)) => errors.push(text("datatype", "`datatype` must not be defined.")),
        (Some(a), b) if Some(a) != b => errors.push(text(
            "datatype",
            "Cannot update datatype on existing bucket",
        )),
        _ => {}
    }
    match (old.consistent, new.consistent) {
        (true, false) => errors.push(text("consistent", "cannot update consistent property")),
        (false, true) if old.write_once => errors.push(text(
            "consistent",
            "Write once buckets must not be consistent=true",
        )),
        (false, true) => errors.push(text("consistent", "cannot update consistent property")),
        _ => {}
    }
    if old.consistent && old.n_val != new.n_val {
        errors.push(text(
            "n_val",
            "n_val cannot be modified for existing consistent type",
        ));
    }
    match (old.write_once, new.write_once) {
        (true, false) => errors.push(text(
            "write_once",
            "Cannot modify write_once property once set to true",
        )),
        (false, true) => errors.push(text(
            "write_once",
            "Cannot set existing bucket type to `write_once`",
        )),
        _ => {}
    }
    if let (Some(o), Some(n)) = (old.hll_precision, new.hll_precision)
        && n > o
    {
        errors.push(err(
            "hll_precision",
            Reason::Text(hll_precision_text(&n.to_string())),
        ));
    }
    errors.extend(invariant_errors(new));
    errors
}

/// Whether a quorum may be stored as a bucket property. `r`, `w` and `rw`
/// need at least one reply; `dw`, `pr`, `pw` and `node_confirms` may be 0.
/// `default` is a request-only value, and integers in the PB magic range
/// would read back as words.
pub(crate) fn valid_prop_quorum(q: Quorum, zero_ok: bool) -> bool {
    match q {
        Quorum::Default => false,
        Quorum::N(0) => zero_ok,
        Quorum::N(n) => n < PB_DEFAULT,
        Quorum::One | Quorum::Quorum | Quorum::All => true,
    }
}

/// Whether a quorum property accepts 0.
pub(crate) fn zero_ok(property: &str) -> bool {
    matches!(property, "dw" | "pr" | "pw" | "node_confirms")
}

/// Which kind of change a patch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// A new bucket type; `active` and `claimant` are the registry's business.
    Create,
    /// An existing bucket type or bucket.
    Update,
}

/// A parsed, value-checked partial update: only given properties are `Some`.
#[derive(Debug, Default)]
pub(crate) struct Patch {
    pub n_val: Option<u32>,
    pub allow_mult: Option<bool>,
    pub last_write_wins: Option<bool>,
    pub dvv_enabled: Option<bool>,
    pub r: Option<Quorum>,
    pub w: Option<Quorum>,
    pub dw: Option<Quorum>,
    pub rw: Option<Quorum>,
    pub pr: Option<Quorum>,
    pub pw: Option<Quorum>,
    pub node_confirms: Option<Quorum>,
    pub basic_quorum: Option<bool>,
    pub notfound_ok: Option<bool>,
    pub sync_on_write: Option<SyncOnWrite>,
    pub precommit: Option<Vec<CommitHook>>,
    pub postcommit: Option<Vec<CommitHook>>,
    pub chash_keyfun: Option<ModFun>,
    pub linkfun: Option<ModFun>,
    pub old_vclock: Option<u32>,
    pub young_vclock: Option<u32>,
    pub big_vclock: Option<u32>,
    pub small_vclock: Option<u32>,
    pub backend: Option<String>,
    pub datatype: Option<Datatype>,
    pub hll_precision: Option<u8>,
    pub consistent: Option<bool>,
    pub write_once: Option<bool>,
    pub search_index: Option<String>,
    pub search: Option<bool>,
    pub repl: Option<Repl>,
    pub active: Option<bool>,
    pub claimant: Option<String>,
    pub extra: Vec<(String, Value)>,
}

impl Patch {
    /// Sets a quorum property by name (one of the seven quorum names).
    pub fn set_quorum(&mut self, property: &str, q: Quorum) {
        let slot = match property {
            "r" => &mut self.r,
            "w" => &mut self.w,
            "dw" => &mut self.dw,
            "rw" => &mut self.rw,
            "pr" => &mut self.pr,
            "pw" => &mut self.pw,
            "node_confirms" => &mut self.node_confirms,
            _ => return,
        };
        *slot = Some(q);
    }
}

/// Applies a patch to `base` under the rules of `phase`, adding rule
/// violations to the value errors the parser already found. Returns every
/// error or the merged properties.
pub(crate) fn apply_patch(
    base: &BucketProps,
    patch: Patch,
    mut errors: Vec<PropError>,
    phase: Phase,
) -> Result<BucketProps, PropsError> {
    if let Some(active) = patch.active {
        let unchanged = base.active == Some(active);
        let allowed = match phase {
            Phase::Create => !active,
            Phase::Update => active || unchanged,
        };
        if !allowed {
            errors.push(text("active", "Cannot modify active property"));
        }
    }
    if let Some(claimant) = &patch.claimant
        && phase == Phase::Update
        && base.claimant.as_ref() != Some(claimant)
    {
        errors.push(text("claimant", "Cannot update claimant property"));
    }

    let mut new = base.clone();
    macro_rules! take {
        ($($field:ident),*) => {
            $(if let Some(v) = patch.$field { new.$field = v; })*
        };
    }
    take!(
        n_val,
        allow_mult,
        last_write_wins,
        dvv_enabled,
        r,
        w,
        dw,
        rw,
        pr,
        pw,
        node_confirms,
        basic_quorum,
        notfound_ok,
        sync_on_write,
        precommit,
        postcommit,
        chash_keyfun,
        linkfun,
        old_vclock,
        young_vclock,
        big_vclock,
        small_vclock,
        consistent,
        write_once,
        search
    );
    macro_rules! take_opt {
        ($($field:ident),*) => {
            $(if let Some(v) = patch.$field { new.$field = Some(v); })*
        };
    }
    take_opt!(backend, datatype, hll_precision, search_index, repl);
    for (k, v) in patch.extra {
        new.extra.insert(k, v);
    }
    if new.datatype == Some(Datatype::Hll) && new.hll_precision.is_none() {
        new.hll_precision = Some(DEFAULT_HLL_PRECISION);
    }

    match phase {
        Phase::Create => errors.extend(invariant_errors(&new)),
        Phase::Update => errors.extend(update_errors(base, &new)),
    }
    let errors = dedupe(errors);
    if errors.is_empty() {
        Ok(new)
    } else {
        Err(PropsError { errors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(e: &PropsError, property: &str) -> String {
        e.reason(property)
            .unwrap_or_else(|| panic!("no error for {property} in {e}"))
            .to_string()
    }

    #[test]
    fn default_type_matches_riak() {
        let p = BucketProps::default_type();
        assert_eq!(p.n_val, 3);
        assert!(!p.allow_mult);
        assert!(!p.dvv_enabled);
        assert!(!p.last_write_wins);
        for q in [p.r, p.w, p.dw, p.rw] {
            assert_eq!(q, Quorum::Quorum);
        }
        assert_eq!(p.pr, Quorum::N(0));
        assert_eq!(p.pw, Quorum::N(0));
        assert_eq!(p.node_confirms, Quorum::N(0));
        assert!(!p.basic_quorum);
        assert!(p.notfound_ok);
        assert_eq!(p.sync_on_write, SyncOnWrite::Backend);
        assert!(p.precommit.is_empty() && p.postcommit.is_empty());
        assert_eq!(
            p.chash_keyfun,
            ModFun::new("riak_core_util", "chash_std_keyfun")
        );
        assert_eq!(
            p.linkfun,
            ModFun::new("riak_kv_wm_link_walker", "mapreduce_linkfun")
        );
        assert_eq!(
            (p.old_vclock, p.young_vclock, p.big_vclock, p.small_vclock),
            (86400, 20, 50, 50)
        );
        assert_eq!(p.datatype, None);
        assert_eq!(p.hll_precision, None);
        assert!(!p.consistent && !p.write_once);
        assert_eq!(p.backend, None);
        assert!(validate_create(&p).is_ok());
    }

    #[test]
    fn custom_type_defaults_turn_on_siblings_and_dvv() {
        let p = BucketProps::new_type_defaults();
        assert!(p.allow_mult);
        assert!(p.dvv_enabled);
        let rest = BucketProps {
            allow_mult: false,
            dvv_enabled: false,
            ..p.clone()
        };
        assert_eq!(rest, BucketProps::default_type());
        assert!(validate_create(&p).is_ok());
    }

    #[test]
    fn storage_round_trip_is_versioned() {
        let mut p = BucketProps::new_type_defaults();
        p.datatype = Some(Datatype::Hll);
        p.hll_precision = Some(12);
        p.precommit = vec![
            CommitHook::ModFun(ModFun::new("m", "f")),
            CommitHook::Name("js".into()),
        ];
        p.r = Quorum::N(2);
        p.repl = Some(Repl::Realtime);
        p.claimant = Some("rill@127.0.0.1".into());
        p.active = Some(true);
        p.extra
            .insert("custom".into(), serde_json::json!({"a": [1, "x", true]}));
        let bytes = p.to_bytes().unwrap();
        assert_eq!(bytes[0], 1);
        assert_eq!(BucketProps::from_bytes(&bytes).unwrap(), p);
        assert!(matches!(
            BucketProps::from_bytes(&[9, 1, 2]),
            Err(PropsCodecError::UnknownVersion(9))
        ));
        assert!(matches!(
            BucketProps::from_bytes(&[]),
            Err(PropsCodecError::Empty)
        ));
    }

    #[test]
    fn create_rejects_datatype_without_allow_mult() {
        let mut p = BucketProps::default_type();
        p.datatype = Some(Datatype::Map);
        let e = validate_create(&p).unwrap_err();
        assert_eq!(
            reason(&e, "allow_mult"),
            "Data Type buckets must be allow_mult=true"
        );
    }

    #[test]
    fn create_rejects_write_once_with_consistent_or_datatype() {
        let mut p = BucketProps::new_type_defaults();
        p.write_once = true;
        p.consistent = true;
        p.datatype = Some(Datatype::Set);
        let e = validate_create(&p).unwrap_err();
        assert_eq!(
            reason(&e, "consistent"),
            "Write once buckets must be not be consistent=true"
        );
        assert_eq!(
            reason(&e, "datatype"),
            "Write once buckets must not have datatype defined"
        );
    }

    #[test]
    fn create_rejects_lww_with_dvv() {
        let mut p = BucketProps::new_type_defaults();
        p.last_write_wins = true;
        let e = validate_create(&p).unwrap_err();
        assert_eq!(
            reason(&e, "dvv_enabled"),
            "If last_write_wins is true, dvv_enabled must be false"
        );
    }

    #[test]
    fn create_rejects_hll_precision_out_of_range() {
        let mut p = BucketProps::new_type_defaults();
        p.datatype = Some(Datatype::Hll);
        p.hll_precision = Some(17);
        let e = validate_create(&p).unwrap_err();
        assert!(reason(&e, "hll_precision").starts_with("17 not supported for Hyperloglog"));
    }

    #[test]
    fn type_update_keeps_datatype() {
        let mut old = BucketProps::new_type_defaults();
        old.datatype = Some(Datatype::Set);
        let mut new = old.clone();
        new.datatype = Some(Datatype::Map);
        let e = validate_type_update(&old, &new).unwrap_err();
        assert_eq!(
            reason(&e, "datatype"),
            "Cannot update datatype on existing bucket"
        );

        let plain = BucketProps::new_type_defaults();
        let mut added = plain.clone();
        added.datatype = Some(Datatype::Counter);
        let e = validate_type_update(&plain, &added).unwrap_err();
        assert_eq!(reason(&e, "datatype"), "`datatype` must not be defined.");

        let mut no_mult = old.clone();
        no_mult.allow_mult = false;
        let e = validate_type_update(&old, &no_mult).unwrap_err();
        assert_eq!(
            reason(&e, "allow_mult"),
            "Data Type buckets must be allow_mult=true"
        );
        assert!(validate_type_update(&old, &old.clone()).is_ok());
    }

    #[test]
    fn type_update_keeps_consistent_and_its_n_val() {
        let mut old = BucketProps::new_type_defaults();
        old.consistent = true;
        let mut new = old.clone();
        new.consistent = false;
        new.n_val = 5;
        let e = validate_type_update(&old, &new).unwrap_err();
        assert_eq!(
            reason(&e, "consistent"),
            "cannot update consistent property"
        );
        assert_eq!(
            reason(&e, "n_val"),
            "n_val cannot be modified for existing consistent type"
        );

        let plain = BucketProps::new_type_defaults();
        let mut made = plain.clone();
        made.consistent = true;
        let e = validate_type_update(&plain, &made).unwrap_err();
        assert_eq!(
            reason(&e, "consistent"),
            "cannot update consistent property"
        );

        let mut n5 = plain.clone();
        n5.n_val = 5;
        assert!(validate_type_update(&plain, &n5).is_ok());
    }

    #[test]
    fn type_update_keeps_write_once() {
        let mut old = BucketProps::new_type_defaults();
        old.write_once = true;
        let mut new = old.clone();
        new.write_once = false;
        let e = validate_type_update(&old, &new).unwrap_err();
        assert_eq!(
            reason(&e, "write_once"),
            "Cannot modify write_once property once set to true"
        );

        let mut consistent = old.clone();
        consistent.consistent = true;
        let e = validate_type_update(&old, &consistent).unwrap_err();
        assert_eq!(
            reason(&e, "consistent"),
            "Write once buckets must not be consistent=true"
        );

        let plain = BucketProps::new_type_defaults();
        let e = validate_type_update(&plain, &old).unwrap_err();
        assert_eq!(
            reason(&e, "write_once"),
            "Cannot set existing bucket type to `write_once`"
        );
    }

    #[test]
    fn hll_precision_only_decreases() {
        let mut old = BucketProps::new_type_defaults();
        old.datatype = Some(Datatype::Hll);
        old.hll_precision = Some(14);
        let mut lower = old.clone();
        lower.hll_precision = Some(12);
        assert!(validate_type_update(&old, &lower).is_ok());
        let mut higher = old.clone();
        higher.hll_precision = Some(15);
        let e = validate_type_update(&old, &higher).unwrap_err();
        assert_eq!(
            reason(&e, "hll_precision"),
            "15 not supported for Hyperloglog precision property for bucket type. \
             Precision must be an integer between 4 and 16, inclusive (3 < p < 17) and \
             precision can be reduced but never increased after initial setting"
        );
    }

    #[test]
    fn reserved_type_name() {
        assert!(validate_type_name("maps").is_ok());
        let e = validate_type_name("any").unwrap_err();
        assert_eq!(
            reason(&e, "reserved_name"),
            "The name 'any' may not be used for bucket types"
        );
    }

    #[test]
    fn error_renderings() {
        let e = PropsError {
            errors: vec![
                err("n_val", Reason::Atom("not_integer")),
                text("allow_mult", "Data Type buckets must be allow_mult=true"),
            ],
        };
        assert_eq!(
            e.to_string(),
            "Invalid bucket properties: [{n_val,not_integer},\
             {allow_mult,\"Data Type buckets must be allow_mult=true\"}]"
        );
        assert_eq!(
            e.to_http_body(),
            r#"{"n_val":"not_integer","allow_mult":"Data Type buckets must be allow_mult=true"}"#
        );
        assert_eq!(
            e.to_json(),
            serde_json::json!({"n_val": "not_integer",
                               "allow_mult": "Data Type buckets must be allow_mult=true"})
        );
    }
}
