//! Bucket properties in the shape of PB `RpbBucketProps`, without depending on
//! the generated protocol types: the PB service copies fields between
//! [`PbProps`] and its message. Updates go through the same rules as JSON.
//! `dvv_enabled`, `node_confirms` and `sync_on_write` have no PB field.

use super::error::{PropError, PropsError, Reason};
use super::props::{
    BucketProps, CommitHook, Datatype, HLL_PRECISION_RANGE, ModFun, Patch, Phase, Repl,
    apply_patch, datatype_text, err, hll_precision_text, valid_prop_quorum, zero_ok,
};
use super::quorum::Quorum;

/// `RpbModFun`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PbModFun {
    pub module: Vec<u8>,
    pub function: Vec<u8>,
}

/// `RpbCommitHook`: one of `modfun` or `name` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PbCommitHook {
    pub modfun: Option<PbModFun>,
    pub name: Option<Vec<u8>>,
}

/// `RpbBucketProps.RpbReplMode` values.
pub mod repl_mode {
    pub const FALSE: i32 = 0;
    pub const REALTIME: i32 = 1;
    pub const FULLSYNC: i32 = 2;
    pub const TRUE: i32 = 3;
}

/// `RpbBucketProps`, field for field (numbers are the proto tags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PbProps {
    /// 1
    pub n_val: Option<u32>,
    /// 2
    pub allow_mult: Option<bool>,
    /// 3
    pub last_write_wins: Option<bool>,
    /// 4; applied only when `has_precommit` is true, so an empty list clears.
    pub precommit: Vec<PbCommitHook>,
    /// 5
    pub has_precommit: Option<bool>,
    /// 6
    pub postcommit: Vec<PbCommitHook>,
    /// 7
    pub has_postcommit: Option<bool>,
    /// 8
    pub chash_keyfun: Option<PbModFun>,
    /// 9
    pub linkfun: Option<PbModFun>,
    /// 10
    pub old_vclock: Option<u32>,
    /// 11
    pub young_vclock: Option<u32>,
    /// 12
    pub big_vclock: Option<u32>,
    /// 13
    pub small_vclock: Option<u32>,
    /// 14
    pub pr: Option<u32>,
    /// 15
    pub r: Option<u32>,
    /// 16
    pub w: Option<u32>,
    /// 17
    pub pw: Option<u32>,
    /// 18
    pub dw: Option<u32>,
    /// 19
    pub rw: Option<u32>,
    /// 20
    pub basic_quorum: Option<bool>,
    /// 21
    pub notfound_ok: Option<bool>,
    /// 22
    pub backend: Option<Vec<u8>>,
    /// 23
    pub search: Option<bool>,
    /// 24, see [`repl_mode`].
    pub repl: Option<i32>,
    /// 25
    pub search_index: Option<Vec<u8>>,
    /// 26
    pub datatype: Option<Vec<u8>>,
    /// 27
    pub consistent: Option<bool>,
    /// 28
    pub write_once: Option<bool>,
    /// 29
    pub hll_precision: Option<u32>,
}

impl BucketProps {
    /// The `RpbGetBucketResp` props. Optional properties that are unset (and
    /// `consistent`, `write_once`, `search` when false) are left out.
    pub fn to_pb(&self) -> PbProps {
        PbProps {
            n_val: Some(self.n_val),
            allow_mult: Some(self.allow_mult),
            last_write_wins: Some(self.last_write_wins),
            precommit: self.precommit.iter().map(hook_to_pb).collect(),
            has_precommit: Some(true),
            postcommit: self.postcommit.iter().map(hook_to_pb).collect(),
            has_postcommit: Some(true),
            chash_keyfun: Some(modfun_to_pb(&self.chash_keyfun)),
            linkfun: Some(modfun_to_pb(&self.linkfun)),
            old_vclock: Some(self.old_vclock),
            young_vclock: Some(self.young_vclock),
            big_vclock: Some(self.big_vclock),
            small_vclock: Some(self.small_vclock),
            pr: Some(self.pr.to_pb()),
            r: Some(self.r.to_pb()),
            w: Some(self.w.to_pb()),
            pw: Some(self.pw.to_pb()),
            dw: Some(self.dw.to_pb()),
            rw: Some(self.rw.to_pb()),
            basic_quorum: Some(self.basic_quorum),
            notfound_ok: Some(self.notfound_ok),
            backend: self.backend.as_ref().map(|b| b.as_bytes().to_vec()),
            search: self.search.then_some(true),
            repl: self.repl.map(|r| match r {
                Repl::False => repl_mode::FALSE,
                Repl::Realtime => repl_mode::REALTIME,
                Repl::Fullsync => repl_mode::FULLSYNC,
                Repl::True => repl_mode::TRUE,
            }),
            search_index: self.search_index.as_ref().map(|s| s.as_bytes().to_vec()),
            datatype: self.datatype.map(|d| d.as_str().as_bytes().to_vec()),
            consistent: self.consistent.then_some(true),
            write_once: self.write_once.then_some(true),
            hll_precision: self.hll_precision.map(u32::from),
        }
    }

