//! The map cannot drift from the code: every path `docs/ARCHITECTURE.md`
//! names must exist, and every source file under `crates/*/src` must be
//! named there (or be one of the few deliberate exceptions below).
//!
//! Owns the doc's path-resolution rule, which the doc states in its
//! introduction:
//! - A path is a code span (in backticks) made only of letters, digits
//!   and `_ . / -` that contains a `/` or ends in a source or script
//!   extension. Fenced code blocks and paths starting with `../` (outside
//!   the repository) are not checked.
//! - A path is relative to the repository root, to a crate's directory
//!   (`crates/engine`), or to a crate's `src` (`crates/engine/src`).
//! - A bare file name after a path with a directory in the same table row
//!   or paragraph (`db/strings.rs`, `counters.rs`) is in that path's
//!   directory.
//! - A directory (`memtable/tree/`) names its `mod.rs`.
//!
//! It never edits the doc; it fails listing exactly what is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const DOC: &str = "docs/ARCHITECTURE.md";

/// Extensions that make a code span a path even without a `/`.
const EXTENSIONS: [&str; 8] = [".rs", ".sh", ".md", ".c", ".json", ".toml", ".py", ".yml"];

/// Code spans that look like paths but name no file of the repository.
const NOT_PATHS: [&str; 1] = [
    // The user's configuration file (`--config tandem.toml`).
    "tandem.toml",
];

/// Source files deliberately left off the map, each with its reason.
/// None today: add one only for a file a reader never needs to find.
const UNNAMED: [&str; 0] = [];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directories a path may be relative to: the root, each crate, and
/// each crate's `src`.
fn bases(root: &Path) -> Vec<PathBuf> {
    let mut bases = vec![PathBuf::new()];
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    crates.sort();
    for c in crates {
        if let Ok(rel) = c.strip_prefix(root) {
            bases.push(rel.to_path_buf());
            bases.push(rel.join("src"));
        }
    }
    bases
}

fn is_path(span: &str) -> bool {
    span.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
        && span.chars().any(|c| c.is_ascii_alphabetic())
        && (span.contains('/') || EXTENSIONS.iter().any(|e| span.ends_with(e)))
        && !span.starts_with("../")
        && !NOT_PATHS.contains(&span)
}

/// Every path the doc names, with its line number and the directory of
/// the path before it in its table row or paragraph (if any).
fn named_paths(doc: &str) -> Vec<(usize, String, Option<String>)> {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut context: Option<String> = None;
    for (i, line) in doc.lines().enumerate() {
        // A blank line ends a paragraph; each table row and heading
        // starts afresh.
        if line.trim().is_empty() || line.starts_with('|') || line.starts_with('#') {
            context = None;
        }
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Odd pieces between backticks are code spans.
        for span in line.split('`').skip(1).step_by(2) {
            if !is_path(span) {
                continue;
            }
            out.push((i + 1, span.to_string(), context.clone()));
            if let Some((dir, _)) = span.rsplit_once('/') {
                context = Some(dir.to_string());
            }
        }
    }
    out
}

/// The files and directories, relative to the root, that `path` names.
fn resolve(root: &Path, bases: &[PathBuf], path: &str, context: Option<&str>) -> Vec<PathBuf> {
    let exists = |p: &PathBuf| root.join(p).exists();
    if !path.contains('/') {
        if let Some(dir) = context {
            let near: Vec<PathBuf> = bases
                .iter()
                .map(|b| b.join(dir).join(path))
                .filter(exists)
                .collect();
            if !near.is_empty() {
                return near;
            }
        }
    }
    bases.iter().map(|b| b.join(path)).filter(exists).collect()
}

/// Every `.rs` file under `dir`, relative to `root`.
fn sources(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    for e in entries.flatten() {
        let rel = dir.join(e.file_name());
        if e.path().is_dir() {
            sources(root, &rel, out);
        } else if rel.extension().is_some_and(|x| x == "rs") {
            out.push(rel);
        }
    }
}

#[test]
fn every_path_the_map_names_exists_and_every_source_file_is_on_it() {
    let root = root();
    let doc = std::fs::read_to_string(root.join(DOC)).unwrap();
    let bases = bases(&root);

    let mut missing = Vec::new();
    let mut named = BTreeSet::new();
    for (line, path, context) in named_paths(&doc) {
        let found = resolve(&root, &bases, &path, context.as_deref());
        if found.is_empty() {
            let tried = match &context {
                Some(dir) if !path.contains('/') => format!(" (nor in {dir}/)"),
                _ => String::new(),
            };
            missing.push(format!(
                "  {DOC}:{line}: `{path}` exists under none of the root, crates/*, crates/*/src{tried}"
            ));
        }
        for f in found {
            if path.ends_with('/') {
                named.insert(f.join("mod.rs"));
            }
            named.insert(f);
        }
    }

    let mut files = Vec::new();
    for base in bases.iter().filter(|b| b.ends_with("src")) {
        sources(&root, base, &mut files);
    }
    files.sort();
    let unnamed: Vec<String> = files
        .iter()
        .filter(|f| !named.contains(*f) && !UNNAMED.iter().any(|u| Path::new(u) == *f))
        .map(|f| format!("  {}", f.display()))
        .collect();

    let mut report = String::new();
    if !missing.is_empty() {
        report += &format!(
            "{DOC} names paths that do not exist (rename them in the doc, or restore the file):\n{}\n",
            missing.join("\n")
        );
    }
    if !unnamed.is_empty() {
        report += &format!(
            "source files {DOC} does not name (add each to its crate's table, or to UNNAMED in tests/architecture.rs with a reason):\n{}\n",
            unnamed.join("\n")
        );
    }
    assert!(report.is_empty(), "\n{report}");
}

#[test]
fn the_rule_reads_table_rows_as_the_doc_writes_them() {
    let doc = "| `db/strings.rs`, `counters.rs` | x |\n| `keys.rs` |\n```\nnot/checked.rs\n```\n\
               `Db::range` `../shared/DESIGN.md` `crates/engine/`\nand `leaf.rs`\n\n`inner.rs`\n";
    let got: Vec<(String, Option<String>)> = named_paths(doc)
        .into_iter()
        .map(|(_, p, c)| (p, c))
        .collect();
    assert_eq!(
        got,
        [
            ("db/strings.rs".to_string(), None),
            ("counters.rs".to_string(), Some("db".to_string())),
            ("keys.rs".to_string(), None),
            ("crates/engine/".to_string(), None),
            ("leaf.rs".to_string(), Some("crates/engine".to_string())),
            ("inner.rs".to_string(), None),
        ]
    );
    let root = root();
    let bases = bases(&root);
    assert_eq!(
        resolve(&root, &bases, "counters.rs", Some("db")),
        [PathBuf::from("crates/engine/src/db/counters.rs")]
    );
    assert!(resolve(&root, &bases, "no/such.rs", None).is_empty());
}
