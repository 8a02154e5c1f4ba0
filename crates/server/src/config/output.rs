//! `client-output-buffer-limit`: how much output a client may have waiting
//! before it is disconnected, per class of client, in Redis's syntax.
//!
//! Owns parsing and printing the setting. The limits are enforced where
//! output waits: a pub/sub client's queue in the engine's hub
//! (`QueueLimits`), a normal client's output buffer in `connection/mod.rs`.
//! Tandem has no replicas, so the `replica` class is kept and reported
//! only.

use super::units::ByteSize;
use std::fmt;
use tandem_engine::pubsub::QueueLimits;

/// One class's limits: disconnect above `hard` bytes at once, or after
/// staying above `soft` bytes for `seconds`. Zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassLimit {
    /// Hard limit in bytes.
    pub hard: u64,
    /// Soft limit in bytes.
    pub soft: u64,
    /// How long a client may stay over the soft limit.
    pub seconds: u64,
}

/// The limits of each class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// Ordinary clients (Redis's default: none).
    pub normal: ClassLimit,
    /// Replicas (none exist yet; reported only).
    pub replica: ClassLimit,
    /// Pub/sub subscribers (Redis's default: 32mb 8mb 60).
    pub pubsub: ClassLimit,
}

impl Default for OutputLimits {
    fn default() -> Self {
        let q = QueueLimits::default();
        Self {
            normal: ClassLimit {
                hard: 0,
                soft: 0,
                seconds: 0,
            },
            replica: ClassLimit {
                hard: 256 << 20,
                soft: 64 << 20,
                seconds: 60,
            },
            pubsub: ClassLimit {
                hard: q.hard_bytes,
                soft: q.soft_bytes,
                seconds: q.soft_seconds,
            },
        }
    }
}

impl OutputLimits {
    /// `self` with the classes named in `text` changed, as Redis reads
    /// `<class> <hard> <soft> <seconds> [<class> ...]`; errors carry
    /// Redis's text.
    pub fn with(self, text: &str) -> Result<OutputLimits, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.is_empty() || !words.len().is_multiple_of(4) {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut out = self;
        for group in words.chunks_exact(4) {
            let &[class, hard, soft, seconds] = group else {
                continue;
            };
            let size = |w: &str| w.parse::<ByteSize>().map(|b| b.0);
            let (Ok(hard), Ok(soft), Ok(seconds)) =
                (size(hard), size(soft), seconds.parse::<u64>())
            else {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                );
            };
            let limit = ClassLimit {
                hard,
                soft,
                seconds,
            };
            match class.to_ascii_lowercase().as_str() {
                "normal" => out.normal = limit,
                "replica" | "slave" => out.replica = limit,
                "pubsub" => out.pubsub = limit,
                _ => {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    )
                }
            }
        }
        Ok(out)
    }

    /// The pub/sub class as the hub's queue limits.
    pub fn pubsub_queue(&self) -> QueueLimits {
        QueueLimits {
            hard_bytes: self.pubsub.hard,
            soft_bytes: self.pubsub.soft,
            soft_seconds: self.pubsub.seconds,
        }
    }
}

impl fmt::Display for OutputLimits {
    /// As CONFIG GET prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |l: ClassLimit| format!("{} {} {}", l.hard, l.soft, l.seconds);
        write!(
            f,
            "normal {} slave {} pubsub {}",
            c(self.normal),
            c(self.replica),
            c(self.pubsub)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses_as_redis() {
        let d = OutputLimits::default();
        assert_eq!(
            d.to_string(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        let changed = d.with("pubsub 1mb 512kb 10 normal 0 0 0");
        assert_eq!(
            changed.map(|l| l.pubsub),
            Ok(ClassLimit {
                hard: 1 << 20,
                soft: 512 << 10,
                seconds: 10
            })
        );
        assert!(d.with("pubsub 1mb").is_err());
        assert!(d.with("nobody 1 1 1").is_err());
        assert!(d.with("pubsub x 1 1").is_err());
    }
}
