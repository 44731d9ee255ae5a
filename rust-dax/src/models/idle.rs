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
//! With `refault`, a fault maps the zapped page again while the waiter waits, as a fault can
//! while the break-layouts callback has dropped the filesystem's lock: it takes the entry's
//! reference (a fully ordered increment), stores the entry un-zapped, and wakes the page's key
//! after a full barrier; the pin is then dropped with the page still busy (its entry holds it),
//! so the put path does not wake, and only the fault's wake-up can end the wait.
//!
//! Properties: no lost wake-up (loom fails a run in which a thread sleeps forever), a waiter that
//! returns `Idle` saw the page idle and one that returns `MappedAgain` saw the entry un-zapped, a
//! signal ends an interruptible wait without leaving an entry behind. Each planted bug must make loom fail; the `seeded_bug_*` tests assert that it does, and how,
//! by running the `bug_*` model in a child process.

use super::waitq::{Task, WaitQueue};
use super::{expect_failure, model};
use crate::idle::{self, IdleWaiter, WaitEnd, IDLE_REFCOUNT};
use loom::sync::atomic::{fence, AtomicBool, AtomicI32, AtomicUsize, Ordering::*};
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
    /// A fault maps the page again during the wait (see the module documentation).
    refault: bool,
    /// Bug when false: the fault does not wake the page's key.
    refault_wakes: bool,
    /// Bug: the fault wakes before it stores the entry un-zapped.
    refault_wakes_early: bool,
    /// Bug: the wait loop does not check for a page mapped again (the loop before the fix).
    ignore_mapped_again: bool,
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
            refault: false,
            refault_wakes: true,
            refault_wakes_early: false,
            ignore_mapped_again: false,
        }
    }
}

struct Page {
    refcount: AtomicI32,
    /// The page's entry is not zapped (it was mapped again).
    unzapped: AtomicBool,
    wq: WaitQueue<usize>,
}

impl Page {
    /// The fault that maps the zapped page again (fs/dax_insert.rs): the entry's reference
    /// (`folio_ref_inc_return()`, fully ordered), the un-zapped entry stored under the i_pages
    /// lock, then `smp_mb()` and `wake_up_var(page)`.
    fn refault(&self, cfg: Cfg) {
        fence(SeqCst);
        self.refcount.fetch_add(1, Relaxed);
        fence(SeqCst);
        let wake = || {
            fence(SeqCst);
            if cfg.refault_wakes && self.wq.active() {
                self.wq.wake(KEY_PAGE, 1);
            }
        };
        if cfg.refault_wakes_early {
            wake();
        }
        // The store under the i_pages lock: its unlock is a release.
        self.unzapped.store(true, Release);
        if !cfg.refault_wakes_early {
            wake();
        }
    }

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

    fn mapped_again(&self) -> bool {
        // xa_load() of the page's entry: an RCU-protected load.
        !self.cfg.ignore_mapped_again && self.page.unzapped.load(Acquire)
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
fn wait_test_before_queue<W: IdleWaiter>(waiter: &mut W) -> Result<WaitEnd, W::Interrupted> {
    loop {
        if idle::is_idle(waiter.ref_count()) {
            break;
        }
        waiter.prepare()?;
        waiter.sleep();
    }
    waiter.finish();
    Ok(WaitEnd::Idle)
}

fn run(cfg: Cfg) {
    let page = Arc::new(Page {
        refcount: AtomicI32::new(IDLE_REFCOUNT + 1),
        unzapped: AtomicBool::new(false),
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
            match r {
                // Without a re-fault the count only goes down to idle, so it is idle still.
                Ok(WaitEnd::Idle) if !cfg.refault => assert!(
                    idle::is_idle(w.page.refcount.load(Relaxed)),
                    "the wait returned Idle while the page was busy"
                ),
                Ok(WaitEnd::MappedAgain) => assert!(
                    w.page.unzapped.load(Relaxed),
                    "the wait returned MappedAgain for a zapped entry"
                ),
                _ => {}
            }
            if r.is_ok() {
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
    if cfg.refault {
        // The fault comes first, so the put leaves the page busy: only its wake-up helps.
        page.refault(cfg);
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

#[test]
fn idle_wait_ends_when_the_page_is_mapped_again() {
    model(|| {
        run(Cfg {
            refault: true,
            ..Cfg::default()
        })
    });
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_refault_without_wake_is_caught"]
fn bug_refault_without_wake() {
    model(|| {
        run(Cfg {
            refault: true,
            refault_wakes: false,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_refault_without_wake_is_caught() {
    // Expected: the waiter sleeps forever (the P10 wait before the fix, half of it).
    expect_failure("models::idle::bug_refault_without_wake", "deadlock");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_refault_wakes_before_store_is_caught"]
fn bug_refault_wakes_before_store() {
    model(|| {
        run(Cfg {
            refault: true,
            refault_wakes_early: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_refault_wakes_before_store_is_caught() {
    // Expected: a lost wake-up.
    expect_failure("models::idle::bug_refault_wakes_before_store", "deadlock");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_wait_ignores_mapped_again_is_caught"]
fn bug_wait_ignores_mapped_again() {
    model(|| {
        run(Cfg {
            refault: true,
            ignore_mapped_again: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_wait_ignores_mapped_again_is_caught() {
    // Expected: the waiter sleeps forever (the wait of patch 01 with the entry references of
    // patch 10).
    expect_failure("models::idle::bug_wait_ignores_mapped_again", "deadlock");
}
