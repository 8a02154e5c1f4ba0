//! The running server's log level, as CONFIG SET loglevel changes it.
//!
//! Owns the hook the host installs: the binary's logging can change its
//! filter at run time, an embedding application's logging is its own.
//! It never installs a subscriber itself, and without a hook a changed
//! level is only kept (CONFIG GET shows it).

use std::sync::OnceLock;

/// Sets the log filter to a `tracing` directive (`info`, `warn`, ...).
pub type Hook = Box<dyn Fn(&'static str) -> Result<(), String> + Send + Sync>;

static HOOK: OnceLock<Hook> = OnceLock::new();

/// Installs the hook CONFIG SET loglevel calls; the first one stays.
pub fn set_hook(hook: Hook) {
    let _ = HOOK.set(hook);
}

/// Applies `directive`, if the host installed a hook.
pub(crate) fn apply(directive: &'static str) -> Result<(), String> {
    match HOOK.get() {
        Some(hook) => hook(directive),
        None => Ok(()),
    }
}
