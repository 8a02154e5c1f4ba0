//! Requests that run scripts run on a stack of their own (a stackful
//! coroutine, corosensei), so that a script past `busy-reply-threshold`
//! can hand its serving thread back to the thread's other connections
//! (which answer -BUSY, or SCRIPT KILL) and carry on where it was.
//!
//! Owns those stacks (a few kept per thread), the switch onto one for a
//! turn of requests (`run`), and the switch back (`suspend`). It must
//! never be used for a turn without a script: every other request runs
//! on the serving thread's own stack, and pays nothing for this.

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use std::cell::{Cell, RefCell};
use std::ptr;

/// Bytes of each stack: a serving thread's own size.
const STACK_BYTES: usize = 2 << 20;
/// Stacks kept per thread between turns.
const KEPT: usize = 4;

thread_local! {
    static POOL: RefCell<Vec<DefaultStack>> = const { RefCell::new(Vec::new()) };
    /// The yielder of the stack this thread is running on, or null.
    static CURRENT: Cell<*const Yielder<(), ()>> = const { Cell::new(ptr::null()) };
    /// A turn runs here because no stack could be had (see `run`).
    static INLINE: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is running a turn meant for a request stack (see
/// `run`): on one, or here when none could be had.
pub fn on_stack() -> bool {
    !CURRENT.get().is_null() || INLINE.get()
}

/// A coroutine held across `await`s.
struct Held<R>(Coroutine<(), (), R, DefaultStack>);

// SAFETY: a connection's task is polled only by its core's thread (each
// serving thread drives its own single-threaded runtime, and a connection
// stays on it for life); the coroutine is made inside a poll and dropped
// before the task ends, so it never leaves that thread, although the
// task's type must be `Send` to be handed to the runtime.
unsafe impl<R> Send for Held<R> {}

/// Runs `f` (a turn of a connection's requests) on a stack of its own:
/// when a script inside calls `suspend`, this yields to the thread's
/// other tasks and then resumes it. If no stack can be had, `f` runs
/// here, and cannot be suspended.
pub async fn run<R, F: FnOnce() -> R>(f: F) -> R {
    let stack = POOL
        .with_borrow_mut(Vec::pop)
        .map_or_else(|| DefaultStack::new(STACK_BYTES), Ok);
    let Ok(stack) = stack else {
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                INLINE.set(false);
            }
        }
        INLINE.set(true);
        let _leave = Leave;
        return f();
    };
    let body = move |yielder: &Yielder<(), ()>, ()| {
        struct Leave;
        impl Drop for Leave {
            fn drop(&mut self) {
                CURRENT.set(ptr::null());
            }
        }
        CURRENT.set(ptr::from_ref(yielder));
        let _leave = Leave;
        f()
    };
    // SAFETY: `body` borrows what `f` borrows, which outlives this future;
    // the coroutine is local to it and is dropped (its stack unwound)
    // before the future completes or when the future is dropped, never
    // later, and it is never forgotten.
    let mut co = Held(unsafe { Coroutine::with_stack_unchecked(stack, body) });
    loop {
        match co.0.resume(()) {
            CoroutineResult::Return(r) => {
                let stack = co.0.into_stack();
                POOL.with_borrow_mut(|pool| {
                    if pool.len() < KEPT {
                        pool.push(stack);
                    }
                });
                return r;
            }
            CoroutineResult::Yield(()) => tokio::task::yield_now().await,
        }
    }
}

/// Hands the serving thread back to its other tasks, if running on a
/// request stack, and returns once this one is resumed; false (and
/// nothing done) otherwise.
pub fn suspend() -> bool {
    let yielder = CURRENT.replace(ptr::null());
    if yielder.is_null() {
        return false;
    }
    // SAFETY: `CURRENT` holds the yielder of the coroutine this code runs
    // on (set when it started, cleared when it ends, and taken out here
    // while it is suspended, so that another stack's turn meanwhile sees
    // its own); the yielder lives as long as that coroutine runs.
    unsafe { &*yielder }.suspend(());
    CURRENT.set(yielder);
    true
}
