//! Catching a panic in a future, at a connection's task boundary.
//!
//! Owns turning a panic while polling a future into a value, so that the
//! caller can log it with what it knows (the client, the command) and
//! close what the panic touched. It must never be used to carry on with
//! the state the panicking future was using: after a panic, that state is
//! only read for the log and then dropped.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future whose panics are returned as `Err` with the panic's payload.
pub struct Contained<F> {
    /// The future run.
    pub inner: F,
}

impl<F: Future + Unpin> Future for Contained<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        // Unwind safety: after a panic the connection's state is only read
        // for the log and for the replies already complete, then dropped.
        // State others share stays usable: the engine's locks do not
        // poison. (A panic inside an engine operation could leave what it
        // was changing half done; handlers, where panics are likeliest,
        // run between engine operations.)
        match panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The message a panic was raised with, when it has one.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_a_value_passes_through() -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let fine = runtime.block_on(Contained {
            inner: Box::pin(async { 7 }),
        });
        assert!(matches!(fine, Ok(7)));
        let caught = runtime.block_on(Contained {
            inner: Box::pin(async {
                if std::hint::black_box(true) {
                    panic!("boom {}", 1);
                }
            }),
        });
        let message = caught.as_ref().err().map(|p| panic_message(p.as_ref()));
        assert_eq!(message, Some("boom 1"));
        Ok(())
    }
}
