//! SORT and SORT_RO: a list's, set's or sorted set's elements, sorted,
//! with BY, GET, LIMIT, ASC/DESC, ALPHA and (SORT only) STORE.
//!
//! Owns Redis 7.0's `sortCommandGeneric` rules: options read first (a
//! syntax error wins over WRONGTYPE); a BY pattern without `*` means no
//! sorting, except that a set is still sorted, by its members' bytes,
//! when the result is stored (so that it is the same everywhere); the
//! numeric sort reads each weight as `strtod` does (a missing BY key
//! weighs 0) and fails with Redis's error when one is not a number;
//! equal weights order by the elements' bytes; `*` in a pattern is the
//! element, `->field` after it reads a hash field, `#` is the element
//! itself; LIMIT's arithmetic; STORE replaces the destination with a
//! list (an empty result deletes it). The keys a pattern names are read
//! one by one, as in Redis, so SORT with BY or GET is not run inside
//! EXEC's atomic batch.

use super::args::{int, is};
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use std::cmp::Ordering;
use tandem_engine::{parse_sort_score, Bytes, ValueType, ZRange, ZRangeBy};

pub(super) const COMMANDS: &[Spec] = &[
    spec("sort", -2, WRITE | DENYOOM | MOVABLE_KEYS, (1, 1, 1), sort),
    spec("sort_ro", -2, READONLY | MOVABLE_KEYS, (1, 1, 1), sort_ro),
];

