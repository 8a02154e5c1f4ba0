//! The open-file limit `maxclients` needs, as Redis's
//! `adjustOpenFilesLimit` sees to it: every client is a file descriptor,
//! and a few more are kept for the server's own files and sockets.
//!
//! Owns raising the process's `RLIMIT_NOFILE` as far as the OS allows and
//! saying how many clients fit. It never lowers the limit, and never
//! decides what to do when too few fit: start-up lowers `maxclients`
//! with a warning, CONFIG SET refuses.

/// Descriptors kept beside the clients' (Redis's
/// `CONFIG_MIN_RESERVED_FDS`).
pub const RESERVED_FDS: u64 = 32;

/// Raises the open-file limit so that `maxclients` clients fit, as far
/// as it can, and returns how many clients fit then: `maxclients`, or
/// fewer when the OS would not raise the limit far enough. `Err` when
/// the limit cannot be read.
pub fn fit(maxclients: u32) -> Result<u64, String> {
    // Two at once (two CONFIG SETs, servers starting side by side) would
    // each set the limit from what it read, and the smaller could win.
    static ONE_AT_A_TIME: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock();
    let wanted = u64::from(maxclients) + RESERVED_FDS;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for the call to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    let old = limit.rlim_cur;
    if old >= wanted {
        return Ok(u64::from(maxclients));
    }
    // The wanted limit; else the most the kernel lets a process have
    // (`fs.nr_open`, for a process allowed to raise its hard limit);
    // else the hard limit, which any process may raise its soft one to.
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    let tries = [
        Some(wanted),
        nr_open.filter(|&n| n < wanted),
        Some(limit.rlim_max.min(wanted)),
    ];
    let mut best = old;
    for want in tries.into_iter().flatten() {
        if want <= best {
            continue;
        }
        let next = libc::rlimit {
            rlim_cur: want,
            rlim_max: want.max(limit.rlim_max),
        };
        // SAFETY: `next` is a valid rlimit.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &next) } == 0 {
            best = want;
            break;
        }
    }
    Ok(best.saturating_sub(RESERVED_FDS).min(u64::from(maxclients)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_clients_fit_and_too_many_are_cut_to_what_the_os_allows() -> Result<(), String> {
        assert_eq!(fit(100)?, 100);
        // More than any kernel gives one process (nr_open is at most
        // 2^30 on Linux): cut to what the limit now is, and asking for
        // that fits.
        let most = fit(u32::MAX)?;
        assert!(most < u64::from(u32::MAX) && most >= 100, "{most}");
        assert_eq!(fit(u32::try_from(most).unwrap_or(u32::MAX))?, most);
        Ok(())
    }
}
