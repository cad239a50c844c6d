//! Query-string parsing with Riak's rules and error texts: quorum words and
//! integers (`r`, `w`, `dw`, `rw`, `pr`, `pw`, `node_confirms`), booleans
//! (`basic_quorum`, `notfound_ok`, `asis`), `sync_on_write` and `timeout`.
//! Values are form-decoded (`+` is a space); the first occurrence of a name wins.

use crate::error::HttpError;
use percent_encoding::percent_decode;
use rill_kv::bucket::Quorum;
use std::time::Duration;

/// A decoded query string.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((form_decode_str(name), form_decode_str(value)));
        }
        Query { pairs }
    }

    /// The first value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` was given with exactly `value`.
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.get(name) == Some(value)
    }
}

/// Percent-decodes `s` to bytes, with `+` standing for a space (the
/// `application/x-www-form-urlencoded` rule that clients' `quote_plus` uses).
pub fn form_decode(s: &str) -> Vec<u8> {
    let spaced: Vec<u8> = s
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced).collect()
}

fn form_decode_str(s: &str) -> String {
    String::from_utf8_lossy(&form_decode(s)).into_owned()
}

/// `timeout=<ms>`: a non-negative integer of milliseconds.
pub fn timeout(q: &Query) -> Result<Option<Duration>, HttpError> {
    match q.get("timeout") {
        None => Ok(None),
        Some(v) => match v.parse::<u64>() {
            Ok(ms) => Ok(Some(Duration::from_millis(ms))),
            Err(_) => Err(HttpError::bad_request(format!(
                "Bad timeout value {}\n",
                erlang_string(v)
            ))),
        },
    }
}

/// A quorum parameter; `default` (or absence) means the bucket's value.
pub fn quorum(q: &Query, name: &str) -> Result<Option<Quorum>, HttpError> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => match Quorum::from_query(name, v) {
            Ok(Quorum::Default) => Ok(None),
            Ok(quorum) => Ok(Some(quorum)),
            Err(e) => Err(HttpError::bad_request(format!("{e}\n"))),
        },
    }
}

/// A boolean parameter: `true`, `false` or `default` in any case.
pub fn boolean(q: &Query, name: &str) -> Result<Option<bool>, HttpError> {
    match q.get(name).map(str::to_ascii_lowercase).as_deref() {
        None | Some("default") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(HttpError::bad_request(format!(
            "{name} query parameter must be true or false\n"
        ))),
    }
}

/// The request options every object method accepts, checked in Riak's order
/// so the first bad parameter is the one reported.
#[derive(Debug, Clone, Default)]
pub struct RwParams {
    pub timeout: Option<Duration>,
    pub r: Option<Quorum>,
    pub w: Option<Quorum>,
    pub dw: Option<Quorum>,
    pub rw: Option<Quorum>,
    pub pw: Option<Quorum>,
    pub pr: Option<Quorum>,
    pub basic_quorum: Option<bool>,
    pub notfound_ok: Option<bool>,
}

pub fn rw_params(q: &Query) -> Result<RwParams, HttpError> {
    let timeout = timeout(q)?;
    let r = quorum(q, "r")?;
    let w = quorum(q, "w")?;
    let dw = quorum(q, "dw")?;
    let rw = quorum(q, "rw")?;
    let pw = quorum(q, "pw")?;
    // Accepted and checked; one physical node per replica is a cluster-level
    // property here, so the count is not passed on.
    quorum(q, "node_confirms")?;
    let pr = quorum(q, "pr")?;
    sync_on_write(q)?;
    let basic_quorum = boolean(q, "basic_quorum")?;
    let notfound_ok = boolean(q, "notfound_ok")?;
    boolean(q, "asis")?;
    Ok(RwParams {
        timeout,
        r,
        w,
        dw,
        rw,
        pw,
        pr,
        basic_quorum,
        notfound_ok,
    })
}

/// `sync_on_write`: validated like Riak (3.0.8+); durability is a node
/// setting here, so the value itself is not used.
fn sync_on_write(q: &Query) -> Result<(), HttpError> {
    match q
        .get("sync_on_write")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("default" | "backend" | "one" | "all") => Ok(()),
        Some(_) => Err(HttpError::bad_request(
            "sync_on_write query parameter must be one of the following words: \
             [default,backend,one,all]\n",
        )),
    }
}

/// Renders `s` as Erlang's `~p` prints a printable string: double-quoted,
/// with `"` and `\` escaped.
fn erlang_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_and_first_value() {
        let q = Query::parse(Some("a=1&b=x+y%2Fz&a=2&flag"));
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("b"), Some("x y/z"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("c"), None);
    }

    #[test]
    fn riak_error_texts() {
        let q = Query::parse(Some("r=bogus"));
        let e = rw_params(&q).unwrap_err();
        assert_eq!(
            e.body,
            "r query parameter must be an integer or one of the following words: \
             'one', 'quorum' or 'all'\n"
        );
        let q = Query::parse(Some("timeout=soon"));
        assert_eq!(
            rw_params(&q).unwrap_err().body,
            "Bad timeout value \"soon\"\n"
        );
        let q = Query::parse(Some("notfound_ok=maybe"));
        assert_eq!(
            rw_params(&q).unwrap_err().body,
            "notfound_ok query parameter must be true or false\n"
        );
    }

    #[test]
    fn defaults_and_values() {
        let q = Query::parse(Some(
            "r=default&w=2&pr=quorum&basic_quorum=TRUE&timeout=150",
        ));
        let p = rw_params(&q).unwrap();
        assert_eq!(p.r, None);
        assert_eq!(p.w, Some(Quorum::N(2)));
        assert_eq!(p.pr, Some(Quorum::Quorum));
        assert_eq!(p.basic_quorum, Some(true));
        assert_eq!(p.timeout, Some(Duration::from_millis(150)));
    }
}
