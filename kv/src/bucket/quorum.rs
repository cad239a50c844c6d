//! Quorum values (`r`, `w`, `dw`, `rw`, `pr`, `pw`, `node_confirms`) in every
//! spelling Riak accepts: HTTP query words, PB magic integers and props JSON.
//! Resolution to a count against an n_val lives here too; checking the count
//! against n_val (`n_val_violation`) is left to the request coordinators.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::QuorumParseError;

/// PB encoding of `one`.
pub const PB_ONE: u32 = 4_294_967_294;
/// PB encoding of `quorum`.
pub const PB_QUORUM: u32 = 4_294_967_293;
/// PB encoding of `all`.
pub const PB_ALL: u32 = 4_294_967_292;
/// PB encoding of `default`.
pub const PB_DEFAULT: u32 = 4_294_967_291;

/// A symbolic or numeric quorum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quorum {
    One,
    Quorum,
    All,
    /// Use the bucket's value. Valid in requests, never as a bucket property.
    Default,
    N(u32),
}

impl Quorum {
    /// Parses a query-string value as Riak's HTTP resources do: a decimal
    /// integer or one of the lower-case words `one`, `quorum`, `all`,
    /// `default`. `name` is the parameter, used in the error text.
    pub fn from_query(name: &str, value: &str) -> Result<Quorum, QuorumParseError> {
        match value {
            "one" => Ok(Quorum::One),
            "quorum" => Ok(Quorum::Quorum),
            "all" => Ok(Quorum::All),
            "default" => Ok(Quorum::Default),
            v => v
                .parse::<u32>()
                .map(Quorum::N)
                .map_err(|_| QuorumParseError {
                    name: name.to_string(),
                }),
        }
    }

    /// Decodes a PB `uint32` quorum, mapping the magic values.
    pub fn from_pb(value: u32) -> Quorum {
        match value {
            PB_ONE => Quorum::One,
            PB_QUORUM => Quorum::Quorum,
            PB_ALL => Quorum::All,
            PB_DEFAULT => Quorum::Default,
            n => Quorum::N(n),
        }
    }

    /// Encodes as a PB `uint32`, symbolic values as the magic integers.
    pub fn to_pb(self) -> u32 {
        match self {
            Quorum::One => PB_ONE,
            Quorum::Quorum => PB_QUORUM,
            Quorum::All => PB_ALL,
            Quorum::Default => PB_DEFAULT,
            Quorum::N(n) => n,
        }
    }

    /// Reads a props-JSON value: a non-negative integer or one of the strings
    /// `one`, `quorum`, `all`, `default`. Anything else is `None`; whether a
    /// value is allowed for a given property is the props validator's call.
    pub fn from_json(value: &Value) -> Option<Quorum> {
        match value {
            Value::Number(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Quorum::N),
            Value::String(s) => match s.as_str() {
                "one" => Some(Quorum::One),
                "quorum" => Some(Quorum::Quorum),
                "all" => Some(Quorum::All),
                "default" => Some(Quorum::Default),
                _ => None,
            },
            _ => None,
        }
    }

    /// Renders as Riak's props JSON does: words as strings, numbers as integers.
    pub fn to_json(self) -> Value {
        match self {
            Quorum::N(n) => Value::from(n),
            symbolic => Value::String(symbolic.word().unwrap_or_default().to_string()),
        }
    }

