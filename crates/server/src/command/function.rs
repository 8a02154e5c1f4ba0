//! FCALL, FCALL_RO and FUNCTION (LOAD, DELETE, FLUSH, LIST, STATS, KILL,
//! DUMP, RESTORE, HELP): Redis 7.0's function commands.
//!
//! Owns their arguments and replies, and hands every change of the
//! libraries to the store (`Store::set_meta("functions")`, the FUNCTION
//! DUMP payload) under the registry's lock. Running a function, and
//! loading a library's code, are `crate::script`'s; this module never
//! touches the interpreter.

use super::args::is;
use super::introspection::help;
use super::spec::{flags::*, spec, Spec};
use super::{subcommand_syntax_error, unknown_subcommand, Call, CmdResult, Reject};
use crate::script;
use crate::script::busy::Kill;
use crate::script::function::{library, load, payload, Libraries, Policy};
use crate::shared::Shared;

pub(super) const COMMANDS: &[Spec] = &[
    spec(
        "fcall",
        -3,
        NOSCRIPT | MAY_REPLICATE | MOVABLE_KEYS,
        (0, 0, 0),
        fcall,
    ),
    spec(
        "fcall_ro",
        -3,
        READONLY | NOSCRIPT | MOVABLE_KEYS,
        (0, 0, 0),
        fcall_ro,
    ),
    spec("function", -2, 0, (0, 0, 0), function),
];

/// The name the store keeps the libraries under.
pub const STORE_KEY: &str = "functions";

const HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
];

fn fcall(c: &mut Call<'_>) -> CmdResult {
    generic(c, false)
}

fn fcall_ro(c: &mut Call<'_>) -> CmdResult {
    generic(c, true)
}

fn generic(c: &mut Call<'_>, read_only_command: bool) -> CmdResult {
    let name = c.arg(1);
    // Redis's order: the function is looked up before the key count.
    if !c.shared.functions.read(|l| l.library_of(name).is_some()) {
        return Err(Reject::Static("ERR Function not found"));
    }
    let (keys, argv) =
        super::scripting::split_keys(c.args, 2, Reject::Static("ERR Bad number of keys provided"))?;
    script::fcall(c, name, keys, argv, read_only_command)
}

fn function(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    // The dispatcher has checked each subcommand's arity.
    if is(sub, "help") {
        help(c.out, HELP);
    } else if is(sub, "load") {
        load_command(c)?;
    } else if is(sub, "delete") {
        let name = c.arg(2);
        change(c.shared, |l| {
            if l.remove(name) {
                Ok(())
            } else {
                Err("Library not found".into())
            }
        })?;
        c.out.ok();
    } else if is(sub, "flush") {
        match c.args.get(2) {
            None => {}
            Some(_) if c.args.len() > 3 => return Err(subcommand_syntax_error(sub, "function")),
            Some(mode) if is(mode, "sync") || is(mode, "async") => {}
            Some(_) => {
                return Err(Reject::Static(
                    "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
                ))
            }
        }
        change(c.shared, |l| {
            *l = Libraries::default();
            Ok(())
        })?;
        c.out.ok();
    } else if is(sub, "list") {
        list(c)?;
    } else if is(sub, "stats") {
        stats(c)?;
    } else if is(sub, "kill") {
        match c.shared.scripts.busy.kill(false) {
            Kill::Killed => c.out.ok(),
            Kill::NotBusy => {
                return Err(Reject::Static("NOTBUSY No scripts in execution right now."))
            }
            Kill::Unkillable => return Err(Reject::Static(super::scripting::UNKILLABLE)),
            Kill::OtherKind(busy) => return Err(Reject::Static(busy)),
        }
    } else if is(sub, "dump") {
        let dumped = c.shared.functions.read(|l| payload::dump(l, true));
        c.out.bulk(&dumped);
    } else if is(sub, "restore") {
        restore(c)?;
    } else {
        return Err(unknown_subcommand(sub, "function"));
    }
    Ok(())
}

