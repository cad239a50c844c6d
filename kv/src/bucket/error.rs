//! Errors of the bucket-properties module: rejected property updates, bad
//! quorum query parameters and undecodable stored properties.
//! Each error knows how Riak words it; the HTTP and PB edges only choose the
//! status code or message type.

use std::fmt;

/// Why one property was rejected. Riak reports either a bare atom
/// (`not_integer`) or a sentence; the two render differently on PB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A short machine word, rendered bare in Erlang terms (`not_boolean`).
    Atom(&'static str),
    /// A sentence, rendered as a quoted Erlang string.
    Text(String),
}

impl Reason {
    /// The reason as plain text (the atom's name or the sentence).
    pub fn as_str(&self) -> &str {
        match self {
            Reason::Atom(a) => a,
            Reason::Text(t) => t,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rejected property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropError {
    pub property: String,
    pub reason: Reason,
}

/// Every problem found in one bucket-properties update, in the order found.
/// `Display` is the PB error message (`Invalid bucket properties: [...]`);
/// [`PropsError::to_http_body`] is the HTTP 400 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PropsError {
    pub errors: Vec<PropError>,
}

impl PropsError {
    /// An error about a single property.
    pub fn single(property: &str, reason: Reason) -> Self {
        PropsError {
            errors: vec![PropError {
                property: property.to_string(),
                reason,
            }],
        }
    }

    /// Whether `property` is among the rejected ones.
    pub fn has(&self, property: &str) -> bool {
        self.errors.iter().any(|e| e.property == property)
    }

    /// The reason given for `property`, if it was rejected.
    pub fn reason(&self, property: &str) -> Option<&Reason> {
        self.errors
            .iter()
            .find(|e| e.property == property)
            .map(|e| &e.reason)
    }

    /// The list as an Erlang term, as Riak prints it with `~p` (on one line):
    /// `[{n_val,not_integer},{allow_mult,"Data Type buckets must be allow_mult=true"}]`.
    pub fn to_erlang_term(&self) -> String {
        let mut out = String::from("[");
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            out.push_str(&e.property);
            out.push(',');
            match &e.reason {
                Reason::Atom(a) => out.push_str(a),
                Reason::Text(t) => push_erlang_string(&mut out, t),
            }
            out.push('}');
        }
        out.push(']');
        out
    }

    /// The HTTP 400 body: a JSON object from property to reason, in the order
    /// found, e.g. `{"n_val":"not_integer","allow_mult":"Data Type ..."}`.
    pub fn to_http_body(&self) -> String {
        let mut out = String::from("{");
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&json_string(&e.property));
            out.push(':');
            out.push_str(&json_string(e.reason.as_str()));
        }
        out.push('}');
        out
    }

    /// The same object as [`PropsError::to_http_body`], as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for e in &self.errors {
            map.entry(e.property.clone())
                .or_insert_with(|| serde_json::Value::String(e.reason.as_str().to_string()));
        }
        serde_json::Value::Object(map)
    }
}

impl fmt::Display for PropsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid bucket properties: {}", self.to_erlang_term())
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

fn push_erlang_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A quorum query parameter (`r`, `w`, `pr`, ...) that is neither an integer
/// nor one of the symbolic words. The text is Riak's, without its trailing
/// newline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name} query parameter must be an integer or one of the following words: 'one', 'quorum' or 'all'"
)]
pub struct QuorumParseError {
    pub name: String,
}

/// Stored bucket properties that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum PropsCodecError {
    #[error("empty bucket properties record")]
    Empty,
    #[error("unknown bucket properties format version {0}")]
    UnknownVersion(u8),
    #[error("undecodable bucket properties: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    #[error("unencodable bucket properties: {0}")]
    Encode(#[from] rmp_serde::encode::Error),
}