    /// The symbolic word, or `None` for a number.
    pub fn word(self) -> Option<&'static str> {
        match self {
            Quorum::One => Some("one"),
            Quorum::Quorum => Some("quorum"),
            Quorum::All => Some("all"),
            Quorum::Default => Some("default"),
            Quorum::N(_) => None,
        }
    }

    /// The number of replies this quorum needs for `n_val` replicas:
    /// one = 1, quorum = n/2 + 1, all = n, a number is itself, and default is
    /// `bucket_default` resolved the same way (a bucket default that is itself
    /// `Default` counts as `quorum`).
    pub fn resolve(self, n_val: u32, bucket_default: Quorum) -> u32 {
        match self {
            Quorum::One => 1,
            Quorum::Quorum => n_val / 2 + 1,
            Quorum::All => n_val,
            Quorum::N(n) => n,
            Quorum::Default => match bucket_default {
                Quorum::Default => Quorum::Quorum.resolve(n_val, Quorum::Quorum),
                q => q.resolve(n_val, Quorum::Quorum),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_words_and_integers_parse() {
        assert_eq!(Quorum::from_query("r", "one"), Ok(Quorum::One));
        assert_eq!(Quorum::from_query("r", "quorum"), Ok(Quorum::Quorum));
        assert_eq!(Quorum::from_query("r", "all"), Ok(Quorum::All));
        assert_eq!(Quorum::from_query("r", "default"), Ok(Quorum::Default));
        assert_eq!(Quorum::from_query("r", "0"), Ok(Quorum::N(0)));
        assert_eq!(Quorum::from_query("w", "2"), Ok(Quorum::N(2)));
    }

    #[test]
    fn bad_query_value_reports_riak_text() {
        for bad in ["two", "", "-1", "ONE", "1.5"] {
            let err = Quorum::from_query("pw", bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                "pw query parameter must be an integer or one of the following words: \
                 'one', 'quorum' or 'all'"
            );
        }
    }

    #[test]
    fn pb_magic_values_round_trip() {
        assert_eq!(Quorum::from_pb(4294967294), Quorum::One);
        assert_eq!(Quorum::from_pb(4294967293), Quorum::Quorum);
        assert_eq!(Quorum::from_pb(4294967292), Quorum::All);
        assert_eq!(Quorum::from_pb(4294967291), Quorum::Default);
        assert_eq!(Quorum::from_pb(3), Quorum::N(3));
        for q in [
            Quorum::One,
            Quorum::Quorum,
            Quorum::All,
            Quorum::Default,
            Quorum::N(0),
            Quorum::N(5),
        ] {
            assert_eq!(Quorum::from_pb(q.to_pb()), q);
        }
    }

    #[test]
    fn json_words_are_strings_and_numbers_are_integers() {
        assert_eq!(Quorum::Quorum.to_json(), json!("quorum"));
        assert_eq!(Quorum::One.to_json(), json!("one"));
        assert_eq!(Quorum::All.to_json(), json!("all"));
        assert_eq!(Quorum::Default.to_json(), json!("default"));
        assert_eq!(Quorum::N(2).to_json(), json!(2));
        assert_eq!(Quorum::from_json(&json!("all")), Some(Quorum::All));
        assert_eq!(Quorum::from_json(&json!(0)), Some(Quorum::N(0)));
        assert_eq!(Quorum::from_json(&json!("2")), None);
        assert_eq!(Quorum::from_json(&json!(-1)), None);
        assert_eq!(Quorum::from_json(&json!(1.5)), None);
        assert_eq!(Quorum::from_json(&json!(true)), None);
    }

    #[test]
    fn resolution_against_n_val() {
        assert_eq!(Quorum::One.resolve(3, Quorum::Quorum), 1);
        assert_eq!(Quorum::Quorum.resolve(3, Quorum::One), 2);
        assert_eq!(Quorum::Quorum.resolve(4, Quorum::One), 3);
        assert_eq!(Quorum::Quorum.resolve(5, Quorum::One), 3);
        assert_eq!(Quorum::Quorum.resolve(1, Quorum::One), 1);
        assert_eq!(Quorum::All.resolve(5, Quorum::One), 5);
        assert_eq!(Quorum::N(2).resolve(5, Quorum::One), 2);
        assert_eq!(Quorum::Default.resolve(5, Quorum::All), 5);
        assert_eq!(Quorum::Default.resolve(3, Quorum::N(0)), 0);
        assert_eq!(Quorum::Default.resolve(3, Quorum::Default), 2);
    }
}
