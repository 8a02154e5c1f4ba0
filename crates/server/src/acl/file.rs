//! The ACL file (`aclfile`): users as rule lines, read by ACL LOAD and at
//! start-up, written by ACL SAVE.
//!
//! Owns the file's grammar as Redis 7.0 reads it (`user <name> <rules>`,
//! one per line, split on single spaces, its error texts) and writing it
//! crash-safely: a temporary file, fsync, rename, fsync of the directory.
//! A file with any error changes nothing. It never applies users to the
//! server: the caller swaps the table in.

use super::catalog::Catalog;
use super::selector::{has_spaces, RuleError};
use super::user::{merge_selectors, User};
use super::{describe, Users};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

/// Redis's note after the errors of a file that was not applied.
const NOT_APPLIED: &str =
    "WARNING: ACL errors detected, no change to the previously active ACL rules was performed";

/// Reads users from `text` (the file at `origin`, named in errors): every
/// line `user <name> <rules...>`, blank lines skipped. `Err` holds every
/// problem found, in Redis's words. `allchannels` is
/// `acl-pubsub-default`: what channels a user starts with.
pub fn parse(
    text: &str,
    origin: &str,
    catalog: &Catalog,
    allchannels: bool,
) -> Result<Users, String> {
    parse_bytes(text.as_bytes(), origin, catalog, allchannels)
}

/// `parse` over the file's bytes (names and patterns may be any bytes but
/// spaces).
pub fn parse_bytes(
    text: &[u8],
    origin: &str,
    catalog: &Catalog,
    allchannels: bool,
) -> Result<Users, String> {
    let mut users = Users::new();
    let mut errors = String::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let line = trim(line, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let name = match argv.as_slice() {
            [b"user", name, ..] => *name,
            _ => {
                let _ = write!(
                    errors,
                    "{origin}:{n} should start with user keyword followed by the username. "
                );
                continue;
            }
        };
        if has_spaces(name) {
            let _ = write!(
                errors,
                "'{origin}:{n}: username '{}' contains invalid characters. ",
                String::from_utf8_lossy(name)
            );
            continue;
        }
        if users.contains_key(name) {
            let _ = write!(
                errors,
                "WARNING: Duplicate user '{}' found on line {n}. ",
                String::from_utf8_lossy(name)
            );
            continue;
        }
        let mut u = User::new(name, catalog, allchannels);
        let rules = match merge_selectors(argv.get(2..).unwrap_or_default()) {
            Ok(rules) => rules,
            Err(_) => {
                let _ = write!(
                    errors,
                    "{origin}:{n}: Unmatched parenthesis in selector definition."
                );
                Vec::new()
            }
        };
        let mut syntax_error = false;
        for rule in &rules {
            let rule = trim(rule, b"\t\r\n");
            match u.apply(rule, catalog, allchannels) {
                Ok(()) => {}
                Err(RuleError::UnknownCommand) => {
                    let _ = write!(
                        errors,
                        "{origin}:{n}: Error in applying operation '{}': {}. ",
                        String::from_utf8_lossy(rule),
                        RuleError::UnknownCommand.message()
                    );
                }
                Err(e) if !syntax_error => {
                    let _ = write!(errors, "{origin}:{n}: {}. ", e.message());
                    syntax_error = true;
                }
                Err(_) => {}
            }
        }
        users.insert(name.to_vec(), Arc::new(u));
    }
    if errors.is_empty() {
        Ok(users)
    } else {
        errors.push_str(NOT_APPLIED);
        Err(errors)
    }
}

/// An OS error as C's `strerror` words it (Redis quotes those), without
/// Rust's ` (os error N)`.
pub fn os_error_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text.get(..at).unwrap_or(&text).to_string(),
        None => text,
    }
}

fn trim<'a>(mut s: &'a [u8], set: &[u8]) -> &'a [u8] {
    while let [first, rest @ ..] = s {
        if !set.contains(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !set.contains(last) {
            break;
        }
        s = rest;
    }
    s
}

