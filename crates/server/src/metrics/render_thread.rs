//! The thread scrapes are rendered on: one per metrics port, at the
//! scheduler's idle priority (Linux's `SCHED_IDLE`).
//!
//! Owns that thread and the hand-off to it. Why a thread of its own at
//! idle priority: a scrape of a server with 16 databases of 1,024 shards
//! writes ~50,000 series, ~6 ms of CPU; on a machine whose cores the
//! serving threads keep busy, a scrape at normal priority took a core
//! from them and showed in clients' tail latency (docs/BENCHMARKS.md,
//! "/metrics"). At idle priority it runs only on CPU time nobody else
//! wants, so a busy server's scrape takes longer instead. It must never
//! be given other work: anything it runs waits behind every other thread.

use super::collect::render;
use crate::shared::Shared;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A request for one rendering, answered on the channel it carries.
type Job = oneshot::Sender<Result<String, std::fmt::Error>>;

/// The render thread's inbox; the thread ends when this is dropped.
pub(super) struct RenderThread {
    jobs: flume::Sender<Job>,
}

impl RenderThread {
    /// Starts the thread for `shared`'s scrapes.
    pub(super) fn start(shared: Arc<Shared>) -> std::io::Result<RenderThread> {
        let (jobs, inbox) = flume::bounded::<Job>(4);
        std::thread::Builder::new()
            .name("tandem-metrics".into())
            .spawn(move || {
                if let Err(e) = idle_priority() {
                    tracing::warn!("metrics: cannot lower the render thread's priority: {e}");
                }
                for job in inbox.iter() {
                    let _ = job.send(render(&shared));
                }
            })?;
        Ok(RenderThread { jobs })
    }

    /// The metrics text, rendered on the thread; `None` if it is gone.
    pub(super) async fn render(&self) -> Option<Result<String, std::fmt::Error>> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send_async(reply).await.ok()?;
        answer.await.ok()
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
