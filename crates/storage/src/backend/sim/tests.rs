//! `SimFs` against its model: durability across crashes, torn writes,
//! failed syncs, directory entries, faults.

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A file system with the directory `/db`, and the path `/db/<name>`.
fn setup(name: &str) -> io::Result<(SimFs, PathBuf, PathBuf)> {
    let fs = SimFs::new();
    let dir = PathBuf::from("/db");
    fs.create_dir_all(&dir)?;
    let path = dir.join(name);
    Ok((fs, dir, path))
}

/// Creates `path` holding `bytes`, synced and with its entry durable.
fn durable(fs: &SimFs, dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file = fs.create(path)?;
    file.write_at(0, bytes)?;
    file.sync()?;
    fs.sync_dir(dir)
}

#[test]
fn synced_data_survives_a_crash_and_unsynced_data_does_not() -> TestResult {
    let (fs, dir, path) = setup("f")?;
    durable(&fs, &dir, &path, b"hello")?;
    let file = fs.open(&path)?;
    file.write_at(5, b" world")?;
    file.set_len(3)?;
    assert_eq!(fs.read_file(&path).as_deref(), Some(&b"hel"[..]));
    let after = fs.crash_clean();
    assert_eq!(after.read_file(&path).as_deref(), Some(&b"hello"[..]));
    file.sync()?;
    assert_eq!(
        fs.crash_clean().read_file(&path).as_deref(),
        Some(&b"hel"[..])
    );
    // The copy is deep: the old handle no longer reaches it.
    file.write_at(0, b"XYZ")?;
    assert_eq!(after.read_file(&path).as_deref(), Some(&b"hello"[..]));
    assert_eq!((fs.syncs(), fs.dir_syncs(), after.syncs()), (2, 1, 0));
    Ok(())
}

#[test]
fn a_power_cut_keeps_a_prefix_of_the_unsynced_writes_maybe_torn() -> TestResult {
    let (fs, dir, path) = setup("f")?;
    durable(&fs, &dir, &path, &[1; 8])?;
    let ops: [(usize, &[u8]); 4] = [(4, &[2; 8]), (0, &[3; 2]), (20, &[4; 4]), (6, &[5; 3])];
    let file = fs.open(&path)?;
    // Every outcome allowed: k whole writes, then a prefix of write k+1.
    let (mut allowed, mut whole) = (BTreeSet::new(), vec![vec![1u8; 8]]);
    let mut data = vec![1u8; 8];
    for (at, bytes) in ops {
        file.write_at(at as u64, bytes)?;
        for cut in 0..=bytes.len() {
            let mut torn = data.clone();
            write_into(&mut torn, at, bytes.get(..cut).unwrap_or_default());
            allowed.insert(torn);
        }
        write_into(&mut data, at, bytes);
        whole.push(data.clone());
    }
    let mut seen = BTreeSet::new();
    for seed in 0..2000 {
        let after = fs.crash(seed).read_file(&path).ok_or("file lost")?;
        assert!(allowed.contains(&after), "seed {seed}: {after:?}");
        assert_eq!(fs.crash(seed).read_file(&path), Some(after.clone()));
        seen.insert(after);
    }
    // Every whole prefix, and some torn writes, were seen.
    assert!(whole.iter().all(|w| seen.contains(w)), "{seen:?}");
    assert!(seen.iter().any(|s| !whole.contains(s)), "{seen:?}");
    Ok(())
}

#[test]
fn a_rename_is_undone_by_a_crash_unless_its_directory_is_synced() -> TestResult {
    let (fs, dir, old) = setup("CURRENT")?;
    durable(&fs, &dir, &old, b"old")?;
    let tmp = dir.join("CURRENT.tmp");
    let file = fs.create(&tmp)?;
    file.write_at(0, b"new")?;
    file.sync()?;
    fs.rename(&tmp, &old)?;
    assert_eq!(fs.read_file(&old).as_deref(), Some(&b"new"[..]));
    assert_eq!(fs.list(&dir)?, vec!["CURRENT".to_owned()]);
    let after = fs.crash(3);
    assert_eq!(after.read_file(&old).as_deref(), Some(&b"old"[..]));
    assert_eq!(after.list(&dir)?, vec!["CURRENT".to_owned()]);
    fs.sync_dir(&dir)?;
    assert_eq!(fs.crash(3).read_file(&old).as_deref(), Some(&b"new"[..]));
    Ok(())
}

#[test]
fn a_creation_or_removal_is_undone_unless_its_directory_is_synced() -> TestResult {
    let (fs, dir, path) = setup("kept")?;
    durable(&fs, &dir, &path, b"kept")?;
    let new = dir.join("new");
    fs.create(&new)?.sync()?;
    fs.remove(&path)?;
    assert!(fs.read_file(&path).is_none());
    let after = fs.crash_clean();
    assert!(after.read_file(&new).is_none());
    assert_eq!(after.read_file(&path).as_deref(), Some(&b"kept"[..]));
    fs.fail_sync_dir(1);
    assert!(fs.sync_dir(&dir).is_err());
    assert!(fs.crash_clean().read_file(&new).is_none());
    fs.sync_dir(&dir)?;
    let after = fs.crash_clean();
    assert_eq!(after.list(&dir)?, vec!["new".to_owned()]);
    Ok(())
}