/// The file's text for `users`: one `user <name> <rules>` line each.
pub fn render(users: &[Arc<User>], catalog: &Catalog) -> Vec<u8> {
    let mut out = Vec::new();
    for u in users {
        out.extend_from_slice(b"user ");
        out.extend_from_slice(&u.name);
        out.push(b' ');
        out.extend_from_slice(&describe::user(u, catalog));
        out.push(b'\n');
    }
    out
}

/// Writes `contents` to `path` so that a crash leaves the old file or
/// the new one, never a mix: a temporary file beside it, fsync, rename,
/// fsync of the directory.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let millis = super::log::now_ms();
    let tmp = path.with_file_name(format!("{name}.tmp-{}-{millis}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::catalog::Entry;

    fn catalog() -> Catalog {
        let entry = |name, categories| Entry {
            name,
            categories,
            parent: None,
            children: Vec::new(),
            no_auth: false,
        };
        Catalog::new(vec![
            entry("get", crate::acl::category::READ),
            entry("set", crate::acl::category::WRITE),
        ])
    }

    #[test]
    fn a_file_reads_back_as_written() {
        let c = catalog();
        let text = "user alice on >pw ~k* &ch +get\n\n  user bob off %R~r* (+set ~w*)\r\n";
        let users = parse(text, "users.acl", &c, false).expect("valid");
        let list: Vec<_> = users.values().cloned().collect();
        let written = render(&list, &c);
        let again = parse_bytes(&written, "users.acl", &c, false).expect("valid");
        assert_eq!(users, again);
    }

    /// Found by the fuzzer: a pattern ending in `)` inside a selector
    /// was saved as a line that ends the selector early on reading.
    #[test]
    fn a_selector_rule_that_would_not_read_back_is_refused() {
        let c = catalog();
        let err = parse("user a on (+get ~x))\n", "f", &c, false).unwrap_err();
        assert!(err.starts_with("f:1: Syntax error."), "{err}");
        // Found by the fuzz target: a quoted rule inside a selector reads
        // as `~"x`, which would be written bare and read back as an
        // unbalanced quote.
        let err = parse("user t (~\"\\\"x\")\n", "f", &c, false).unwrap_err();
        assert!(err.starts_with("f:1: Syntax error."), "{err}");
        let users = parse("user a on ~x) (+get ~y)\n", "f", &c, false).expect("valid");
        let list: Vec<_> = users.values().cloned().collect();
        let again = parse_bytes(&render(&list, &c), "f", &c, false).expect("reads back");
        assert_eq!(users, again);
    }

    #[test]
    fn errors_are_redis_s_and_change_nothing() {
        let c = catalog();
        let err = parse("group x\nuser a +nosuch\nuser a on\n", "f", &c, false).unwrap_err();
        assert_eq!(
            err,
            "f:1 should start with user keyword followed by the username. \
             f:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             WARNING: Duplicate user 'a' found on line 3. \
             WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
        );
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = std::env::temp_dir().join(format!(
            "tandem-aclfile-{}-{}",
            std::process::id(),
            crate::acl::log::now_ms()
        ));
        std::fs::create_dir_all(&dir).expect("tempdir");
        let path = dir.join("users.acl");
        write_atomically(&path, b"user a on\n").expect("written");
        assert_eq!(std::fs::read(&path).expect("read"), b"user a on\n");
        let missing = dir.join("no/such/dir/users.acl");
        assert!(write_atomically(&missing, b"x").is_err());
        // A rename onto a directory fails after the temporary file is
        // written: it must not be left behind.
        let blocked = dir.join("blocked");
        std::fs::create_dir_all(blocked.join("inside")).expect("dir");
        assert!(write_atomically(&blocked, b"x").is_err());
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").collect();
        assert_eq!(left.len(), 2, "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