    /// Applies an `RpbSetBucketReq` / `RpbSetBucketTypeReq`: only the fields
    /// present change, under the same rules as [`BucketProps::apply_json_update`].
    pub fn apply_pb_update(&self, pb: &PbProps) -> Result<BucketProps, PropsError> {
        let (patch, errors) = parse_pb(pb);
        apply_patch(self, patch, errors, Phase::Update)
    }
}

fn modfun_to_pb(mf: &ModFun) -> PbModFun {
    PbModFun {
        module: mf.module.as_bytes().to_vec(),
        function: mf.function.as_bytes().to_vec(),
    }
}

fn hook_to_pb(h: &CommitHook) -> PbCommitHook {
    match h {
        CommitHook::ModFun(mf) => PbCommitHook {
            modfun: Some(modfun_to_pb(mf)),
            name: None,
        },
        CommitHook::Name(n) => PbCommitHook {
            modfun: None,
            name: Some(n.as_bytes().to_vec()),
        },
    }
}

fn utf8(bytes: &[u8]) -> Option<String> {
    String::from_utf8(bytes.to_vec()).ok()
}

fn modfun_from_pb(mf: &PbModFun) -> Option<ModFun> {
    Some(ModFun {
        module: utf8(&mf.module)?,
        function: utf8(&mf.function)?,
    })
}

fn hook_from_pb(h: &PbCommitHook) -> Option<CommitHook> {
    match (&h.modfun, &h.name) {
        (Some(mf), _) => modfun_from_pb(mf).map(CommitHook::ModFun),
        (None, Some(name)) => utf8(name).map(CommitHook::Name),
        (None, None) => None,
    }
}

