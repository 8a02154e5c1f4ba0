//! A user: its name, whether it may log in, its password hashes, and its
//! selectors (the root one first).
//!
//! Owns the user-level rules of Redis 7.0's grammar (`on`, `off`,
//! `>pass`, `<pass`, `#hash`, `!hash`, `nopass`, `resetpass`, `reset`,
//! `(...)`, `clearselectors`; the rest go to the root selector) and the
//! password check. Passwords are kept only as SHA-256 digests and compared
//! in constant time. A `User` is a value: a change is made on a copy that
//! replaces it whole, so a rule list that fails half-way changes nothing.
//! It never keeps a password in clear, and never compares digests with
//! an early exit.

use super::catalog::Catalog;
use super::selector::{has_spaces, RuleError, Selector};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A password's SHA-256 digest.
pub type Hash = [u8; 32];

/// One user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its name.
    pub name: Vec<u8>,
    /// `on`: it may authenticate.
    pub(super) enabled: bool,
    /// `nopass`: any password is right.
    pub(super) nopass: bool,
    /// `sanitize-payload` (true) or `skip-sanitize-payload` (false), once
    /// either is given.
    pub(super) sanitize: Option<bool>,
    /// Password digests, in the order added.
    pub(super) passwords: Vec<Hash>,
    /// The root selector: the rules given outside parentheses.
    pub(super) root: Selector,
    /// The `(...)` selectors, in the order added.
    pub(super) more: Vec<Selector>,
}

/// The SHA-256 digest of `password`.
pub fn hash(password: &[u8]) -> Hash {
    Sha256::digest(password).into()
}

/// A digest as Redis prints it: 64 lowercase hex digits.
pub fn hex(hash: &Hash) -> String {
    hex_bytes(hash)
}

/// Bytes as lowercase hex digits.
pub fn hex_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest written as Redis accepts one (`#...`, `!...`).
fn parse_hex(s: &[u8]) -> Result<Hash, RuleError> {
    let valid = |b: &u8| matches!(b, b'0'..=b'9' | b'a'..=b'f');
    if s.len() != 64 || !s.iter().all(valid) {
        return Err(RuleError::BadHash);
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let digit = |b: u8| if b <= b'9' { b - b'0' } else { b - b'a' + 10 };
        let (hi, lo) = match pair {
            [hi, lo] => (*hi, *lo),
            _ => return Err(RuleError::BadHash),
        };
        *byte = digit(hi) << 4 | digit(lo);
    }
    Ok(out)
}

impl User {
    /// A new user as Redis creates one: off, no password, no permission
    /// (and no channel unless `acl-pubsub-default` grants all).
    pub fn new(name: &[u8], catalog: &Catalog, allchannels: bool) -> Self {
        let mut root = Selector::new(catalog.len());
        root.allchannels = allchannels;
        Self {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            root,
            more: Vec::new(),
        }
    }

    /// The `default` user as Redis starts with it: on, no password, every
    /// command, key and channel.
    pub fn default_user(catalog: &Catalog) -> Self {
        let mut u = Self::new(b"default", catalog, false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            // Each of these is valid in any state.
            let _ = u.apply(op.as_bytes(), catalog, false);
        }
        u
    }

    /// Whether it may authenticate (`on`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether it takes any password (`nopass`).
    pub fn nopass(&self) -> bool {
        self.nopass
    }

    /// Its selectors, the root one first.
    pub fn selectors(&self) -> impl Iterator<Item = &Selector> {
        std::iter::once(&self.root).chain(&self.more)
    }

    /// The root selector.
    pub fn root(&self) -> &Selector {
        &self.root
    }

    /// The `(...)` selectors.
    pub fn more(&self) -> &[Selector] {
        &self.more
    }

    /// Its password digests.
    pub fn passwords(&self) -> &[Hash] {
        &self.passwords
    }

    /// Whether a selector grants every command, key and channel: the
    /// permission check is then skipped.
    pub fn unrestricted(&self) -> bool {
        self.selectors().any(Selector::unrestricted)
    }

    /// Whether `password` logs in as this user: enabled, and `nopass` or
    /// one of its digests. Every digest is compared, in constant time.
    pub fn accepts(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let given = hash(password);
        self.passwords
            .iter()
            .fold(subtle::Choice::from(0), |found, h| found | h.ct_eq(&given))
            .into()
    }

