// SPDX-License-Identifier: GPL-2.0

//! Loom models of the DAX entry lock ([`crate::lock`], the protocol of fs/dax.c's
//! `get_unlocked_entry()` / `dax_unlock_entry()` / `put_unlocked_entry()`).
//!
//! One XArray slot holds a DAX entry under a mutex (the `i_pages` lock). The main thread starts
//! with the entry locked, spawns the other tasks and then unlocks it. Lockers take the entry
//! with [`get_unlocked_entry()`] + [`lock_entry()`], hold it, and release it with
//! [`unlock_entry()`]; a looker (as the busy-page scan does) waits for the entry to be unlocked
//! and hands it back with [`put_unlocked_entry()`]. All keys share one wait queue.
//!
//! Properties: mutual exclusion (at most one owner of the entry at a time), no lost wake-up
//! (every task finishes), the entry ends unlocked with no waiter left queued. Each planted bug
//! must make loom fail; the `seeded_bug_*` tests assert that it does, and how, by running the
//! `bug_*` model in a child process.

use super::waitq::{Task, WaitQueue};
use super::{expect_failure, model};
use crate::entry::{DaxEntry, Geometry, XaEntry};
use crate::geometries::PAGES_4K;
use crate::lock::{
    get_unlocked_entry, lock_entry, put_unlocked_entry, unlock_entry, EntryLockOps, Found, WaitKey,
    WakeMode,
};
use loom::sync::atomic::{AtomicUsize, Ordering::*};
use loom::sync::{Arc, Mutex, MutexGuard};
use loom::thread;

/// The address of the model's XArray and the index of its entry.
const XA: usize = 0xffff_8880_0000_1000;
const INDEX: usize = 0x200;

#[derive(Clone, Copy, Default)]
struct Cfg {
    lockers: usize,
    lookers: usize,
    /// Bug: the unlock wakes before it stores the unlocked entry.
    wake_before_store: bool,
    /// Bug: a looker does not pass its wake-up on.
    looker_keeps_wakeup: bool,
    /// Bug: the locker drops the XArray lock between finding the entry unlocked and locking it.
    split_test_and_set: bool,
}

struct Shared {
    /// The XArray slot; its mutex is the `i_pages` lock.
    slot: Mutex<XaEntry>,
    /// The wait table, reduced to one queue that every key hashes to.
    wq: WaitQueue<WaitKey>,
    /// How many tasks own the entry now.
    owners: AtomicUsize,
}

/// [`EntryLockOps`] on the model: a cursor at [`INDEX`] of the model XArray.
struct ModelOps<'a> {
    shared: &'a Shared,
    guard: Option<MutexGuard<'a, XaEntry>>,
    task: Arc<Task>,
}

impl<'a> ModelOps<'a> {
    /// A cursor of `task` on the model XArray, without the lock.
    fn new(shared: &'a Shared, task: Arc<Task>) -> Self {
        Self {
            shared,
            guard: None,
            task,
        }
    }
}

impl EntryLockOps for ModelOps<'_> {
    fn geometry(&self) -> Geometry {
        PAGES_4K
    }

    fn xa_lock(&mut self) {
        assert!(self.guard.is_none(), "xa_lock() with the lock held");
        self.guard = Some(self.shared.slot.lock().unwrap());
    }

    fn xa_unlock(&mut self) {
        assert!(self.guard.take().is_some(), "xa_unlock() without the lock");
    }

    fn load(&mut self) -> XaEntry {
        **self.guard.as_ref().expect("load() without the lock")
    }

    fn store(&mut self, entry: XaEntry) -> XaEntry {
        let slot = self.guard.as_mut().expect("store() without the lock");
        core::mem::replace(&mut **slot, entry)
    }

    fn key(&self, entry: DaxEntry) -> WaitKey {
        WaitKey::new(PAGES_4K, XA, INDEX, entry)
    }

    fn prepare(&mut self, key: WaitKey, exclusive: bool) {
        self.shared.wq.prepare(&self.task, key, exclusive);
    }

    fn sleep(&mut self) {
        self.task.schedule();
    }

    fn finish(&mut self, _key: WaitKey) {
        self.shared.wq.finish(&self.task);
    }

    fn wake(&mut self, key: WaitKey, mode: WakeMode) {
        // `dax_wake_entry()`: waitqueue_active(), then __wake_up(wq, TASK_NORMAL, nr, key).
        if self.shared.wq.active() {
            let nr = match mode {
                WakeMode::All => 0,
                WakeMode::Next => 1,
            };
            self.shared.wq.wake(key, nr);
        }
    }
}

/// The planted bug of `wake_before_store`: [`unlock_entry()`] with the wake-up first.
fn unlock_entry_wake_first<O: EntryLockOps>(ops: &mut O, entry: DaxEntry) -> XaEntry {
    let entry = entry.unlocked();
    let key = ops.key(entry);
    ops.wake(key, WakeMode::Next);
    ops.xa_lock();
    let old = ops.store(entry.to_xa());
    ops.xa_unlock();
    old
}

