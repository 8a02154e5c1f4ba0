//! Persistence settings' own types: `save` rules, and the file system the
//! data goes to.
//!
//! Owns how `save "3600 1 300 100"` is parsed, printed and checked, as
//! Redis 7 does, and `StorageFs`, the seam tests use to give a server a
//! simulated disk. It never saves anything: `persistence` does.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use tandem_engine::storage::backend::{Backend, StdFs};

/// `save`: snapshot after `seconds` if at least `changes` writes happened,
/// for each pair. Empty: never on a timer (nor on SHUTDOWN unless asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRules(pub Vec<(u64, u64)>);

impl Default for SaveRules {
    /// Redis 7's: after an hour if one key changed, five minutes if 100,
    /// a minute if 10,000.
    fn default() -> Self {
        SaveRules(vec![(3600, 1), (300, 100), (60, 10_000)])
    }
}

impl SaveRules {
    /// Whether any rule is set.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether a rule says to save now, `elapsed` seconds after the last
    /// save with `changes` writes since.
    pub fn due(&self, elapsed: u64, changes: u64) -> bool {
        self.0
            .iter()
            .any(|&(secs, n)| changes >= n && elapsed >= secs)
    }
}

impl SaveRules {
    /// CONFIG SET save's reading, as Redis 7.0's (`setConfigSaveOption`
    /// over the value split at single spaces): an empty word reads as 0,
    /// so extra spaces are refused where a number of seconds belongs.
    pub fn from_config_set(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(SaveRules(Vec::new()));
        }
        let words: Vec<&str> = s.split(' ').collect();
        Self::from_words(&words)
    }

    /// Pairs of seconds (at least 1) and changes (at least 0).
    fn from_words(words: &[&str]) -> Result<Self, String> {
        let bad = || "Invalid save parameters".to_string();
        if !words.len().is_multiple_of(2) {
            return Err(bad());
        }
        let number = |w: &str| {
            if w.is_empty() {
                Some(0)
            } else {
                w.parse::<i64>().ok()
            }
        };
        let mut rules = Vec::new();
        for pair in words.chunks_exact(2) {
            let [secs, changes] = pair else { continue };
            let (Some(secs), Some(changes)) = (number(secs), number(changes)) else {
                return Err(bad());
            };
            let (Ok(secs), Ok(changes)) = (u64::try_from(secs), u64::try_from(changes)) else {
                return Err(bad());
            };
            if secs == 0 {
                return Err(bad());
            }
            rules.push((secs, changes));
        }
        Ok(SaveRules(rules))
    }
}

impl FromStr for SaveRules {
    type Err = String;

    /// Pairs of integers separated by whitespace, as the file and the
    /// command line give them (Redis splits its configuration file's
    /// arguments the same way); `""` is no rule. Redis's refusal text for
    /// anything else.
    fn from_str(s: &str) -> Result<Self, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        Self::from_words(&words)
    }
}

impl fmt::Display for SaveRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self
            .0
            .iter()
            .flat_map(|(s, c)| [s.to_string(), c.to_string()])
            .collect();
        f.write_str(&words.join(" "))
    }
}

impl<'de> serde::Deserialize<'de> for SaveRules {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The file system the data directory is on. Not a setting: the real one,
/// unless a test brings a simulated one (`SimFs`) to fail, tear and lose
/// writes.
#[derive(Clone)]
pub struct StorageFs(pub Arc<dyn Backend>);

impl Default for StorageFs {
    fn default() -> Self {
        // One shared value, so that default configs compare equal.
        static REAL: LazyLock<Arc<dyn Backend>> = LazyLock::new(|| Arc::new(StdFs));
        StorageFs(Arc::clone(&REAL))
    }
}

impl fmt::Debug for StorageFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StorageFs")
    }
}

/// Two configs name the same file system only if it is the same object.
impl PartialEq for StorageFs {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}

impl Eq for StorageFs {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_rules_parse_print_and_decide_as_redis() {
        // Redis 7.0.15's CONFIG SET save: seconds of 0 and extra spaces
        // where seconds belong are refused; an empty change count is 0.
        for bad in ["0 0", "  3600   1  ", "3600 1 ", "60", "-5 1"] {
            assert!(SaveRules::from_config_set(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SaveRules::from_config_set("3600 "),
            Ok(SaveRules(vec![(3600, 0)]))
        );
        assert_eq!(
            SaveRules::from_config_set("3600 -0"),
            Ok(SaveRules(vec![(3600, 0)]))
        );
        // The file and the command line take any whitespace, as Redis's
        // configuration file does.
        assert_eq!(
            " 3600 1\t 300  100 ".parse::<SaveRules>(),
            Ok(SaveRules(vec![(3600, 1), (300, 100)]))
        );
        let rules: SaveRules = "3600 1 300 100 60 10000".parse().unwrap_or_default();
        assert_eq!(rules, SaveRules::default());
        assert_eq!(rules.to_string(), "3600 1 300 100 60 10000");
        assert_eq!("".parse::<SaveRules>(), Ok(SaveRules(vec![])));
        assert!("3600".parse::<SaveRules>().is_err());
        assert!("a 1".parse::<SaveRules>().is_err());
        assert!(rules.due(60, 10_000));
        assert!(!rules.due(59, 10_000));
        assert!(rules.due(3600, 1));
        assert!(!rules.due(3599, 99));
        assert!(!rules.due(100_000, 0));
    }
}