/// The most the libraries may take stored (their FUNCTION DUMP payload):
/// the store logs them whole, and a log record or snapshot block past
/// its bound would not load again.
const MAX_STORED: usize = 256 * 1024 * 1024;

/// Changes the libraries and, if that succeeds, hands them to the store
/// (under the registry's lock, so that changes are logged in order) and
/// counts a change for the save rules. Redis's error otherwise, or ours
/// for libraries too big to store (nothing changed then).
fn change(
    shared: &Shared,
    f: impl FnOnce(&mut Libraries) -> Result<(), String>,
) -> Result<(), Reject> {
    let persist = |l: &Libraries| persist(shared, l);
    shared
        .functions
        .change(&persist, |l| {
            f(l)?;
            if payload::dump(l, true).len() > MAX_STORED {
                return Err(format!(
                    "the function libraries would take more than {} MiB stored",
                    MAX_STORED >> 20
                ));
            }
            Ok(())
        })
        .map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    shared.stats.changed();
    Ok(())
}

fn persist(shared: &Shared, libraries: &Libraries) {
    let Some(store) = shared.persistence.store() else {
        return;
    };
    if libraries.counts().0 == 0 {
        store.set_meta(STORE_KEY, None);
    } else {
        store.set_meta(STORE_KEY, Some(&payload::dump(libraries, true)));
    }
}

/// FUNCTION LOAD [REPLACE] code.
fn load_command(c: &mut Call<'_>) -> CmdResult {
    let mut replace = false;
    let last = c.args.len().saturating_sub(1);
    for &option in c.args.get(2..last).unwrap_or_default() {
        if is(option, "replace") {
            replace = true;
        } else {
            return Err(Reject::Owned(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(option)
            )));
        }
    }
    let text = c.arg(last);
    // Redis's order: the first line, then a name already taken, then the
    // code.
    let md = library::parse(text).map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    if !replace && c.shared.functions.read(|l| l.get(&md.name).is_some()) {
        return Err(Reject::Owned(format!(
            "ERR Library '{}' already exists",
            String::from_utf8_lossy(&md.name)
        )));
    }
    let prepared =
        script::prepare_library(&c.shared.scripts.random, text, Some(load::LOAD_TIMEOUT))
            .map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    let name = prepared.name.clone();
    change(c.shared, |l| l.add(prepared, replace))?;
    c.out.bulk(&name);
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
fn restore(c: &mut Call<'_>) -> CmdResult {
    if c.args.len() > 4 {
        return Err(subcommand_syntax_error(c.arg(1), "function"));
    }
    let policy =
        match c.args.get(3) {
            None => Policy::Append,
            Some(p) if is(p, "append") => Policy::Append,
            Some(p) if is(p, "replace") => Policy::Replace,
            Some(p) if is(p, "flush") => Policy::Flush,
            Some(_) => return Err(Reject::Static(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            )),
        };
    let restored = libraries_of(c.shared, c.arg(2), Some(load::LOAD_TIMEOUT))
        .map_err(|e| Reject::Owned(format!("ERR {e}")))?;
    change(c.shared, |l| l.join(restored, policy))?;
    c.out.ok();
    Ok(())
}

/// The libraries of a FUNCTION DUMP payload, each loaded as FUNCTION LOAD
/// would (Redis's error for the first that fails).
pub fn libraries_of(
    shared: &Shared,
    bytes: &[u8],
    timeout: Option<std::time::Duration>,
) -> Result<Libraries, String> {
    let mut libraries = Libraries::default();
    for text in payload::texts(bytes)? {
        // Redis's order: a name given twice is found before the code runs.
        let name = library::parse(&text)?.name;
        if libraries.get(&name).is_some() {
            return Err(format!(
                "Library '{}' already exists",
                String::from_utf8_lossy(&name)
            ));
        }
        let library = script::prepare_library(&shared.scripts.random, &text, timeout)?;
        libraries.add(library, false)?;
    }
    Ok(libraries)
}

