// SPDX-License-Identifier: GPL-2.0

//! Loom models of the page-idle wait ([`crate::idle::wait_until_idle()`], the loop that
//! fs/dax_wait.rs runs) against the put path of mm/memremap.c.
//!
//! The page starts busy: the filesystem's reference plus one pin. Waiter threads run the shared
//! wait loop through an [`IdleWaiter`] built on the wait-queue model; the main thread drops the
//! pin the way `__put_devmap_managed_folio_refs()` does: a fully ordered decrement, and if the
//! page became idle, `wake_up_var(page)`, which looks at the queue locklessly first. All keys
//! hash to one queue, the worst case for key matching.
//!
//! Properties: no lost wake-up (loom fails a run in which a thread sleeps forever), a waiter that
//! returns `Ok` saw the page idle, a signal ends an interruptible wait without leaving an entry
//! behind. Each planted bug must make loom fail; the `seeded_bug_*` tests assert that it does, and how,
//! by running the `bug_*` model in a child process.

use super::waitq::{Task, WaitQueue};
use super::{expect_failure, model};
use crate::idle::{self, IdleWaiter, IDLE_REFCOUNT};
use loom::sync::atomic::{fence, AtomicI32, AtomicUsize, Ordering::*};
use loom::sync::Arc;
use loom::thread;

/// The key the waiters use: the address of the `struct page`.
const KEY_PAGE: usize = 0x1000;
/// `&page->_refcount`, 6.12's key, on both sides there; patch 01 moves both to the page.
const KEY_REFCOUNT: usize = 0x1034;

/// How the model is built; `Default` is the protocol as the series implements it.
#[derive(Clone, Copy)]
struct Cfg {
    waiters: usize,
    /// The waiters' wait is interruptible and another thread sends them a signal.
    signal: bool,
    /// Bug: the wait loop tests the count before it queues.
    test_before_queue: bool,
    /// Bug: the put path wakes this key instead of [`KEY_PAGE`].
    wake_key: usize,
    /// Bug when false: the put path's decrement is not fully ordered.
    put_full_barrier: bool,
    /// Bug when false: an interrupted `prepare` leaves the entry queued.
    unlink_on_signal: bool,
}

impl Default for Cfg {
    fn default() -> Self {
        Cfg {
            waiters: 1,
            signal: false,
            test_before_queue: false,
            wake_key: KEY_PAGE,
            put_full_barrier: true,
            unlink_on_signal: true,
        }
    }
}

struct Page {
    refcount: AtomicI32,
    wq: WaitQueue<usize>,
}

impl Page {
    /// The put path: `folio_ref_sub_return(folio, 1)`, then `wake_up_var()` if idle.
    fn put(&self, cfg: Cfg) {
        let new = if cfg.put_full_barrier {
            // A value-returning atomic is fully ordered: smp_mb() on both sides.
            fence(SeqCst);
            let old = self.refcount.fetch_sub(1, Relaxed);
            fence(SeqCst);
            old - 1
        } else {
            self.refcount.fetch_sub(1, Release) - 1
        };
        if idle::is_idle(new) && self.wq.active() {
            // `__wake_up_bit()`: waitqueue_active(), then __wake_up(wq, TASK_NORMAL, 1, key).
            self.wq.wake(cfg.wake_key, 1);
        }
    }
}

/// A waiter on the model page: [`IdleWaiter`] as fs/dax_wait.rs implements it, on the model.
struct ModelWaiter {
    page: Arc<Page>,
    task: Arc<Task>,
    cfg: Cfg,
}

impl IdleWaiter for ModelWaiter {
    type Interrupted = ();

    fn prepare(&mut self) -> Result<(), ()> {
        self.page.wq.prepare_event(
            &self.task,
            KEY_PAGE,
            self.cfg.signal,
            self.cfg.unlink_on_signal,
        )
    }

    fn ref_count(&self) -> i32 {
        // page_ref_count(): atomic_read().
        self.page.refcount.load(Relaxed)
    }