fn parse_pb(pb: &PbProps) -> (Patch, Vec<PropError>) {
    let mut p = Patch::default();
    let mut errors = Vec::new();
    let mut bad = |k: &str, reason: Reason| errors.push(err(k, reason));

    for (k, v, slot) in [
        ("n_val", pb.n_val, &mut p.n_val),
        ("old_vclock", pb.old_vclock, &mut p.old_vclock),
        ("big_vclock", pb.big_vclock, &mut p.big_vclock),
        ("small_vclock", pb.small_vclock, &mut p.small_vclock),
    ] {
        match v {
            Some(0) => bad(k, Reason::Atom("not_integer")),
            Some(n) => *slot = Some(n),
            None => {}
        }
    }
    p.young_vclock = pb.young_vclock;
    p.allow_mult = pb.allow_mult;
    p.last_write_wins = pb.last_write_wins;
    p.basic_quorum = pb.basic_quorum;
    p.notfound_ok = pb.notfound_ok;
    p.search = pb.search;
    p.consistent = pb.consistent;
    p.write_once = pb.write_once;

    for (k, has, hooks) in [
        ("precommit", pb.has_precommit, &pb.precommit),
        ("postcommit", pb.has_postcommit, &pb.postcommit),
    ] {
        if has != Some(true) {
            continue;
        }
        match hooks.iter().map(hook_from_pb).collect::<Option<Vec<_>>>() {
            Some(list) if k == "precommit" => p.precommit = Some(list),
            Some(list) => p.postcommit = Some(list),
            None => bad(k, Reason::Atom("not_valid_hook")),
        }
    }
    for (k, mf) in [("chash_keyfun", &pb.chash_keyfun), ("linkfun", &pb.linkfun)] {
        let Some(mf) = mf else { continue };
        match modfun_from_pb(mf) {
            Some(mf) if k == "chash_keyfun" => p.chash_keyfun = Some(mf),
            Some(mf) => p.linkfun = Some(mf),
            None => bad(k, Reason::Atom("not_valid_modfun")),
        }
    }
    for (k, v) in [
        ("pr", pb.pr),
        ("r", pb.r),
        ("w", pb.w),
        ("pw", pb.pw),
        ("dw", pb.dw),
        ("rw", pb.rw),
    ] {
        let Some(v) = v else { continue };
        let q = Quorum::from_pb(v);
        if valid_prop_quorum(q, zero_ok(k)) {
            p.set_quorum(k, q);
        } else {
            bad(k, Reason::Atom("not_valid_quorum"));
        }
    }
    for (k, v) in [("backend", &pb.backend), ("search_index", &pb.search_index)] {
        let Some(v) = v else { continue };
        match utf8(v) {
            Some(s) if k == "backend" => p.backend = Some(s),
            Some(s) => p.search_index = Some(s),
            None => bad(k, Reason::Atom("not_string")),
        }
    }
    if let Some(repl) = pb.repl {
        match repl {
            repl_mode::FALSE => p.repl = Some(Repl::False),
            repl_mode::REALTIME => p.repl = Some(Repl::Realtime),
            repl_mode::FULLSYNC => p.repl = Some(Repl::Fullsync),
            repl_mode::TRUE => p.repl = Some(Repl::True),
            _ => bad("repl", Reason::Atom("not_valid_repl")),
        }
    }
    if let Some(dt) = &pb.datatype {
        match std::str::from_utf8(dt).ok().and_then(Datatype::parse) {
            Some(d) => p.datatype = Some(d),
            None => bad(
                "datatype",
                Reason::Text(datatype_text(&String::from_utf8_lossy(dt))),
            ),
        }
    }
    if let Some(hp) = pb.hll_precision {
        match u8::try_from(hp)
            .ok()
            .filter(|p| HLL_PRECISION_RANGE.contains(p))
        {
            Some(hp) => p.hll_precision = Some(hp),
            None => bad(
                "hll_precision",
                Reason::Text(hll_precision_text(&hp.to_string())),
            ),
        }
    }
    (p, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bucket::quorum::{PB_ALL, PB_DEFAULT, PB_ONE, PB_QUORUM};

    #[test]
    fn default_type_pb_uses_magic_quorums() {
        let pb = BucketProps::default_type().to_pb();
        assert_eq!(pb.n_val, Some(3));
        assert_eq!(pb.allow_mult, Some(false));
        assert_eq!(pb.r, Some(PB_QUORUM));
        assert_eq!(pb.w, Some(PB_QUORUM));
        assert_eq!(pb.dw, Some(PB_QUORUM));
        assert_eq!(pb.rw, Some(PB_QUORUM));
        assert_eq!(pb.pr, Some(0));
        assert_eq!(pb.pw, Some(0));
        assert_eq!(pb.has_precommit, Some(true));
        assert!(pb.precommit.is_empty());
        assert_eq!(
            pb.chash_keyfun,
            Some(PbModFun {
                module: b"riak_core_util".to_vec(),
                function: b"chash_std_keyfun".to_vec()
            })
        );
        assert_eq!(pb.datatype, None);
        assert_eq!(pb.consistent, None);
        assert_eq!(pb.hll_precision, None);
    }

    #[test]
    fn pb_round_trip_through_update() {
        let mut p = BucketProps::default_type();
        p.n_val = 4;
        p.allow_mult = true;
        p.r = Quorum::One;
        p.w = Quorum::All;
        p.pw = Quorum::N(1);
        p.rw = Quorum::N(2);
        p.precommit = vec![
            CommitHook::ModFun(ModFun::new("m", "f")),
            CommitHook::Name("js".into()),
        ];
        p.postcommit = vec![CommitHook::ModFun(ModFun::new("post", "hook"))];
        p.old_vclock = 100;
        p.young_vclock = 0;
        p.backend = Some("be".into());
        p.search_index = Some("idx".into());
        p.repl = Some(Repl::Realtime);
        let back = BucketProps::default_type()
            .apply_pb_update(&p.to_pb())
            .unwrap();
        assert_eq!(back, p);
        assert_eq!(p.to_pb().r, Some(PB_ONE));
        assert_eq!(p.to_pb().w, Some(PB_ALL));

        let mut hll = BucketProps::new_type_defaults();
        hll.datatype = Some(Datatype::Hll);
        hll.hll_precision = Some(11);
        let pb = hll.to_pb();
        assert_eq!(pb.datatype.as_deref(), Some(&b"hll"[..]));
        assert_eq!(pb.hll_precision, Some(11));
        assert_eq!(hll.apply_pb_update(&pb).unwrap(), hll);
    }

    #[test]
    fn absent_fields_and_hook_flags() {
        let mut base = BucketProps::default_type();
        base.precommit = vec![CommitHook::Name("keep".into())];
        // Hooks without has_precommit are ignored.
        let pb = PbProps {
            n_val: Some(1),
            precommit: vec![],
            ..PbProps::default()
        };
        let new = base.apply_pb_update(&pb).unwrap();
        assert_eq!(new.n_val, 1);
        assert_eq!(new.precommit, base.precommit);
        // With has_precommit an empty list clears them.
        let pb = PbProps {
            has_precommit: Some(true),
            ..PbProps::default()
        };
        assert!(base.apply_pb_update(&pb).unwrap().precommit.is_empty());
    }

    #[test]
    fn pb_validation_errors() {
        let base = BucketProps::default_type();
        let pb = PbProps {
            n_val: Some(0),
            r: Some(0),
            w: Some(PB_DEFAULT),
            dw: Some(0),
            repl: Some(7),
            datatype: Some(b"tree".to_vec()),
            hll_precision: Some(20),
            has_postcommit: Some(true),
            postcommit: vec![PbCommitHook::default()],
            ..PbProps::default()
        };
        let e = base.apply_pb_update(&pb).unwrap_err();
        assert_eq!(e.reason("n_val").unwrap().as_str(), "not_integer");
        assert_eq!(e.reason("r").unwrap().as_str(), "not_valid_quorum");
        assert_eq!(e.reason("w").unwrap().as_str(), "not_valid_quorum");
        assert!(!e.has("dw"));
        assert_eq!(e.reason("repl").unwrap().as_str(), "not_valid_repl");
        assert_eq!(e.reason("postcommit").unwrap().as_str(), "not_valid_hook");
        assert_eq!(
            e.reason("datatype").unwrap().as_str(),
            "tree not supported for bucket datatype property"
        );
        assert!(
            e.reason("hll_precision")
                .unwrap()
                .as_str()
                .starts_with("20 not supported for Hyperloglog")
        );
        let msg = e.to_string();
        assert!(msg.starts_with("Invalid bucket properties: [{n_val,not_integer},"));
        assert!(msg.contains("{datatype,\"tree not supported for bucket datatype property\"}"));
    }

    #[test]
    fn pb_shares_type_rules() {
        let mut sets = BucketProps::new_type_defaults();
        sets.datatype = Some(Datatype::Set);
        let pb = PbProps {
            datatype: Some(b"map".to_vec()),
            allow_mult: Some(false),
            ..PbProps::default()
        };
        let e = sets.apply_pb_update(&pb).unwrap_err();
        assert_eq!(
            e.reason("datatype").unwrap().as_str(),
            "Cannot update datatype on existing bucket"
        );
        assert_eq!(
            e.reason("allow_mult").unwrap().as_str(),
            "Data Type buckets must be allow_mult=true"
        );
        let pb = PbProps {
            last_write_wins: Some(true),
            ..PbProps::default()
        };
        let e = BucketProps::new_type_defaults()
            .apply_pb_update(&pb)
            .unwrap_err();
        assert!(e.has("dvv_enabled"));
    }
}
