//! A real redis-server (Debian's 7.0), started by a test in a directory
//! of its own on a free port, and stopped when dropped.
//!
//! Where none is installed, `Redis::start` returns `None` and the test
//! says it was skipped, unless `TANDEM_REQUIRE_REDIS` is set (CI sets
//! it, after installing redis-server): then a missing server fails the
//! test, so CI never passes a test that did not run.

use super::{Error, Raw};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server.
pub struct Redis {
    child: Child,
    /// Its address.
    pub addr: SocketAddr,
    /// Its working directory, where it saves `dump.rdb`.
    pub dir: PathBuf,
}

impl Redis {
    /// Starts `redis-server` with `config` (pairs of a directive and its
    /// value, as on its command line). `None` if it is not installed
    /// and not required.
    pub fn start(config: &[(&str, &str)]) -> Result<Option<Redis>, Error> {
        let binary = std::env::var("TANDEM_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let found = Command::new(&binary)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            if std::env::var_os("TANDEM_REQUIRE_REDIS").is_some() {
                return Err(
                    format!("{binary} is required (TANDEM_REQUIRE_REDIS) but not found").into(),
                );
            }
            eprintln!("skipped: no {binary} here (apt-get install redis-server)");
            return Ok(None);
        }
        let dir = super::data_dir();
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let mut cmd = Command::new(&binary);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir);
        for (name, value) in config {
            cmd.arg(format!("--{name}")).arg(value);
        }
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let redis = Redis { child, addr, dir };
        // Ready when it answers PING.
        let deadline = Instant::now() + super::TIMEOUT;
        loop {
            if let Ok(mut c) = Raw::connect(addr) {
                if c.call(&super::encode_words("PING")).ok().as_deref() == Some(b"+PONG\r\n") {
                    return Ok(Some(redis));
                }
            }
            if Instant::now() > deadline {
                return Err(format!("{binary} did not answer on {addr}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A connection to it.
    pub fn connect(&self) -> Result<Raw, Error> {
        Raw::connect(self.addr)
    }

    /// Where SAVE writes.
    pub fn rdb_path(&self) -> PathBuf {
        self.dir.join("dump.rdb")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on now.
fn free_port() -> Result<u16, Error> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}
