//! Setting values written the way Redis writes them: memory sizes with
//! units (`512mb`, `1gb`, `100k`), `yes` / `no` switches, and the
//! `no` / `yes` / `local` switches of protected commands.
//!
//! Owns parsing and printing of those values for flags, the config file
//! and CONFIG GET, so that the three agree.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::str::FromStr;

/// A size in bytes, parsed as Redis's `memtoll`: a plain number, or one
/// with `k`, `kb`, `m`, `mb`, `g`, `gb` (`k` = 1000, `kb` = 1024, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

/// A value that could not be read as a setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadValue(pub String);

impl FromStr for ByteSize {
    type Err = BadValue;

    fn from_str(s: &str) -> Result<Self, BadValue> {
        let lower = s.trim().to_ascii_lowercase();
        let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &lower[digits.len()..];
        let scale: u64 = match unit {
            "" | "b" => 1,
            "k" => 1_000,
            "kb" => 1 << 10,
            "m" => 1_000_000,
            "mb" => 1 << 20,
            "g" => 1_000_000_000,
            "gb" => 1 << 30,
            _ => return Err(BadValue(format!("invalid memory unit in '{s}'"))),
        };
        let n: u64 = digits
            .parse()
            .map_err(|_| BadValue(format!("invalid memory size '{s}'")))?;
        n.checked_mul(scale)
            .map(ByteSize)
            .ok_or_else(|| BadValue(format!("memory size '{s}' is too large")))
    }
}

impl<'de> serde::Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size in bytes, such as 536870912 or \"512mb\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A switch written `yes` or `no` (or a TOML boolean).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YesNo(pub bool);

impl FromStr for YesNo {
    type Err = BadValue;

    fn from_str(s: &str) -> Result<Self, BadValue> {
        match s.to_ascii_lowercase().as_str() {
            "yes" => Ok(YesNo(true)),
            "no" => Ok(YesNo(false)),
            _ => Err(BadValue(format!(
                "argument must be 'yes' or 'no', not '{s}'"
            ))),
        }
    }
}

impl fmt::Display for YesNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "yes" } else { "no" })
    }
}

impl<'de> serde::Deserialize<'de> for YesNo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = YesNo;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"yes\", \"no\" or a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<YesNo, E> {
                Ok(YesNo(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YesNo, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Who may run a protected command (Redis's `enable-debug-command`):
/// nobody, everybody, or only clients on the loopback interface or the
/// Unix socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allowed {
    /// Nobody: Redis 7's default.
    #[default]
    No,
    /// Every client.
    Yes,
    /// Clients on the loopback interface or the Unix socket.
    Local,
}

impl FromStr for Allowed {
    type Err = BadValue;

    fn from_str(s: &str) -> Result<Self, BadValue> {
        match s.to_ascii_lowercase().as_str() {
            "no" => Ok(Allowed::No),
            "yes" => Ok(Allowed::Yes),
            "local" => Ok(Allowed::Local),
            _ => Err(BadValue(format!(
                "argument must be 'no', 'yes' or 'local', not '{s}'"
            ))),
        }
    }
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Allowed::No => "no",
            Allowed::Yes => "yes",
            Allowed::Local => "local",
        })
    }
}

impl<'de> serde::Deserialize<'de> for Allowed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Allowed;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"no\", \"yes\", \"local\" or a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Allowed, E> {
                Ok(if v { Allowed::Yes } else { Allowed::No })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Allowed, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// An integer setting's value within `min..=max`, refused in Redis 7's
/// words otherwise (CONFIG SET's and the file's integer settings).
pub fn integer(v: &str, min: i64, max: i64) -> Result<i64, String> {
    // Redis's `string2ll`: no sign but `-`, no leading zero, no spaces.
    let n = tandem_engine::parse_i64(v.as_bytes())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if !(min..=max).contains(&n) {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_redis_units() {
        let cases = [
            ("512mb", 512 << 20),
            ("1gb", 1 << 30),
            ("100k", 100_000),
            ("2KB", 2048),
            ("7", 7),
        ];
        for (text, bytes) in cases {
            assert_eq!(text.parse::<ByteSize>(), Ok(ByteSize(bytes)), "{text}");
        }
        assert!("12xb".parse::<ByteSize>().is_err());
        assert!("-1".parse::<ByteSize>().is_err());
        assert!("99999999999gb".parse::<ByteSize>().is_err());
    }

    #[test]
    fn switches_read_yes_and_no() {
        assert_eq!("YES".parse::<YesNo>(), Ok(YesNo(true)));
        assert_eq!("no".parse::<YesNo>(), Ok(YesNo(false)));
        assert!("maybe".parse::<YesNo>().is_err());
    }

    #[test]
    fn protected_switches_read_no_yes_and_local() {
        assert_eq!("LOCAL".parse::<Allowed>(), Ok(Allowed::Local));
        assert_eq!("yes".parse::<Allowed>(), Ok(Allowed::Yes));
        assert_eq!("no".parse::<Allowed>(), Ok(Allowed::No));
        assert!("maybe".parse::<Allowed>().is_err());
        assert_eq!(Allowed::Local.to_string(), "local");
    }
}