/// An import's libraries (a FUNCTION DUMP payload made of an RDB file's
/// records), added as FUNCTION RESTORE's APPEND adds them; how many.
pub fn import_libraries(shared: &Shared, payload: &[u8]) -> Result<usize, String> {
    let restored = libraries_of(shared, payload, None)?;
    let n = restored.counts().0;
    change(shared, |l| l.join(restored, Policy::Append)).map_err(|e| e.message("function"))?;
    Ok(n)
}

/// Brings back the libraries the store kept (start-up, DEBUG RELOAD).
pub fn recover(shared: &Shared) -> Result<(), String> {
    let Some(store) = shared.persistence.store() else {
        return Ok(());
    };
    let restored = match store.meta(STORE_KEY) {
        Some(bytes) => libraries_of(shared, &bytes, None)?,
        None => Libraries::default(),
    };
    shared.functions.change(&|_| {}, |l| {
        *l = restored;
        Ok(())
    })
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
fn list(c: &mut Call<'_>) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while let Some(&arg) = c.args.get(i) {
        if !with_code && is(arg, "withcode") {
            with_code = true;
        } else if pattern.is_none() && is(arg, "libraryname") {
            let Some(&p) = c.args.get(i + 1) else {
                return Err(Reject::Static("ERR library name argument was not given"));
            };
            pattern = Some(p);
            i += 1;
        } else {
            return Err(Reject::Owned(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(arg)
            )));
        }
        i += 1;
    }
    let out = &mut *c.out;
    c.shared.functions.read(|l| {
        let matching: Vec<_> = l
            .iter()
            .filter(|lib| pattern.is_none_or(|p| glob_nocase(p, &lib.name)))
            .collect();
        out.array(matching.len());
        for lib in matching {
            out.map(if with_code { 4 } else { 3 });
            out.bulk(b"library_name");
            out.bulk(&lib.name);
            out.bulk(b"engine");
            out.bulk(library::ENGINE.as_bytes());
            out.bulk(b"functions");
            out.array(lib.functions.len());
            for f in &lib.functions {
                out.map(3);
                out.bulk(b"name");
                out.bulk(&f.name);
                out.bulk(b"description");
                out.bulk_or_null(f.description.as_deref());
                out.bulk(b"flags");
                let names = f.flags.names();
                out.set(names.len());
                for name in names {
                    out.simple(name);
                }
            }
            if with_code {
                out.bulk(b"library_code");
                out.bulk(&lib.code);
            }
        }
    });
    Ok(())
}

/// Redis's `stringmatchlen` with `nocase`.
fn glob_nocase(pattern: &[u8], name: &[u8]) -> bool {
    tandem_engine::glob_match(&pattern.to_ascii_lowercase(), &name.to_ascii_lowercase())
}

/// FUNCTION STATS.
fn stats(c: &mut Call<'_>) -> CmdResult {
    let busy = &c.shared.scripts.busy;
    if busy.eval_busy() {
        return Err(Reject::Static(crate::script::busy::BUSY_EVAL));
    }
    let out = &mut *c.out;
    out.map(2);
    out.bulk(b"running_script");
    match busy.function() {
        None => out.null(),
        Some(f) => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(&f.name);
            out.bulk(b"command");
            out.array(f.command.len());
            for arg in f.command.iter() {
                out.bulk(arg);
            }
            out.bulk(b"duration_ms");
            out.int(i64::try_from(f.duration_ms).unwrap_or(i64::MAX));
        }
    }
    let (libraries, functions) = c.shared.functions.read(Libraries::counts);
    out.bulk(b"engines");
    out.map(1);
    out.bulk(library::ENGINE.as_bytes());
    out.map(2);
    out.bulk(b"libraries_count");
    out.count(libraries);
    out.bulk(b"functions_count");
    out.count(functions);
    Ok(())
}
