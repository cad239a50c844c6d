//! Bucket properties in Riak's HTTP JSON form: the object inside
//! `{"props":{...}}` that `GET .../props` returns and `PUT .../props` takes.
//! Reading checks each value the way Riak does and hands the result to the
//! shared rules in `props.rs`; the HTTP resource owns the envelope, status
//! codes and content types.

use serde_json::{Map, Value};

use super::error::{PropError, PropsError, Reason};
use super::props::{
    BucketProps, CommitHook, Datatype, HLL_PRECISION_RANGE, ModFun, Patch, Phase, Repl,
    SyncOnWrite, apply_patch, datatype_text, err, hll_precision_text, valid_prop_quorum, zero_ok,
};
use super::quorum::Quorum;

impl BucketProps {
    /// The props object of a bucket, as Riak's `GET .../buckets/B/props`
    /// emits it: `name` plus every property (inserted name first, then in key
    /// order; the map may sort keys, which JSON readers ignore).
    pub fn to_json(&self, name: &str) -> Value {
        self.json_object(Some(name))
    }

    /// The props object of a bucket type (`GET /types/T/props`), which Riak
    /// sends without a `name`.
    pub fn to_type_json(&self) -> Value {
        self.json_object(None)
    }

    /// Applies a partial update given as a props object (the value under
    /// `"props"`): only the keys present change. Every invalid value and
    /// every broken rule is reported together.
    pub fn apply_json_update(&self, json: &Value) -> Result<BucketProps, PropsError> {
        let (patch, errors) = parse_object(json)?;
        apply_patch(self, patch, errors, Phase::Update)
    }

    /// Properties of a new bucket type created with the given props object
    /// (`riak admin bucket-type create T '{"props":{...}}'`): the custom-type
    /// defaults overridden by `json`, checked by the creation rules.
    pub fn create_type_from_json(json: &Value) -> Result<BucketProps, PropsError> {
        let (patch, errors) = parse_object(json)?;
        apply_patch(
            &BucketProps::new_type_defaults(),
            patch,
            errors,
            Phase::Create,
        )
    }

    fn json_object(&self, name: Option<&str>) -> Value {
        let mut fields: Vec<(String, Value)> = Vec::with_capacity(40);
        let mut put = |k: &str, v: Value| fields.push((k.to_string(), v));
        if let Some(active) = self.active {
            put("active", Value::Bool(active));
        }
        put("allow_mult", Value::Bool(self.allow_mult));
        if let Some(backend) = &self.backend {
            put("backend", Value::String(backend.clone()));
        }
        put("basic_quorum", Value::Bool(self.basic_quorum));
        put("big_vclock", Value::from(self.big_vclock));
        put("chash_keyfun", modfun_json(&self.chash_keyfun));
        if let Some(claimant) = &self.claimant {
            put("claimant", Value::String(claimant.clone()));
        }
        if self.consistent {
            put("consistent", Value::Bool(true));
        }
        if let Some(dt) = self.datatype {
            put("datatype", Value::String(dt.as_str().to_string()));
        }
        put("dvv_enabled", Value::Bool(self.dvv_enabled));
        put("dw", self.dw.to_json());
        if let Some(p) = self.hll_precision {
            put("hll_precision", Value::from(p));
        }
        put("last_write_wins", Value::Bool(self.last_write_wins));
        put("linkfun", modfun_json(&self.linkfun));
        put("n_val", Value::from(self.n_val));
        put("node_confirms", self.node_confirms.to_json());
        put("notfound_ok", Value::Bool(self.notfound_ok));
        put("old_vclock", Value::from(self.old_vclock));
        put("postcommit", hooks_json(&self.postcommit));
        put("pr", self.pr.to_json());
        put("precommit", hooks_json(&self.precommit));
        put("pw", self.pw.to_json());
        put("r", self.r.to_json());
        if let Some(repl) = self.repl {
            put("repl", repl_json(repl));
        }
        put("rw", self.rw.to_json());
        if self.search {
            put("search", Value::Bool(true));
        }
        if let Some(index) = &self.search_index {
            put("search_index", Value::String(index.clone()));
        }
        put("small_vclock", Value::from(self.small_vclock));
        put(
            "sync_on_write",
            Value::String(self.sync_on_write.as_str().into()),
        );
        put("w", self.w.to_json());
        if self.write_once {
            put("write_once", Value::Bool(true));
        }
        put("young_vclock", Value::from(self.young_vclock));
        for (k, v) in &self.extra {
            fields.push((k.clone(), v.clone()));
        }
        fields.sort_by(|a, b| a.0.cmp(&b.0));

        let mut map = Map::new();
        if let Some(name) = name {
            map.insert("name".into(), Value::String(name.to_string()));
        }
        map.extend(fields);
        Value::Object(map)
    }
}

