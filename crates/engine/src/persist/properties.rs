//! A snapshot's properties: what, besides its entries, a snapshot file
//! records about the state it holds.
//!
//! Owns the properties blob's text format: `tandem-snapshot 1`, then
//! `log-start <lsn>` (the log position whose changes the snapshot may lack,
//! and replay starts from), `numbering <id> <id> ...` (database number to
//! keyspace id, SWAPDB's state), `created-ms <unix ms>`, and for each blob
//! the embedding program keeps beside the keyspaces (`Store::set_meta`)
//! `meta <name> <value in hex>`. The SSTable
//! checksums the blob; this module must never trust it further than
//! that: every number is parsed, bounded and checked.

/// What a snapshot records about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Properties {
    pub(crate) log_start: u64,
    pub(crate) numbering: Vec<u32>,
    pub(crate) created_ms: u64,
    /// The named blobs, as they were when the snapshot started.
    pub(crate) meta: Meta,
}

/// Named blobs kept beside the keyspaces, by name.
pub(crate) type Meta = std::collections::BTreeMap<String, Vec<u8>>;

/// Whether `name` may name a blob: it must fit on a properties line.
pub(crate) fn valid_meta_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(
            DIGITS.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        out.push(char::from(
            DIGITS.get(usize::from(b & 15)).copied().unwrap_or(b'0'),
        ));
    }
    out
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// At most this many databases: Redis's `databases` has no hard cap, but a
/// snapshot naming more than this is not one we wrote.
const MAX_DATABASES: usize = 1 << 16;

impl Properties {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let numbering: Vec<String> = self.numbering.iter().map(u32::to_string).collect();
        let mut text = format!(
            "tandem-snapshot 1\nlog-start {}\nnumbering {}\ncreated-ms {}\n",
            self.log_start,
            numbering.join(" "),
            self.created_ms
        );
        for (name, value) in &self.meta {
            text.push_str(&format!("meta {name} {}\n", hex(value)));
        }
        text.into_bytes()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Properties, &'static str> {
        let text = std::str::from_utf8(bytes).map_err(|_| "properties are not text")?;
        let mut lines = text.lines();
        if lines.next() != Some("tandem-snapshot 1") {
            return Err("unknown snapshot properties version");
        }
        let (mut log_start, mut numbering, mut created_ms) = (None, None, None);
        let mut meta = Meta::new();
        for line in lines {
            match line.split_once(' ') {
                Some(("meta", rest)) => {
                    let (name, value) = rest.split_once(' ').ok_or("bad meta property")?;
                    if !valid_meta_name(name) {
                        return Err("bad meta property name");
                    }
                    let value = unhex(value).ok_or("bad meta property value")?;
                    if meta.insert(name.to_owned(), value).is_some() {
                        return Err("meta property given twice");
                    }
                }
                Some(("log-start", n)) => log_start = n.parse().ok(),
                Some(("created-ms", n)) => created_ms = n.parse().ok(),
                Some(("numbering", ids)) => {
                    let ids: Result<Vec<u32>, _> = ids.split(' ').map(str::parse).collect();
                    numbering = ids.ok().filter(|v| v.len() <= MAX_DATABASES);
                }
                _ => return Err("unknown snapshot property"),
            }
        }
        let numbering = numbering.ok_or("snapshot has no database numbering")?;
        let mut seen = numbering.clone();
        seen.sort_unstable();
        if seen.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return Err("snapshot numbers one database twice");
        }
        Ok(Properties {
            log_start: log_start.ok_or("snapshot has no log-start")?,
            numbering,
            created_ms: created_ms.ok_or("snapshot has no created-ms")?,
            meta,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn properties_round_trip_and_bad_ones_are_refused() {
        let p = Properties {
            log_start: 77,
            numbering: vec![1, 0, 2],
            created_ms: 1_700_000_000_000,
            meta: Meta::from([
                ("functions".to_owned(), vec![0xf5, 0, b'\n', 0xff]),
                ("empty".to_owned(), Vec::new()),
            ]),
        };
        assert_eq!(Properties::decode(&p.encode()).unwrap(), p);
        for bad in [
            "meta functions 0g",
            "meta functions 012",
            "meta bad/name 00",
            "meta functions",
        ] {
            let text =
                format!("tandem-snapshot 1\nlog-start 1\nnumbering 0\ncreated-ms 1\n{bad}\n");
            assert!(Properties::decode(text.as_bytes()).is_err(), "{bad}");
        }
        assert!(Properties::decode(b"tandem-snapshot 2\n").is_err());
        assert!(Properties::decode(
            b"tandem-snapshot 1\nlog-start 1\nnumbering 0 0\ncreated-ms 1\n"
        )
        .is_err());
        assert!(Properties::decode(b"tandem-snapshot 1\nnumbering 0\ncreated-ms 1\n").is_err());
    }
}
