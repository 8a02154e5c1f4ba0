//! Comparing a reply with a case's expected `result`.
//!
//! The JSON can say four things: an integer, a string, `null`, a list
//! (no case expects an error). So a reply is reduced to those shapes: a simple
//! and a bulk string are both a string (JSON cannot tell them apart), a
//! nil bulk and a nil array are both `null`. Everything else stays
//! distinct: `1` never matches `"1"`, and an error reply never matches
//! anything.
//!
//! Two case flags relax the comparison exactly as far as they say:
//! `sort_result` means element order is unspecified (sets, hashes), so
//! both sides are sorted at every level before comparing; `float_result`
//! means strings holding floats (GEO coordinates, distances) may differ
//! in their last printed digits, so they compare as numbers to within a
//! relative 1e-9.

use crate::resp::Reply;
use serde_json::Value as Json;
use std::fmt;

/// A reply or an expectation, in the shapes both can take.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Nil,
    Int(i64),
    Str(Vec<u8>),
    List(Vec<Value>),
    /// Only replies are errors.
    Error(String),
}

impl Value {
    /// An expected result from the case file.
    pub fn from_json(json: &Json) -> Result<Self, String> {
        Ok(match json {
            Json::Null => Value::Nil,
            Json::Number(n) => Value::Int(
                n.as_i64()
                    .ok_or_else(|| format!("expected result {n} is not a 64-bit integer"))?,
            ),
            Json::String(s) => Value::Str(s.as_bytes().to_vec()),
            Json::Array(items) => Value::List(
                items
                    .iter()
                    .map(Value::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(format!("unsupported expected result {other}")),
        })
    }

    /// What the server said.
    pub fn from_reply(reply: Reply) -> Self {
        match reply {
            Reply::Simple(s) => Value::Str(s.into_bytes()),
            Reply::Error(e) => Value::Error(e),
            Reply::Int(n) => Value::Int(n),
            Reply::Bulk(Some(b)) => Value::Str(b),
            Reply::Bulk(None) | Reply::Array(None) => Value::Nil,
            Reply::Array(Some(items)) => {
                Value::List(items.into_iter().map(Value::from_reply).collect())
            }
        }
    }

    /// Sorts every list in it, innermost first.
    pub fn sorted(self) -> Self {
        match self {
            Value::List(items) => {
                let mut items: Vec<Value> = items.into_iter().map(Value::sorted).collect();
                items.sort();
                Value::List(items)
            }
            other => other,
        }
    }
}

fn as_float(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Whether `got` is what `expected` says, under the case's flags.
pub fn matches(expected: &Value, got: &Value, floats: bool) -> bool {
    match (expected, got) {
        (Value::Str(e), Value::Str(g)) if floats && e != g => match (as_float(e), as_float(g)) {
            (Some(e), Some(g)) => (e - g).abs() <= 1e-9 * e.abs().max(g.abs()),
            _ => false,
        },
        (Value::List(e), Value::List(g)) => {
            e.len() == g.len() && e.iter().zip(g).all(|(e, g)| matches(e, g, floats))
        }
        (Value::Error(_), _) => false,
        (e, g) => e == g,
    }
}

impl fmt::Display for Value {
    /// JSON-like, so expected and got read the same way; errors are
    /// marked, as redis-cli marks them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "null"),
            Value::Int(n) => write!(f, "{n}"),
            Value::Str(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
            Value::Error(e) => write!(f, "(error) {e}"),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
        }
    }
}

#[test]
fn comparison_keeps_every_distinction_json_can_express() {
    let s = |t: &str| Value::Str(t.as_bytes().to_vec());
    assert!(!matches(&s("1"), &Value::Int(1), false));
    assert!(!matches(&Value::Int(1), &s("1"), false));
    assert!(!matches(&s(""), &Value::Nil, false));
    assert!(!matches(&s("OK"), &Value::Error("OK".into()), false));
    assert!(!matches(&Value::List(vec![]), &Value::Nil, false));
    assert_eq!(
        Value::from_reply(Reply::Simple("OK".into())),
        Value::from_reply(Reply::Bulk(Some(b"OK".to_vec())))
    );
    assert_eq!(Value::from_reply(Reply::Array(None)), Value::Nil);
    // Floats only where the case says so, and only to within 1e-9.
    assert!(!matches(&s("1.0"), &s("1"), false));
    assert!(matches(
        &s("13.36138933897018433"),
        &s("13.361389338970184"),
        true
    ));
    assert!(!matches(&s("190.4424"), &s("190.4425"), true));
    assert!(!matches(&s("a"), &s("b"), true));
    // Sorting compares order-free replies as multisets.
    let list = |v: Vec<Value>| Value::List(v);
    let a = list(vec![s("0"), list(vec![s("y"), s("x")])]);
    let b = list(vec![list(vec![s("x"), s("y")]), s("0")]);
    assert!(!matches(&a, &b, false));
    assert!(matches(&a.sorted(), &b.sorted(), false));
}
