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
//! - Under a `##` heading that names a directory (`## The server
//!   (`crates/server/src`)`), paths are looked up there first.
//! - A bare file name after a path with a directory in the same table row
//!   or paragraph (`db/strings.rs`, `counters.rs`) is in that path's
//!   directory (looked up before anything else).
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

/// Source files deliberately left off the map: crate roots, whose `//!`
/// header is their crate's own map and which every reader opens first.
const UNNAMED: [&str; 2] = ["crates/engine/src/lib.rs", "crates/server/src/lib.rs"];

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

/// Where the doc names a path: its line, the path, the directory of the
/// path before it in its table row or paragraph, and its section's
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    line: usize,
    path: String,
    context: Option<String>,
    section: Option<String>,
}

fn spans(line: &str) -> impl Iterator<Item = &str> {
    // Odd pieces between backticks are code spans.
    line.split('`').skip(1).step_by(2).filter(|s| is_path(s))
}

/// Every path the doc names, in order.
fn named_paths(doc: &str) -> Vec<Named> {
    let mut out = Vec::new();
    let mut fenced = false;
    let mut context: Option<String> = None;
    let mut section: Option<String> = None;
    for (i, line) in doc.lines().enumerate() {
        if line.starts_with("## ") {
            section = spans(line)
                .next()
                .map(|s| s.trim_end_matches('/').to_string());
            continue;
        }
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
        for span in spans(line) {
            out.push(Named {
                line: i + 1,
                path: span.to_string(),
                context: context.clone(),
                section: section.clone(),
            });
            if let Some((dir, _)) = span.rsplit_once('/') {
                context = Some(dir.to_string());
            }
        }
    }
    out
}

/// The files and directories, relative to the root, that `named` names:
/// those of the first place in the rule's order where any exist.
fn resolve(root: &Path, bases: &[PathBuf], named: &Named) -> Vec<PathBuf> {
    let section: Vec<PathBuf> = named.section.iter().map(PathBuf::from).collect();
    let near = match &named.context {
        Some(dir) if !named.path.contains('/') => Some(dir.as_str()),
        _ => None,
    };
    let mut tiers: Vec<Vec<PathBuf>> = Vec::new();
    if let Some(dir) = near {
        let under = |b: &PathBuf| b.join(dir).join(&named.path);
        tiers.push(section.iter().map(under).collect());
        tiers.push(bases.iter().map(under).collect());
    }
    tiers.push(section.iter().map(|b| b.join(&named.path)).collect());
    tiers.push(bases.iter().map(|b| b.join(&named.path)).collect());
    tiers
        .into_iter()
        .map(|tier| -> Vec<PathBuf> {
            tier.into_iter().filter(|p| root.join(p).exists()).collect()
        })
        .find(|found| !found.is_empty())
        .unwrap_or_default()
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
    for entry in named_paths(&doc) {
        let found = resolve(&root, &bases, &entry);
        let (line, path) = (entry.line, &entry.path);
        if found.is_empty() {
            let tried = match &entry.context {
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
    let doc = "## The server (`crates/server/src`)\n\
               | `db/strings.rs`, `counters.rs` | x |\n| `stats.rs` |\n```\nnot/checked.rs\n```\n\
               `Db::range` `../shared/DESIGN.md` `crates/engine/`\nand `leaf.rs`\n\n## Other\n`inner.rs`\n";
    let named = named_paths(doc);
    let got: Vec<(&str, Option<&str>, Option<&str>)> = named
        .iter()
        .map(|n| (n.path.as_str(), n.context.as_deref(), n.section.as_deref()))
        .collect();
    let server = Some("crates/server/src");
    assert_eq!(
        got,
        [
            ("db/strings.rs", None, server),
            ("counters.rs", Some("db"), server),
            ("stats.rs", None, server),
            ("crates/engine/", None, server),
            ("leaf.rs", Some("crates/engine"), server),
            ("inner.rs", None, None),
        ]
    );
    let root = root();
    let bases = bases(&root);
    let found = |i: usize| resolve(&root, &bases, &named[i]);
    assert_eq!(
        found(1),
        [PathBuf::from("crates/engine/src/db/counters.rs")]
    );
    // The section's directory wins over the other crates' files.
    assert_eq!(found(2), [PathBuf::from("crates/server/src/stats.rs")]);
    let nowhere = Named {
        line: 1,
        path: "no/such.rs".into(),
        context: None,
        section: None,
    };
    assert!(resolve(&root, &bases, &nowhere).is_empty());
}