    /// Applies one rule (Redis's `ACLSetUser`); `allchannels` is what
    /// `acl-pubsub-default` gives `reset`.
    pub fn apply(
        &mut self,
        op: &[u8],
        catalog: &Catalog,
        allchannels: bool,
    ) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if op.is_empty() {
            return Ok(());
        }
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Some(false);
        } else if is("sanitize-payload") {
            self.sanitize = Some(true);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if let Some(pass) = op.strip_prefix(b">") {
            self.add_password(hash(pass));
        } else if let Some(h) = op.strip_prefix(b"#") {
            self.add_password(parse_hex(h)?);
        } else if let Some(pass) = op.strip_prefix(b"<") {
            self.remove_password(&hash(pass))?;
        } else if let Some(h) = op.strip_prefix(b"!") {
            self.remove_password(&parse_hex(h)?)?;
        } else if let Some(inner) = op.strip_prefix(b"(").and_then(|o| o.strip_suffix(b")")) {
            let mut s = Selector::new(catalog.len());
            s.allchannels = allchannels;
            // Redis splits a selector's inside as it splits an inline
            // request (`sdssplitargs`).
            let mut rules = Vec::new();
            crate::resp::parse::split_args(inner, &mut rules).ok_or(RuleError::Syntax)?;
            for rule in &rules {
                // A rule ending in `)` inside a selector would end it when
                // ACL SAVE's line is read back (`merge_selectors`), and one
                // holding a quote would be read back as quoted text
                // (`split_args`), so the file would not load: refused
                // (Redis takes them, and writes a file it cannot load).
                if rule.ends_with(b")") || rule.iter().any(|&b| b == b'"' || b == b'\'') {
                    return Err(RuleError::Syntax);
                }
                s.apply(rule, catalog)?;
            }
            self.more.push(s);
        } else if is("clearselectors") {
            self.more.clear();
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            self.enabled = false;
            self.sanitize = Some(true);
            self.more.clear();
            let root = &mut self.root;
            let _ = root.apply(b"resetkeys", catalog);
            let _ = root.apply(b"resetchannels", catalog);
            if allchannels {
                let _ = root.apply(b"allchannels", catalog);
            }
            let _ = root.apply(b"-@all", catalog);
        } else {
            self.root.apply(op, catalog)?;
        }
        Ok(())
    }

    fn add_password(&mut self, h: Hash) {
        if !self.passwords.contains(&h) {
            self.passwords.push(h);
        }
        self.nopass = false;
    }

    fn remove_password(&mut self, h: &Hash) -> Result<(), RuleError> {
        let at = self
            .passwords
            .iter()
            .position(|p| p == h)
            .ok_or(RuleError::NoSuchPassword)?;
        self.passwords.remove(at);
        Ok(())
    }

    /// The user's flags as ACL GETUSER and ACL LIST print them, in
    /// Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize {
            Some(false) => flags.push("skip-sanitize-payload"),
            Some(true) => flags.push("sanitize-payload"),
            None => {}
        }
        flags
    }
}

/// Whether `name` may be a user's name (no space, no NUL).
pub fn valid_name(name: &[u8]) -> bool {
    !has_spaces(name)
}

/// Merges rules that spread a selector over several arguments, `(+get`
/// `~a*)`, into one, as Redis does; `Err` holds the argument that opened a
/// selector never closed.
pub fn merge_selectors(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let mut merged = Vec::with_capacity(args.len());
    let mut open: Option<(Vec<u8>, &[u8])> = None;
    for &arg in args {
        if let Some((mut acc, start)) = open.take() {
            acc.push(b' ');
            acc.extend_from_slice(arg);
            if arg.ends_with(b")") {
                merged.push(acc);
            } else {
                open = Some((acc, start));
            }
        } else if arg.starts_with(b"(") && !arg.ends_with(b")") {
            open = Some((arg.to_vec(), arg));
        } else {
            merged.push(arg.to_vec());
        }
    }
    match open {
        Some((_, start)) => Err(start.to_vec()),
        None => Ok(merged),
    }
}
