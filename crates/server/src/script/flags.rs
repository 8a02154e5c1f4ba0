//! A script's flags, as Redis 7.0 reads them from its first line
//! (`#!lua flags=no-writes,allow-oom`) or from a function's registration.
//!
//! Owns the shebang's syntax and Redis's errors for it. It must never
//! change the body: the shebang's length is returned, and the caller
//! compiles what follows it.

use crate::resp::parse::split_args;

/// What a script declared. A script without a shebang declares nothing
/// and runs in Redis's compatibility mode (`compat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// No shebang: Redis 6's rules (any key, writes decided per command).
    pub compat: bool,
    /// `no-writes`: a write command inside fails; EVAL_RO may run it.
    pub no_writes: bool,
    /// `allow-oom`: runs (and writes) over `maxmemory`.
    pub allow_oom: bool,
    /// `allow-stale`: runs on a stale replica (Tandem has none yet).
    pub allow_stale: bool,
    /// `no-cluster`: the script does not keep to its declared keys.
    pub no_cluster: bool,
    /// `allow-cross-slot-keys`: keys of several slots (every key is one
    /// node's here, so it changes nothing but what FUNCTION LIST shows).
    pub allow_cross_slot: bool,
}

impl ScriptFlags {
    /// The flags of a script with no shebang.
    pub const COMPAT: ScriptFlags = ScriptFlags {
        compat: true,
        no_writes: false,
        allow_oom: false,
        allow_stale: false,
        no_cluster: false,
        allow_cross_slot: false,
    };

    /// The names of the flags set, in Redis's order (FUNCTION LIST).
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.no_writes, "no-writes"),
            (self.allow_oom, "allow-oom"),
            (self.allow_stale, "allow-stale"),
            (self.no_cluster, "no-cluster"),
            (self.allow_cross_slot, "allow-cross-slot-keys"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    /// Sets the flag named `name`; false if there is no such flag.
    pub fn set(&mut self, name: &[u8]) -> bool {
        let flag = match name {
            b"no-writes" => &mut self.no_writes,
            b"allow-oom" => &mut self.allow_oom,
            b"allow-stale" => &mut self.allow_stale,
            b"no-cluster" => &mut self.no_cluster,
            b"allow-cross-slot-keys" => &mut self.allow_cross_slot,
            _ => return false,
        };
        *flag = true;
        true
    }
}

/// Reads the shebang at the start of `body`, if any: the flags and how
/// many bytes the shebang line takes (the newline is left for the body,
/// so line numbers stay right). Redis 7.0's error text otherwise.
pub fn parse(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::COMPAT, 0));
    }
    let Some(end) = memchr::memchr(b'\n', body) else {
        return Err("Invalid script shebang".to_owned());
    };
    let line = body.get(..end).unwrap_or_default();
    let mut parts = Vec::new();
    if split_args(line, &mut parts).is_none() || parts.is_empty() {
        return Err("Invalid engine in script shebang".to_owned());
    }
    let engine = parts.first().map(Vec::as_slice).unwrap_or_default();
    if engine != b"#!lua" {
        return Err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(engine)
        ));
    }
    let mut flags = ScriptFlags::default();
    for part in parts.iter().skip(1) {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(part)
            ));
        };
        // As `sdssplitlen`: an empty list names no flag, but "a,,b" has an
        // empty one, which is unknown.
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            if !flags.set(name) {
                return Err(format!(
                    "Unexpected flag in script shebang: {}",
                    String::from_utf8_lossy(name)
                ));
            }
        }
    }
    Ok((flags, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_read_as_redis_reads_them() {
        assert_eq!(parse(b"return 1"), Ok((ScriptFlags::COMPAT, 0)));
        let (flags, len) = parse(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap_or_default();
        assert!(flags.no_writes && flags.allow_oom && !flags.compat && !flags.no_cluster);
        assert_eq!(len, 31);
        assert_eq!(parse(b"#!lua\nreturn 1").map(|(f, _)| f.compat), Ok(false));
        assert_eq!(
            parse(b"#!lua flags=\nx").map(|(f, _)| f),
            Ok(ScriptFlags::default())
        );
        assert_eq!(parse(b"#!lua"), Err("Invalid script shebang".into()));
        assert_eq!(
            parse(b"#!python\n"),
            Err("Unexpected engine in script shebang: #!python".into())
        );
        assert_eq!(
            parse(b"#!lua flags=bad\n"),
            Err("Unexpected flag in script shebang: bad".into())
        );
        assert_eq!(
            parse(b"#!lua name=x\n"),
            Err("Unknown lua shebang option: name=x".into())
        );
        assert_eq!(
            parse(b"#!lua \"x\n"),
            Err("Invalid engine in script shebang".into())
        );
        let (flags, _) =
            parse(b"#!lua flags=no-cluster,allow-cross-slot-keys\n").unwrap_or_default();
        assert!(flags.no_cluster && flags.allow_cross_slot && !flags.no_writes);
    }
}