fn modfun_json(mf: &ModFun) -> Value {
    let mut m = Map::new();
    m.insert("mod".into(), Value::String(mf.module.clone()));
    m.insert("fun".into(), Value::String(mf.function.clone()));
    Value::Object(m)
}

fn hooks_json(hooks: &[CommitHook]) -> Value {
    Value::Array(
        hooks
            .iter()
            .map(|h| match h {
                CommitHook::ModFun(mf) => modfun_json(mf),
                CommitHook::Name(n) => {
                    let mut m = Map::new();
                    m.insert("name".into(), Value::String(n.clone()));
                    Value::Object(m)
                }
            })
            .collect(),
    )
}

fn repl_json(repl: Repl) -> Value {
    match repl {
        Repl::False => Value::Bool(false),
        Repl::True => Value::Bool(true),
        Repl::Realtime => Value::String("realtime".into()),
        Repl::Fullsync => Value::String("fullsync".into()),
    }
}

/// Riak's lenient boolean: JSON booleans, the strings "true"/"false" in any
/// case, and integers (positive is true).
fn coerce_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Value::Number(n) => n
            .as_i64()
            .map(|i| i > 0)
            .or_else(|| n.as_u64().map(|_| true)),
        _ => None,
    }
}

/// How Riak prints a JSON-decoded value with `~p` in its messages:
/// strings as binaries, numbers as themselves.
fn erlang_repr(v: &Value) -> String {
    match v {
        Value::String(s) => format!("<<\"{s}\">>"),
        other => other.to_string(),
    }
}

fn modfun_from_json(v: &Value) -> Option<ModFun> {
    let obj = v.as_object()?;
    Some(ModFun::new(
        obj.get("mod")?.as_str()?,
        obj.get("fun")?.as_str()?,
    ))
}

fn hook_from_json(v: &Value) -> Option<CommitHook> {
    let obj = v.as_object()?;
    if let Some(mf) = modfun_from_json(v) {
        return Some(CommitHook::ModFun(mf));
    }
    Some(CommitHook::Name(obj.get("name")?.as_str()?.to_string()))
}

fn hooks_from_json(v: &Value) -> Option<Vec<CommitHook>> {
    v.as_array()?.iter().map(hook_from_json).collect()
}

fn repl_from_json(v: &Value) -> Option<Repl> {
    match v {
        Value::Bool(false) => Some(Repl::False),
        Value::Bool(true) => Some(Repl::True),
        Value::String(s) => match s.as_str() {
            "false" => Some(Repl::False),
            "true" | "both" => Some(Repl::True),
            "realtime" => Some(Repl::Realtime),
            "fullsync" => Some(Repl::Fullsync),
            _ => None,
        },
        _ => None,
    }
}

fn hll_precision_from_json(v: &Value) -> Option<u8> {
    let n = match v {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse::<u64>().ok()?,
        _ => return None,
    };
    u8::try_from(n)
        .ok()
        .filter(|p| HLL_PRECISION_RANGE.contains(p))
}

