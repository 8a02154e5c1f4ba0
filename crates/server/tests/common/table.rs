//! Request/reply tables through a real client library (the `redis`
//! crate, as an application would use Tandem): run requests given as
//! words, render replies as text (`+OK`, `:1`, `"bulk"`, `nil`, `-ERR
//! ...`, `[...]`, `{k: v}`), and compare a table of them in order.

use super::{Error, Running, TestResult};
use redis::{Connection, ConnectionLike, Value};
use std::collections::BTreeMap;

/// A client connection, RESP2 (the `redis` crate's default).
pub fn connect(server: &Running) -> Result<Connection, Error> {
    let client = redis::Client::open(format!("redis://{}/", server.addr()))?;
    let con = client.get_connection_with_timeout(super::TIMEOUT)?;
    con.set_read_timeout(Some(super::TIMEOUT))?;
    con.set_write_timeout(Some(super::TIMEOUT))?;
    Ok(con)
}

/// A reply as text: `+OK`, `:1`, `"bulk"`, `nil`, `-ERR ...`, `[a, b]`.
pub fn render(v: &Value) -> String {
    let list = |items: &[Value]| items.iter().map(render).collect::<Vec<_>>().join(", ");
    match v {
        Value::Nil => "nil".into(),
        Value::Int(n) => format!(":{n}"),
        Value::BulkString(b) => format!("\"{}\"", b.escape_ascii()),
        Value::SimpleString(s) => format!("+{s}"),
        Value::Okay => "+OK".into(),
        Value::Array(items) | Value::Set(items) => format!("[{}]", list(items)),
        Value::Map(pairs) => {
            let pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", render(k), render(v)))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
        Value::ServerError(e) => match e.details() {
            Some(detail) => format!("-{} {detail}", e.code()),
            None => format!("-{}", e.code()),
        },
        other => format!("{other:?}"),
    }
}

/// Runs a request given as space-separated words (`""` is an empty
/// argument) and returns its reply. Server errors are replies here, not
/// failures.
pub fn run(con: &mut Connection, line: &str) -> Result<Value, Error> {
    let mut words = line
        .split_whitespace()
        .map(|w| if w == "\"\"" { "" } else { w });
    let mut cmd = redis::cmd(words.next().ok_or("empty request")?);
    for w in words {
        cmd.arg(w);
    }
    Ok(con.req_command(&cmd)?)
}

/// `run`, rendered.
pub fn reply(con: &mut Connection, line: &str) -> Result<String, Error> {
    Ok(render(&run(con, line)?))
}

/// Runs a request of binary arguments and returns its reply.
pub fn run_args(con: &mut Connection, args: &[&[u8]]) -> Result<Value, Error> {
    let (name, rest) = args.split_first().ok_or("empty request")?;
    let mut cmd = redis::cmd(std::str::from_utf8(name)?);
    for a in rest {
        cmd.arg(*a);
    }
    Ok(con.req_command(&cmd)?)
}

/// Runs each request in order, and fails listing every reply that
/// differs from the expected one.
pub fn check(con: &mut Connection, table: &[(&str, &str)]) -> TestResult {
    let mut wrong = Vec::new();
    for (request, expected) in table {
        let got = reply(con, request)?;
        if got != *expected {
            wrong.push(format!("{request}\n    got:  {got}\n    want: {expected}"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{} replies differ:\n  {}", wrong.len(), wrong.join("\n  ")).into())
    }
}

/// Runs `(connection, request, reply)` rows in order and fails listing
/// every reply that differs.
pub fn check_on(server: &Running, rows: &[(usize, &str, &str)]) -> TestResult {
    let mut cons: BTreeMap<usize, Connection> = BTreeMap::new();
    let mut wrong = Vec::new();
    for &(n, request, expected) in rows {
        let con = match cons.entry(n) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(connect(server)?),
        };
        let got = reply(con, request)?;
        if got != expected {
            wrong.push(format!(
                "[{n}] {request}\n    got:  {got}\n    want: {expected}"
            ));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("\n").into())
    }
}

/// ACL LOG's newest `n` entries, each field as text.
pub fn log_entries(con: &mut Connection, n: usize) -> Result<Vec<BTreeMap<String, String>>, Error> {
    let Value::Array(entries) = run(con, &format!("acl log {n}"))? else {
        return Err("ACL LOG is not an array".into());
    };
    let text = |v: &Value| match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Int(i) => i.to_string(),
        other => render(other),
    };
    entries
        .iter()
        .map(|e| match e {
            Value::Array(fields) => Ok(fields
                .chunks(2)
                .filter_map(|kv| match kv {
                    [k, v] => Some((text(k), text(v))),
                    _ => None,
                })
                .collect()),
            other => Err(format!("not an entry: {}", render(other)).into()),
        })
        .collect()
}
