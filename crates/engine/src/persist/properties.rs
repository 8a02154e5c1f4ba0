//! A snapshot's properties: what, besides its entries, a snapshot file
//! records about the state it holds.
//!
//! Owns the properties blob's text format: `tandem-snapshot 1`, then
//! `log-start <lsn>` (the log position whose changes the snapshot may lack,
//! and replay starts from), `numbering <id> <id> ...` (database number to
//! keyspace id, SWAPDB's state), and `created-ms <unix ms>`. The SSTable
//! checksums the blob; this module must never trust it further than
//! that: every number is parsed, bounded and checked.

/// What a snapshot records about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Properties {
    pub(crate) log_start: u64,
    pub(crate) numbering: Vec<u32>,
    pub(crate) created_ms: u64,
}

/// At most this many databases: Redis's `databases` has no hard cap, but a
/// snapshot naming more than this is not one we wrote.
const MAX_DATABASES: usize = 1 << 16;

impl Properties {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let numbering: Vec<String> = self.numbering.iter().map(u32::to_string).collect();
        format!(
            "tandem-snapshot 1\nlog-start {}\nnumbering {}\ncreated-ms {}\n",
            self.log_start,
            numbering.join(" "),
            self.created_ms
        )
        .into_bytes()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Properties, &'static str> {
        let text = std::str::from_utf8(bytes).map_err(|_| "properties are not text")?;
        let mut lines = text.lines();
        if lines.next() != Some("tandem-snapshot 1") {
            return Err("unknown snapshot properties version");
        }
        let (mut log_start, mut numbering, mut created_ms) = (None, None, None);
        for line in lines {
            match line.split_once(' ') {
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
        };
        assert_eq!(Properties::decode(&p.encode()).unwrap(), p);
        assert!(Properties::decode(b"tandem-snapshot 2\n").is_err());
        assert!(Properties::decode(
            b"tandem-snapshot 1\nlog-start 1\nnumbering 0 0\ncreated-ms 1\n"
        )
        .is_err());
        assert!(Properties::decode(b"tandem-snapshot 1\nnumbering 0\ncreated-ms 1\n").is_err());
    }
}