fn u32_from_json(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// Reads a props object into a patch plus the value errors found.
fn parse_object(json: &Value) -> Result<(Patch, Vec<PropError>), PropsError> {
    let Some(obj) = json.as_object() else {
        return Err(PropsError::single(
            "props",
            Reason::Text("must be a JSON object".into()),
        ));
    };
    let mut p = Patch::default();
    let mut errors = Vec::new();
    for (key, v) in obj {
        let k = key.as_str();
        let mut bad = |reason: Reason| errors.push(err(k, reason));
        match k {
            "n_val" | "old_vclock" | "big_vclock" | "small_vclock" => {
                match u32_from_json(v).filter(|n| *n > 0) {
                    Some(n) => {
                        let slot = match k {
                            "n_val" => &mut p.n_val,
                            "old_vclock" => &mut p.old_vclock,
                            "big_vclock" => &mut p.big_vclock,
                            _ => &mut p.small_vclock,
                        };
                        *slot = Some(n);
                    }
                    None => bad(Reason::Atom("not_integer")),
                }
            }
            "young_vclock" => match u32_from_json(v) {
                Some(n) => p.young_vclock = Some(n),
                None => bad(Reason::Atom("not_integer")),
            },
            "allow_mult" | "last_write_wins" | "dvv_enabled" | "basic_quorum" | "notfound_ok"
            | "search" | "write_once" => match coerce_bool(v) {
                Some(b) => {
                    let slot = match k {
                        "allow_mult" => &mut p.allow_mult,
                        "last_write_wins" => &mut p.last_write_wins,
                        "dvv_enabled" => &mut p.dvv_enabled,
                        "basic_quorum" => &mut p.basic_quorum,
                        "notfound_ok" => &mut p.notfound_ok,
                        "search" => &mut p.search,
                        _ => &mut p.write_once,
                    };
                    *slot = Some(b);
                }
                None => bad(Reason::Atom("not_boolean")),
            },
            "consistent" => match coerce_bool(v) {
                Some(b) => p.consistent = Some(b),
                None => bad(Reason::Text(format!(
                    "{} is not a valid value for consistent. Use \"true\" or \"false\"",
                    erlang_repr(v)
                ))),
            },
            "r" | "w" | "dw" | "rw" | "pr" | "pw" | "node_confirms" => {
                match Quorum::from_json(v).filter(|q| valid_prop_quorum(*q, zero_ok(k))) {
                    Some(q) => p.set_quorum(k, q),
                    None => bad(Reason::Atom("not_valid_quorum")),
                }
            }
            "sync_on_write" => match v.as_str().and_then(SyncOnWrite::parse) {
                Some(s) => p.sync_on_write = Some(s),
                None => bad(Reason::Atom("not_valid_sync_param")),
            },
            "precommit" | "postcommit" => match hooks_from_json(v) {
                Some(hooks) if k == "precommit" => p.precommit = Some(hooks),
                Some(hooks) => p.postcommit = Some(hooks),
                None => bad(Reason::Atom("not_valid_hook")),
            },
            "chash_keyfun" | "linkfun" => match modfun_from_json(v) {
                Some(mf) if k == "chash_keyfun" => p.chash_keyfun = Some(mf),
                Some(mf) => p.linkfun = Some(mf),
                None => bad(Reason::Atom("not_valid_modfun")),
            },
            "backend" | "search_index" => match v.as_str() {
                Some(s) if k == "backend" => p.backend = Some(s.to_string()),
                Some(s) => p.search_index = Some(s.to_string()),
                None => bad(Reason::Atom("not_string")),
            },
            "repl" => match repl_from_json(v) {
                Some(r) => p.repl = Some(r),
                None => bad(Reason::Atom("not_valid_repl")),
            },
            "datatype" => match v.as_str().and_then(Datatype::parse) {
                Some(dt) => p.datatype = Some(dt),
                None => {
                    let shown = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    bad(Reason::Text(datatype_text(&shown)))
                }
            },
            "hll_precision" => match hll_precision_from_json(v) {
                Some(hp) => p.hll_precision = Some(hp),
                None => bad(Reason::Text(hll_precision_text(&erlang_repr(v)))),
            },
            // Reported by GET, never set by a PUT.
            "name" => {}
            "active" => match v.as_bool() {
                Some(b) => p.active = Some(b),
                None => bad(Reason::Text("Cannot modify active property".into())),
            },
            "claimant" => match v.as_str() {
                Some(s) => p.claimant = Some(s.to_string()),
                None => bad(Reason::Text("Cannot update claimant property".into())),
            },
            _ => p.extra.push((key.clone(), v.clone())),
        }
    }
    Ok((p, errors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn update_err(base: &BucketProps, update: Value) -> PropsError {
        base.apply_json_update(&update)
            .expect_err("update should be rejected")
    }

    fn reason(e: &PropsError, property: &str) -> String {
        e.reason(property)
            .unwrap_or_else(|| panic!("no error for {property} in {e}"))
            .to_string()
    }

    #[test]
    fn default_type_json_matches_riak_get_props() {
        let v = BucketProps::default_type().to_json("b");
        assert_eq!(
            v,
            json!({
                "name": "b",
                "allow_mult": false,
                "basic_quorum": false,
                "big_vclock": 50,
                "chash_keyfun": {"mod": "riak_core_util", "fun": "chash_std_keyfun"},
                "dvv_enabled": false,
                "dw": "quorum",
                "last_write_wins": false,
                "linkfun": {"mod": "riak_kv_wm_link_walker", "fun": "mapreduce_linkfun"},
                "n_val": 3,
                "node_confirms": 0,
                "notfound_ok": true,
                "old_vclock": 86400,
                "postcommit": [],
                "pr": 0,
                "precommit": [],
                "pw": 0,
                "r": "quorum",
                "rw": "quorum",
                "small_vclock": 50,
                "sync_on_write": "backend",
                "w": "quorum",
                "young_vclock": 20
            })
        );
        assert!(
            BucketProps::default_type()
                .to_type_json()
                .get("name")
                .is_none()
        );
    }

    #[test]
    fn typed_props_report_optional_keys() {
        let mut p = BucketProps::new_type_defaults();
        p.datatype = Some(Datatype::Hll);
        p.hll_precision = Some(14);
        p.active = Some(true);
        p.claimant = Some("rill@10.0.0.1".into());
        p.write_once = false;
        p.backend = Some("leveldb_mult".into());
        p.repl = Some(Repl::Fullsync);
        p.precommit = vec![
            CommitHook::ModFun(ModFun::new("my_mod", "validate")),
            CommitHook::Name("Riak.validate".into()),
        ];
        let v = p.to_json("counts");
        assert_eq!(v["datatype"], json!("hll"));
        assert_eq!(v["hll_precision"], json!(14));
        assert_eq!(v["active"], json!(true));
        assert_eq!(v["claimant"], json!("rill@10.0.0.1"));
        assert_eq!(v["backend"], json!("leveldb_mult"));
        assert_eq!(v["repl"], json!("fullsync"));
        assert_eq!(v["allow_mult"], json!(true));
        assert_eq!(
            v["precommit"],
            json!([{"mod": "my_mod", "fun": "validate"}, {"name": "Riak.validate"}])
        );
        assert!(v.get("write_once").is_none());
        assert!(v.get("consistent").is_none());
    }

    #[test]
    fn json_round_trip_through_update() {
        let mut p = BucketProps::default_type();
        p.n_val = 5;
        p.allow_mult = true;
        p.r = Quorum::One;
        p.w = Quorum::N(2);
        p.dw = Quorum::All;
        p.pr = Quorum::Quorum;
        p.node_confirms = Quorum::N(2);
        p.basic_quorum = true;
        p.notfound_ok = false;
        p.sync_on_write = SyncOnWrite::All;
        p.postcommit = vec![CommitHook::ModFun(ModFun::new("hooks", "post"))];
        p.precommit = vec![CommitHook::Name("pre".into())];
        p.young_vclock = 0;
        p.old_vclock = 1000;
        p.backend = Some("fast".into());
        p.search_index = Some("idx".into());
        p.search = true;
        p.repl = Some(Repl::True);
        p.extra.insert("stat_tracked".into(), json!(true));
        let json = p.to_json("b");
        let back = BucketProps::default_type()
            .apply_json_update(&json)
            .unwrap();
        assert_eq!(back, p);
        assert_eq!(back.to_json("b"), json);

        let mut t = BucketProps::new_type_defaults();
        t.datatype = Some(Datatype::Map);
        t.n_val = 2;
        let created = BucketProps::create_type_from_json(&t.to_type_json()).unwrap();
        assert_eq!(created, t);
    }

    #[test]
    fn partial_update_changes_only_given_keys() {
        let base = BucketProps::default_type();
        let new = base
            .apply_json_update(&json!({"n_val": 1, "allow_mult": "TRUE", "r": "all"}))
            .unwrap();
        assert_eq!(
            new,
            BucketProps {
                n_val: 1,
                allow_mult: true,
                r: Quorum::All,
                ..base
            }
        );
    }

    #[test]
    fn riak_lenient_booleans() {
        let base = BucketProps::default_type();
        for (v, want) in [
            (json!("true"), true),
            (json!("False"), false),
            (json!(1), true),
            (json!(0), false),
            (json!(-3), false),
        ] {
            let new = base.apply_json_update(&json!({"notfound_ok": v})).unwrap();
            assert_eq!(new.notfound_ok, want);
        }
        let e = update_err(&base, json!({"allow_mult": "yes", "basic_quorum": null}));
        assert_eq!(reason(&e, "allow_mult"), "not_boolean");
        assert_eq!(reason(&e, "basic_quorum"), "not_boolean");
    }

    #[test]
    fn n_val_must_be_a_positive_integer() {
        let base = BucketProps::default_type();
        for bad in [
            json!("3"),
            json!("three"),
            json!(0),
            json!(-1),
            json!(2.5),
            json!(null),
        ] {
            let e = update_err(&base, json!({"n_val": bad}));
            assert_eq!(reason(&e, "n_val"), "not_integer");
        }
        let e = update_err(&base, json!({"big_vclock": 0, "young_vclock": "x"}));
        assert_eq!(reason(&e, "big_vclock"), "not_integer");
        assert_eq!(reason(&e, "young_vclock"), "not_integer");
    }

    #[test]
    fn quorum_props_are_checked() {
        let base = BucketProps::default_type();
        let e = update_err(
            &base,
            json!({"r": 0, "w": "default", "rw": "two", "dw": -1, "pr": "2"}),
        );
        for k in ["r", "w", "rw", "dw", "pr"] {
            assert_eq!(reason(&e, k), "not_valid_quorum");
        }
        let ok = base
            .apply_json_update(&json!({"dw": 0, "pw": "one", "node_confirms": 2, "r": 1}))
            .unwrap();
        assert_eq!(
            (ok.dw, ok.pw, ok.node_confirms, ok.r),
            (Quorum::N(0), Quorum::One, Quorum::N(2), Quorum::N(1))
        );
    }

    #[test]
    fn all_errors_come_back_together() {
        let base = BucketProps::default_type();
        let e = update_err(
            &base,
            json!({"n_val": "three", "allow_mult": "maybe", "r": "most",
                   "sync_on_write": "never", "chash_keyfun": "x", "precommit": [1]}),
        );
        assert_eq!(e.errors.len(), 6);
        assert_eq!(reason(&e, "sync_on_write"), "not_valid_sync_param");
        assert_eq!(reason(&e, "chash_keyfun"), "not_valid_modfun");
        assert_eq!(reason(&e, "precommit"), "not_valid_hook");
        assert!(e.to_string().starts_with("Invalid bucket properties: ["));
        assert!(e.to_string().contains("{n_val,not_integer}"));
    }

    #[test]
    fn datatype_rules() {
        let e = BucketProps::create_type_from_json(&json!({"datatype": "tree"})).unwrap_err();
        assert_eq!(
            reason(&e, "datatype"),
            "tree not supported for bucket datatype property"
        );
        let e =
            BucketProps::create_type_from_json(&json!({"datatype": "set", "allow_mult": false}))
                .unwrap_err();
        assert_eq!(
            reason(&e, "allow_mult"),
            "Data Type buckets must be allow_mult=true"
        );
        let sets = BucketProps::create_type_from_json(&json!({"datatype": "set"})).unwrap();
        assert_eq!(sets.datatype, Some(Datatype::Set));
        assert_eq!(sets.hll_precision, None);

        let e = update_err(&sets, json!({"datatype": "map"}));
        assert_eq!(
            reason(&e, "datatype"),
            "Cannot update datatype on existing bucket"
        );
        assert!(sets.apply_json_update(&json!({"datatype": "set"})).is_ok());
        let e = update_err(&sets, json!({"allow_mult": false}));
        assert_eq!(
            reason(&e, "allow_mult"),
            "Data Type buckets must be allow_mult=true"
        );
        let e = update_err(&BucketProps::default_type(), json!({"datatype": "map"}));
        assert_eq!(reason(&e, "datatype"), "`datatype` must not be defined.");
    }

    #[test]
    fn hll_precision_rules() {
        let hll = BucketProps::create_type_from_json(&json!({"datatype": "hll"})).unwrap();
        assert_eq!(hll.hll_precision, Some(14));
        let hll12 =
            BucketProps::create_type_from_json(&json!({"datatype": "hll", "hll_precision": "12"}))
                .unwrap();
        assert_eq!(hll12.hll_precision, Some(12));
        for bad in [json!(3), json!(17), json!("x")] {
            let e = BucketProps::create_type_from_json(
                &json!({"datatype": "hll", "hll_precision": bad}),
            )
            .unwrap_err();
            assert!(reason(&e, "hll_precision").contains("not supported for Hyperloglog"));
        }
        let e =
            BucketProps::create_type_from_json(&json!({"datatype": "hll", "hll_precision": "x"}))
                .unwrap_err();
        assert!(reason(&e, "hll_precision").starts_with("<<\"x\">> not supported"));
        assert_eq!(
            hll.apply_json_update(&json!({"hll_precision": 10}))
                .unwrap()
                .hll_precision,
            Some(10)
        );
        let e = update_err(&hll12, json!({"hll_precision": 13}));
        assert!(reason(&e, "hll_precision").starts_with("13 not supported"));
    }

    #[test]
    fn consistent_and_write_once_rules() {
        let e = BucketProps::create_type_from_json(&json!({"consistent": "fals"})).unwrap_err();
        assert_eq!(
            reason(&e, "consistent"),
            "<<\"fals\">> is not a valid value for consistent. Use \"true\" or \"false\""
        );
        let e =
            BucketProps::create_type_from_json(&json!({"consistent": true, "write_once": true}))
                .unwrap_err();
        assert_eq!(
            reason(&e, "consistent"),
            "Write once buckets must be not be consistent=true"
        );
        let e = BucketProps::create_type_from_json(&json!({"write_once": true, "datatype": "map"}))
            .unwrap_err();
        assert_eq!(
            reason(&e, "datatype"),
            "Write once buckets must not have datatype defined"
        );

        let sc = BucketProps::create_type_from_json(&json!({"consistent": true})).unwrap();
        let e = update_err(&sc, json!({"consistent": false, "n_val": 5}));
        assert_eq!(
            reason(&e, "consistent"),
            "cannot update consistent property"
        );
        assert_eq!(
            reason(&e, "n_val"),
            "n_val cannot be modified for existing consistent type"
        );
        let e = update_err(&BucketProps::default_type(), json!({"consistent": true}));
        assert_eq!(
            reason(&e, "consistent"),
            "cannot update consistent property"
        );
        assert!(
            BucketProps::default_type()
                .apply_json_update(&json!({"consistent": false, "write_once": false}))
                .is_ok()
        );

        let w1 = BucketProps::create_type_from_json(&json!({"write_once": true})).unwrap();
        let e = update_err(&w1, json!({"write_once": false}));
        assert_eq!(
            reason(&e, "write_once"),
            "Cannot modify write_once property once set to true"
        );
        let e = update_err(&BucketProps::default_type(), json!({"write_once": true}));
        assert_eq!(
            reason(&e, "write_once"),
            "Cannot set existing bucket type to `write_once`"
        );
    }

    #[test]
    fn last_write_wins_excludes_dvv() {
        let typed = BucketProps::new_type_defaults();
        let e = update_err(&typed, json!({"last_write_wins": true}));
        assert_eq!(
            reason(&e, "dvv_enabled"),
            "If last_write_wins is true, dvv_enabled must be false"
        );
        let lww = typed
            .apply_json_update(&json!({"last_write_wins": true, "dvv_enabled": false}))
            .unwrap();
        assert!(lww.last_write_wins && !lww.dvv_enabled);
    }

    #[test]
    fn read_only_keys() {
        let mut typed = BucketProps::new_type_defaults();
        typed.active = Some(true);
        typed.claimant = Some("rill@a".into());
        // A GET body can be sent straight back.
        let same = typed.apply_json_update(&typed.to_json("b")).unwrap();
        assert_eq!(same, typed);
        let e = update_err(&typed, json!({"active": false, "claimant": "rill@b"}));
        assert_eq!(reason(&e, "active"), "Cannot modify active property");
        assert_eq!(reason(&e, "claimant"), "Cannot update claimant property");
        let renamed = typed.apply_json_update(&json!({"name": "other"})).unwrap();
        assert_eq!(renamed, typed);
    }

    #[test]
    fn unknown_properties_are_kept() {
        let base = BucketProps::default_type();
        let new = base
            .apply_json_update(&json!({"stat_tracked": true, "my_prop": {"a": 1}}))
            .unwrap();
        assert_eq!(new.extra.get("my_prop"), Some(&json!({"a": 1})));
        assert_eq!(new.to_json("b")["stat_tracked"], json!(true));
    }

    #[test]
    fn non_object_is_rejected() {
        let e = update_err(&BucketProps::default_type(), json!([1, 2]));
        assert!(e.has("props"));
    }
}
