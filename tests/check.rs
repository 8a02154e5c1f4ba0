//! `tandem check` as an operator runs it: the real binary over files a
//! store wrote to the real file system, and its exit codes (0 sound, 1 a
//! torn tail left in place, 2 corruption).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tandem_engine::{Db, KeyValue, Options, SetOptions, Store, StoreOptions};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tandem-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes 100 keys and a snapshot of them into `<dir>/appendonlydir`, then
/// 5 changes to the log after it, and closes the store.
fn fill(dir: &Path) {
    let dbs = (0..2)
        .map(|i| Db::new(Options::default().db_index(i)))
        .collect();
    let (store, _) = Store::open(&dir.join("appendonlydir"), StoreOptions::default(), dbs).unwrap();
    let db = store.db(0).unwrap();
    for i in 0..100 {
        db.set(
            format!("key:{i}").as_bytes(),
            b"value",
            SetOptions::default(),
        )
        .unwrap();
    }
    store.snapshot().unwrap();
    for i in 0..5 {
        db.set(
            format!("late:{i}").as_bytes(),
            b"value",
            SetOptions::default(),
        )
        .unwrap();
    }
    store.close().unwrap();
}

fn run(dir: &Path, fix: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
    cmd.arg("check").arg("--dir").arg(dir);
    if fix {
        cmd.arg("--fix");
    }
    cmd.output().unwrap()
}

/// The files in the data directory whose names satisfy `pick`, sorted.
fn files(dir: &Path, pick: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| pick(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    found.sort();
    found
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn sound_files_pass_and_a_torn_tail_fails_until_fixed() {
    let dir = temp_dir("torn");
    fill(&dir);
    let out = run(&dir, false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("100 keys"), "{stdout}");
    assert!(stdout.contains("5 records"), "{stdout}");

    let segment = files(&dir, |n| n.ends_with(".wal")).pop().unwrap();
    let len = std::fs::metadata(&segment).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap();
    file.set_len(len - 3).unwrap();
    drop(file);

    let out = run(&dir, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("--fix"), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("torn tail"));
    assert!(std::fs::metadata(&segment).unwrap().len() == len - 3);

    let out = run(&dir, true);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("cut off"), "{stdout}");
    assert!(stdout.contains("4 records"), "{stdout}");

    let out = run(&dir, false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("4 records"), "{stdout}");
    assert!(
        stdout.contains("the files are sound") && !stdout.contains("torn tail"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_byte_in_the_snapshot_exits_2_naming_the_file() {
    let dir = temp_dir("corrupt");
    fill(&dir);
    let snapshot = files(&dir, |n| n.starts_with("snapshot.")).pop().unwrap();
    let mut bytes = std::fs::read(&snapshot).unwrap();
    // Inside the first data block, past the 8-byte magic.
    bytes[20] ^= 0x10;
    std::fs::write(&snapshot, &bytes).unwrap();
    let out = run(&dir, true);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let name = snapshot.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        stderr.contains(&name) && stderr.contains("corrupt"),
        "{stderr}"
    );
    // Even with --fix, a check changes nothing but a torn tail.
    assert_eq!(std::fs::read(&snapshot).unwrap(), bytes);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_directory_exits_2_and_an_empty_one_holds_no_data() {
    let dir = temp_dir("empty");
    let out = run(&dir, false);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    std::fs::create_dir_all(dir.join("appendonlydir")).unwrap();
    let out = run(&dir, false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no data"));
    std::fs::remove_dir_all(&dir).unwrap();
}