#[test]
fn writes_before_a_failed_sync_are_never_durable() -> TestResult {
    let (fs, dir, path) = setup("log")?;
    durable(&fs, &dir, &path, b"aaaa")?;
    let file = fs.open(&path)?;
    file.write_at(4, b"bbbb")?;
    fs.fail_sync(1);
    assert!(file.sync().is_err());
    file.write_at(8, b"cccc")?;
    file.sync()?;
    assert_eq!(fs.read_file(&path).as_deref(), Some(&b"aaaabbbbcccc"[..]));
    let lost = fs.crash_clean().read_file(&path).ok_or("file lost")?;
    assert_eq!(lost, b"aaaa\0\0\0\0cccc");
    for seed in 0..50 {
        assert_eq!(fs.crash(seed).read_file(&path), Some(lost.clone()));
    }
    Ok(())
}

#[test]
fn injected_write_faults_fail_tear_and_fill() -> TestResult {
    let (fs, _, path) = setup("f")?;
    let (a, b) = (fs.create(&path)?, fs.create(&path.with_extension("b"))?);
    fs.fail_write(2);
    a.write_at(0, b"one")?;
    let err = b.write_at(0, b"two").err().ok_or("write 2 did not fail")?;
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(fs.read_file(&path.with_extension("b")), Some(Vec::new()));
    a.write_at(3, b"three")?;
    fs.tear_write(1, 2);
    assert!(a.write_at(8, b"four").is_err());
    assert_eq!(fs.read_file(&path).as_deref(), Some(&b"onethreefo"[..]));
    fs.disk_full_after(4);
    a.write_at(0, b"1234")?;
    let err = a.write_at(0, b"5").err().ok_or("disk not full")?;
    assert_eq!(err.kind(), ErrorKind::StorageFull);
    assert_eq!(fs.read_file(&path).as_deref(), Some(&b"1234hreefo"[..]));
    fs.clear_faults();
    a.write_at(0, b"5")?;
    assert_eq!(fs.writes(), 7);
    Ok(())
}

#[test]
fn a_kill_keeps_every_write_but_not_durability() -> TestResult {
    let (fs, dir, path) = setup("f")?;
    let file = fs.create(&path)?;
    file.write_at(0, b"unsynced")?;
    let after = fs.kill();
    assert_eq!(after.read_file(&path).as_deref(), Some(&b"unsynced"[..]));
    assert_eq!(after.list(&dir)?, vec!["f".to_owned()]);
    assert!(after.crash_clean().read_file(&path).is_none());
    Ok(())
}

#[test]
fn flip_bit_corrupts_current_and_durable_bytes() -> TestResult {
    let (fs, dir, path) = setup("f")?;
    durable(&fs, &dir, &path, &[0; 4])?;
    fs.flip_bit(&path, 2, 7)?;
    assert_eq!(fs.read_file(&path), Some(vec![0, 0, 0x80, 0]));
    assert_eq!(fs.durable_file(&path), Some(vec![0, 0, 0x80, 0]));
    assert!(fs.flip_bit(&path, 4, 0).is_err());
    assert!(fs.flip_bit(&path, 0, 8).is_err());
    Ok(())
}

#[test]
fn paths_reads_and_handles_behave_like_the_os() -> TestResult {
    let (fs, dir, path) = setup("f")?;
    let kind = |r: io::Result<Box<dyn StorageFile>>| r.err().map(|e| e.kind());
    assert_eq!(
        kind(fs.create(Path::new("/nodir/f"))),
        Some(ErrorKind::NotFound)
    );
    assert_eq!(kind(fs.open(&path)), Some(ErrorKind::NotFound));
    assert_eq!(
        fs.remove(&path).err().map(|e| e.kind()),
        Some(ErrorKind::NotFound)
    );
    assert!(fs.list(Path::new("/nodir")).is_err());
    let file = fs.create(&path)?;
    file.write_at(4, b"ab")?;
    let mut buf = [9u8; 8];
    assert_eq!(file.read_at(0, &mut buf)?, 6);
    assert_eq!(buf, [0, 0, 0, 0, b'a', b'b', 9, 9]);
    assert_eq!(file.read_at(6, &mut buf)?, 0);
    // An unlinked file stays usable through its open handle.
    fs.remove(&path)?;
    file.write_at(0, b"x")?;
    assert_eq!((file.len()?, fs.list(&dir)?.len()), (6, 0));
    // Creating an existing file truncates it, durably only once synced.
    durable(&fs, &dir, &path, b"abc")?;
    let file = fs.create(&path)?;
    assert_eq!(
        (file.len()?, fs.durable_file(&path)),
        (0, Some(b"abc".to_vec()))
    );
    Ok(())
}