fn unlock(ops: &mut ModelOps<'_>, entry: DaxEntry, cfg: Cfg) {
    let old = if cfg.wake_before_store {
        unlock_entry_wake_first(ops, entry)
    } else {
        unlock_entry(ops, entry)
    };
    // The C code has BUG_ON(!dax_is_locked(old)).
    assert!(
        DaxEntry::from_xa(old).is_some_and(|e| e.is_locked()),
        "unlocked an entry that was not locked"
    );
}

/// A task that takes the entry, owns it for a moment and unlocks it.
fn locker(shared: &Shared, task: Arc<Task>, cfg: Cfg) {
    let mut ops = ModelOps::new(shared, task);
    ops.xa_lock();
    let Found::Unlocked(entry) = get_unlocked_entry(&mut ops, 0) else {
        panic!("the model's slot always holds a DAX entry");
    };
    if cfg.split_test_and_set {
        ops.xa_unlock();
        ops.xa_lock();
    }
    let old = lock_entry(&mut ops, entry);
    ops.xa_unlock();
    assert!(
        DaxEntry::from_xa(old).is_some_and(|e| !e.is_locked()),
        "mutual exclusion violated: locked an entry that was locked"
    );
    let owners = shared.owners.fetch_add(1, SeqCst) + 1;
    assert_eq!(
        owners, 1,
        "mutual exclusion violated: two owners of the entry"
    );
    shared.owners.fetch_sub(1, SeqCst);
    unlock(&mut ops, entry, cfg);
}

/// A task that waits for the entry to be unlocked and then leaves it (the busy-page scan).
fn looker(shared: &Shared, task: Arc<Task>, cfg: Cfg) {
    let mut ops = ModelOps::new(shared, task);
    ops.xa_lock();
    let found = get_unlocked_entry(&mut ops, 0);
    assert!(matches!(found, Found::Unlocked(_)));
    if !cfg.looker_keeps_wakeup {
        put_unlocked_entry(&mut ops, found, WakeMode::Next);
    }
    ops.xa_unlock();
}

fn run(cfg: Cfg) {
    let entry = DaxEntry::new(0x10_0000, 0).unwrap();
    let shared = Arc::new(Shared {
        slot: Mutex::new(entry.locked().to_xa()),
        wq: WaitQueue::new(),
        owners: AtomicUsize::new(1),
    });
    let mut handles = Vec::new();
    // Lookers first: they are the ones that can swallow a wake-one.
    for i in 0..cfg.lookers + cfg.lockers {
        let shared = shared.clone();
        let task = Task::new();
        handles.push(thread::spawn(move || {
            task.start();
            if i < cfg.lookers {
                looker(&shared, task, cfg);
            } else {
                locker(&shared, task, cfg);
            }
        }));
    }
    // The main thread owns the entry from the start; it releases it now.
    let mut ops = ModelOps::new(&shared, Task::new());
    ops.task.start();
    shared.owners.fetch_sub(1, SeqCst);
    unlock(&mut ops, entry, cfg);
    for h in handles {
        h.join().unwrap();
    }
    let end = DaxEntry::from_xa(*shared.slot.lock().unwrap()).unwrap();
    assert_eq!(end, entry, "the entry ended locked or changed");
    assert_eq!(shared.wq.len(), 0, "a waiter was left queued");
}

#[test]
fn entry_lock_two_lockers() {
    model(|| {
        run(Cfg {
            lockers: 2,
            ..Cfg::default()
        })
    });
}

#[test]
fn entry_lock_looker_passes_the_wakeup_on() {
    model(|| {
        run(Cfg {
            lookers: 1,
            lockers: 1,
            ..Cfg::default()
        })
    });
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_wake_before_store_is_caught"]
fn bug_wake_before_store() {
    model(|| {
        run(Cfg {
            lockers: 1,
            wake_before_store: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_wake_before_store_is_caught() {
    // Expected: the woken locker finds the entry still locked and sleeps for good.
    expect_failure("models::lock::bug_wake_before_store", "deadlock");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_looker_keeps_wakeup_is_caught"]
fn bug_looker_keeps_wakeup() {
    model(|| {
        run(Cfg {
            lookers: 1,
            lockers: 1,
            looker_keeps_wakeup: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_looker_keeps_wakeup_is_caught() {
    // Expected: the wake-one goes to the looker, which does not pass it on to the locker.
    expect_failure("models::lock::bug_looker_keeps_wakeup", "deadlock");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_split_test_and_set_is_caught"]
fn bug_split_test_and_set() {
    model(|| {
        run(Cfg {
            lockers: 2,
            split_test_and_set: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_split_test_and_set_is_caught() {
    expect_failure(
        "models::lock::bug_split_test_and_set",
        "mutual exclusion violated",
    );
}
