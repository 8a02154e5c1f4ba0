//! The thread scrapes are written on: one per metrics port, at the
//! scheduler's idle priority (Linux's `SCHED_IDLE`).
//!
//! Owns that thread and the hand-off to it. Why a thread of its own at
//! idle priority: a scrape of a server with 16 databases of 1,024 shards
//! writes ~50,000 series, ~6 ms of CPU; on a machine whose cores the
//! serving threads keep busy, a scrape at normal priority took a core
//! from them and showed in clients' tail latency (docs/BENCHMARKS.md,
//! "/metrics"). At idle priority it runs only on CPU time nobody else
//! wants, so a busy server's scrape takes longer instead. It is given
//! numbers already read (`gather`, at normal priority): it must never
//! take a lock others wait for, since it may not run again for a long
//! time. A panic while writing is caught, logged and answered as a
//! failed scrape; the thread goes on.

use super::collect::render;
use super::gather::Gathered;
use tokio::sync::oneshot;

/// What to write, and where to send the text.
type Job = (Gathered, oneshot::Sender<Option<String>>);

/// The render thread's inbox; the thread ends when this is dropped.
pub(super) struct RenderThread {
    jobs: flume::Sender<Job>,
}

impl RenderThread {
    /// Starts the thread.
    pub(super) fn start() -> std::io::Result<RenderThread> {
        let (jobs, inbox) = flume::bounded::<Job>(4);
        std::thread::Builder::new()
            .name("tandem-metrics".into())
            .spawn(move || {
                if let Err(e) = idle_priority() {
                    tracing::warn!("metrics: cannot lower the render thread's priority: {e}");
                }
                for (numbers, reply) in inbox.iter() {
                    if reply.is_closed() {
                        continue;
                    }
                    let written = std::panic::catch_unwind(move || render(numbers));
                    let text = match written {
                        Ok(Ok(text)) => Some(text),
                        Ok(Err(e)) => {
                            tracing::error!("metrics: cannot write the scrape: {e}");
                            None
                        }
                        Err(_) => {
                            tracing::error!("metrics: writing the scrape panicked");
                            None
                        }
                    };
                    let _ = reply.send(text);
                }
            })?;
        Ok(RenderThread { jobs })
    }

    /// The metrics text for `numbers`, written on the thread; `None` if it
    /// could not be written.
    pub(super) async fn render(&self, numbers: Gathered) -> Option<String> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send_async((numbers, reply)).await.ok()?;
        answer.await.ok().flatten()
    }
}

/// Puts the calling thread in `SCHED_IDLE`.
fn idle_priority() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `sched_setscheduler` reads `param` (a valid, initialised
    // struct that outlives the call) and changes only the scheduling of
    // thread 0, the calling thread.
    let done = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