    fn sleep(&mut self) {
        self.task.schedule();
    }

    fn finish(&mut self) {
        self.page.wq.finish(&self.task);
    }
}

/// The planted bug of `test_before_queue`: the loop of [`idle::wait_until_idle()`] with the
/// test moved before the queueing.
fn wait_test_before_queue<W: IdleWaiter>(waiter: &mut W) -> Result<(), W::Interrupted> {
    loop {
        if idle::is_idle(waiter.ref_count()) {
            break;
        }
        waiter.prepare()?;
        waiter.sleep();
    }
    waiter.finish();
    Ok(())
}

fn run(cfg: Cfg) {
    let page = Arc::new(Page {
        refcount: AtomicI32::new(IDLE_REFCOUNT + 1),
        wq: WaitQueue::new(),
    });
    let returned_ok = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..cfg.waiters {
        let task = Task::new();
        tasks.push(task.clone());
        let mut w = ModelWaiter {
            page: page.clone(),
            task,
            cfg,
        };
        let returned_ok = returned_ok.clone();
        handles.push(thread::spawn(move || {
            w.task.start();
            let r = if cfg.test_before_queue {
                wait_test_before_queue(&mut w)
            } else {
                idle::wait_until_idle(&mut w)
            };
            if r.is_ok() {
                // The count only goes down to idle in this model, so it is idle still.
                assert!(
                    idle::is_idle(w.page.refcount.load(Relaxed)),
                    "the wait returned Ok while the page was busy"
                );
                returned_ok.fetch_add(1, Relaxed);
            }
        }));
    }
    if cfg.signal {
        let tasks = tasks.clone();
        handles.push(thread::spawn(move || {
            for t in &tasks {
                t.send_signal();
            }
        }));
    }
    page.put(cfg);
    for h in handles {
        h.join().unwrap();
    }
    if !cfg.signal {
        assert_eq!(
            returned_ok.load(Relaxed),
            cfg.waiters,
            "a waiter was not released"
        );
    }
    assert_eq!(page.wq.len(), 0, "a wait entry was left queued");
}

#[test]
fn idle_wait_releases_the_waiter() {
    model(|| run(Cfg::default()));
}

#[test]
fn idle_wait_releases_all_waiters() {
    model(|| {
        run(Cfg {
            waiters: 2,
            ..Cfg::default()
        })
    });
}

#[test]
fn idle_wait_signal_ends_the_wait_cleanly() {
    model(|| {
        run(Cfg {
            signal: true,
            ..Cfg::default()
        })
    });
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_test_before_queue_is_caught"]
fn bug_test_before_queue() {
    model(|| {
        run(Cfg {
            test_before_queue: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_test_before_queue_is_caught() {
    // Expected: a lost wake-up.
    expect_failure("models::idle::bug_test_before_queue", "deadlock");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_wake_on_refcount_key_is_caught"]
fn bug_wake_on_refcount_key() {
    model(|| {
        run(Cfg {
            wake_key: KEY_REFCOUNT,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_wake_on_refcount_key_is_caught() {
    // Expected: a lost wake-up.
    expect_failure("models::idle::bug_wake_on_refcount_key", "deadlock");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_put_without_full_barrier_is_caught"]
fn bug_put_without_full_barrier() {
    model(|| {
        run(Cfg {
            put_full_barrier: false,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_put_without_full_barrier_is_caught() {
    // Expected: a lost wake-up.
    expect_failure("models::idle::bug_put_without_full_barrier", "deadlock");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_signal_leaves_entry_queued_is_caught"]
fn bug_signal_leaves_entry_queued() {
    model(|| {
        run(Cfg {
            signal: true,
            unlink_on_signal: false,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_signal_leaves_entry_queued_is_caught() {
    // Expected: a stale wait entry.
    expect_failure(
        "models::idle::bug_signal_leaves_entry_queued",
        "left queued",
    );
}