/// SORT's options.
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// Reads SORT's options; `every_key` says whether the user may read any
/// key (BY with a pattern and GET need it, as in Redis).
fn options<'a>(
    args: &'a [&'a [u8]],
    read_only: bool,
    every_key: bool,
) -> Result<Options<'a>, Reject> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: None,
        by: None,
        gets: Vec::new(),
        store: None,
    };
    let mut at = 0;
    while let Some(word) = args.get(at) {
        let left = args.len() - at - 1;
        let next = args.get(at + 1).copied();
        if is(word, "asc") {
            o.desc = false;
        } else if is(word, "desc") {
            o.desc = true;
        } else if is(word, "alpha") {
            o.alpha = true;
        } else if is(word, "limit") && left >= 2 {
            let start = int(next.unwrap_or_default())?;
            let count = int(args.get(at + 2).copied().unwrap_or_default())?;
            o.limit = Some((start, count));
            at += 2;
        } else if !read_only && is(word, "store") && left >= 1 {
            o.store = next;
            at += 1;
        } else if is(word, "by") && left >= 1 {
            if !every_key && next.is_some_and(|p| p.contains(&b'*')) {
                return Err(Reject::Static(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            o.by = next;
            at += 1;
        } else if is(word, "get") && left >= 1 {
            if !every_key {
                return Err(Reject::Static(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            o.gets.extend(next);
            at += 1;
        } else {
            return Err(Reject::Syntax);
        }
        at += 1;
    }
    Ok(o)
}

/// What a pattern names for `element`: the key with `*` replaced (and
/// the hash field after `->`), or the element itself for `#`; `None`
/// when the pattern has no `*`.
enum Lookup {
    Itself,
    Key(Vec<u8>),
    Field(Vec<u8>, Vec<u8>),
}

fn lookup(pattern: &[u8], element: &[u8]) -> Option<Lookup> {
    if pattern == b"#" {
        return Some(Lookup::Itself);
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let (prefix, rest) = pattern.split_at(star);
    let rest = rest.get(1..).unwrap_or_default();
    let arrow = rest
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&i| i + 2 < rest.len());
    let (postfix, field) = match arrow {
        Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 2..)),
        None => (rest, None),
    };
    let mut key = Vec::with_capacity(prefix.len() + element.len() + postfix.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    Some(match field {
        Some(f) => Lookup::Field(key, f.to_vec()),
        None => Lookup::Key(key),
    })
}

/// The value `pattern` names for `element`: a string key's value or a
/// hash's field; `None` when missing or of another type.
fn fetch(c: &Call<'_>, pattern: &[u8], element: &Bytes) -> Result<Option<Bytes>, Reject> {
    Ok(match lookup(pattern, element) {
        None => None,
        Some(Lookup::Itself) => Some(element.clone()),
        Some(Lookup::Key(key)) => c.kv().mget(&[&key])?.into_iter().next().flatten(),
        Some(Lookup::Field(key, field)) => match c.kv().hmget(&key, &[&field]) {
            Ok(v) => v.into_iter().next().flatten(),
            Err(tandem_engine::Error::WrongType) => None,
            Err(e) => return Err(e.into()),
        },
    })
}

/// How one element sorts.
enum Weight {
    Number(f64),
    /// ALPHA with BY: the value compared, `None` when missing (first).
    Text(Option<Bytes>),
    /// ALPHA without BY: the element itself.
    Element,
}

fn compare(a: &(Bytes, Weight), b: &(Bytes, Weight)) -> Ordering {
    match (&a.1, &b.1) {
        (Weight::Number(x), Weight::Number(y)) => x
            .partial_cmp(y)
            .unwrap_or(Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0)),
        (Weight::Text(x), Weight::Text(y)) => x.cmp(y),
        _ => a.0.cmp(&b.0),
    }
}

fn sort(c: &mut Call<'_>) -> CmdResult {
    sort_generic(c, false)
}

fn sort_ro(c: &mut Call<'_>) -> CmdResult {
    sort_generic(c, true)
}

fn sort_generic(c: &mut Call<'_>, read_only: bool) -> CmdResult {
    let every_key = super::access::every_key_readable(c.args, c.session);
    let mut o = options(c.args_from(2), read_only, every_key)?;
    let key = c.arg(1);
    let kind = c.kv().key_type(key)?;
    if !matches!(
        kind,
        None | Some(ValueType::List | ValueType::Set | ValueType::ZSet)
    ) {
        return Err(tandem_engine::Error::WrongType.into());
    }
    let mut dont_sort = o.by.is_some_and(|p| !p.contains(&b'*'));
    // A set sorted by nothing would store in its table's order; Redis
    // sorts it by its members then, so the result is the same anywhere.
    if dont_sort && kind == Some(ValueType::Set) && o.store.is_some() {
        dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let mut elements: Vec<Bytes> = match kind {
        None => Vec::new(),
        Some(ValueType::List) => c.kv().lrange(key, 0, -1)?,
        Some(ValueType::Set) => c.kv().smembers(key)?,
        _ => c
            .kv()
            .zrange(
                key,
                &ZRange {
                    by: ZRangeBy::Rank(0, -1),
                    rev: false,
                    limit: None,
                },
            )?
            .into_iter()
            .map(|(m, _)| m)
            .collect(),
    };
    // A list or sorted set not sorted keeps its order, read from the end
    // with DESC, as Redis loads it.
    if dont_sort && o.desc && matches!(kind, Some(ValueType::List | ValueType::ZSet)) {
        elements.reverse();
    }
    // LIMIT's arithmetic, as Redis's.
    let len = i64::try_from(elements.len()).unwrap_or(i64::MAX);
    let (limit_start, limit_count) = o.limit.unwrap_or((0, -1));
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 {
        len - 1
    } else {
        start.saturating_add(limit_count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    end = end.min(len - 1);
    let range = usize::try_from(start)
        .ok()
        .zip(usize::try_from(end).ok())
        .filter(|(s, e)| s <= e);

    let mut sorted: Vec<Bytes> = if dont_sort {
        elements
    } else {
        let mut weighed = Vec::with_capacity(elements.len());
        let mut not_a_number = false;
        for e in elements {
            let weight = match (o.by, o.alpha) {
                (Some(p), true) => Weight::Text(fetch(c, p, &e)?),
                (None, true) => Weight::Element,
                (Some(p), false) => match fetch(c, p, &e)? {
                    None => Weight::Number(0.0),
                    Some(v) => Weight::Number(parse_sort_score(&v).unwrap_or_else(|| {
                        not_a_number = true;
                        0.0
                    })),
                },
                (None, false) => Weight::Number(parse_sort_score(&e).unwrap_or_else(|| {
                    not_a_number = true;
                    0.0
                })),
            };
            weighed.push((e, weight));
        }
        if not_a_number {
            return Err(Reject::Static(
                "ERR One or more scores can't be converted into double",
            ));
        }
        weighed.sort_by(|a, b| {
            let ord = compare(a, b);
            if o.desc {
                ord.reverse()
            } else {
                ord
            }
        });
        weighed.into_iter().map(|(e, _)| e).collect()
    };
    let picked: Vec<Bytes> = match range {
        Some((s, e)) => sorted
            .drain(s..=e.min(sorted.len().saturating_sub(1)))
            .collect(),
        None => Vec::new(),
    };
    let mut out: Vec<Option<Bytes>> = Vec::with_capacity(picked.len() * o.gets.len().max(1));
    for e in &picked {
        if o.gets.is_empty() {
            out.push(Some(e.clone()));
        }
        for pattern in &o.gets {
            out.push(fetch(c, pattern, e)?);
        }
    }
    match o.store {
        None => {
            c.out.array(out.len());
            for v in &out {
                c.out.bulk_or_null(v.as_deref());
            }
        }
        Some(dst) => {
            let items: Vec<Bytes> = out.into_iter().map(Option::unwrap_or_default).collect();
            let n = c.kv().lstore(dst, &items)?;
            // STORE's key is not where the dispatcher finds keys (Redis
            // marks it unknown): clients blocked on it are served here.
            if n > 0 && c.shared.blocking.any() {
                c.session
                    .ready
                    .push((c.session.db, Bytes::copy_from_slice(dst)));
            }
            c.out.count(n);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(l: Option<Lookup>) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        match l? {
            Lookup::Itself => Some((b"#".to_vec(), None)),
            Lookup::Key(k) => Some((k, None)),
            Lookup::Field(k, f) => Some((k, Some(f))),
        }
    }

    #[test]
    fn patterns_name_keys_and_fields_as_redis_does() {
        assert_eq!(key(lookup(b"w_*", b"3")), Some((b"w_3".to_vec(), None)));
        assert_eq!(key(lookup(b"#", b"3")), Some((b"#".to_vec(), None)));
        assert_eq!(key(lookup(b"nostar", b"3")), None);
        assert_eq!(
            key(lookup(b"h_*->f", b"3")),
            Some((b"h_3".to_vec(), Some(b"f".to_vec())))
        );
        assert_eq!(key(lookup(b"h_*->", b"3")), Some((b"h_3->".to_vec(), None)));
        assert_eq!(
            key(lookup(b"a->b*c", b"3")),
            Some((b"a->b3c".to_vec(), None))
        );
        assert_eq!(
            key(lookup(b"*_x->y->z", b"e")),
            Some((b"e_x".to_vec(), Some(b"y->z".to_vec())))
        );
    }
}
