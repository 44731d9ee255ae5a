// SPDX-License-Identifier: GPL-2.0

//! A loom model of the kernel's wait queues and task states, as the idle-wait and entry-lock
//! protocols use them (kernel/sched/wait.c, kernel/sched/core.c).
//!
//! - A task has a state: running, or about to sleep / sleeping (`set_current_state()`), and
//!   possibly a pending signal. `schedule()` returns only once the task is running again.
//! - A wait queue is a list of (task, key, exclusive) entries under a spinlock. Non-exclusive
//!   entries are added at the head, exclusive ones at the tail (`prepare_to_wait()` vs.
//!   `prepare_to_wait_exclusive()`).
//! - A wake-up walks the list under the lock; an entry with another key is skipped (the wake
//!   functions of wait_bit.c and fs/dax.c compare keys); an entry of a task that is already
//!   running is skipped and stays queued (`try_to_wake_up()` fails); otherwise the task is made
//!   running and its entry removed (`autoremove_wake_function()`). A wake-one stops after the
//!   first exclusive entry it woke.
//! - `waitqueue_active()`, which wakers test before taking the lock, is a lockless read of the
//!   list head, correct only with a full barrier on both sides; the model keeps the list length
//!   in an atomic and uses `fence(SeqCst)` for `smp_mb()`, which loom models exactly.

use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering::*};
use loom::sync::{Arc, Mutex};
use loom::thread::{self, Thread};
use std::sync::OnceLock;

/// A task.
pub(crate) struct Task {
    /// Whether the task is running (`TASK_RUNNING`), as opposed to about to sleep or asleep.
    running: AtomicBool,
    /// Whether its sleep may be ended by a signal (`TASK_INTERRUPTIBLE`).
    interruptible: AtomicBool,
    /// A signal is pending.
    signal: AtomicBool,
    /// The loom thread that runs the task, set when it starts.
    thread: OnceLock<Thread>,
}

impl Task {
    /// A running task; the thread that runs it calls [`Task::start()`] first.
    pub(crate) fn new() -> Arc<Task> {
        Arc::new(Task {
            running: AtomicBool::new(true),
            interruptible: AtomicBool::new(false),
            signal: AtomicBool::new(false),
            thread: OnceLock::new(),
        })
    }

    /// Binds the task to the calling loom thread.
    pub(crate) fn start(&self) {
        self.thread
            .set(thread::current())
            .expect("a task runs on one thread");
    }

    /// `set_current_state()`: about to sleep; a full barrier follows (`smp_store_mb()`).
    pub(crate) fn set_sleeping(&self, interruptible: bool) {
        self.interruptible.store(interruptible, Relaxed);
        self.running.store(false, Relaxed);
        fence(SeqCst);
    }

    /// `__set_current_state(TASK_RUNNING)`.
    pub(crate) fn set_running(&self) {
        self.running.store(true, Relaxed);
    }

    /// `schedule()`: returns once the task is running; an interruptible sleeper with a signal
    /// pending does not sleep (`signal_pending_state()` in `__schedule()`).
    pub(crate) fn schedule(&self) {
        loop {
            if self.running.load(Acquire) {
                return;
            }
            if self.interruptible.load(Relaxed) && self.signal.load(Relaxed) {
                self.set_running();
                return;
            }
            thread::park();
        }
    }

    /// `try_to_wake_up()`: makes a sleeping task running; false if it was running already.
    fn try_wake(&self) -> bool {
        if self.running.swap(true, AcqRel) {
            return false;
        }
        self.thread
            .get()
            .expect("a sleeping task has started")
            .unpark();
        true
    }

    /// `signal_wake_up()`: a signal is pending; an interruptible sleeper is woken. It stays on
    /// any wait queue.
    pub(crate) fn send_signal(&self) {
        // `signal_wake_up_state()`: set TIF_SIGPENDING, then `try_to_wake_up()`, whose
        // `smp_mb__after_spinlock()` orders the flag before the read of the task state.
        self.signal.store(true, Relaxed);
        fence(SeqCst);
        if self.interruptible.load(Relaxed) {
            self.try_wake();
        }
    }

    /// `signal_pending()`.
    pub(crate) fn signal_pending(&self) -> bool {
        self.signal.load(Relaxed)
    }
}

struct Entry<K> {
    task: Arc<Task>,
    key: K,
    exclusive: bool,
}

/// A wait queue head, whose waiters wait for keys of type `K`.
pub(crate) struct WaitQueue<K> {
    list: Mutex<Vec<Entry<K>>>,
    /// The list length, for the lockless `waitqueue_active()`.
    len: AtomicUsize,
}

impl<K: Copy + PartialEq> WaitQueue<K> {
    pub(crate) fn new() -> Self {
        Self {
            list: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
        }
    }

    /// The number of entries (for assertions after the model's threads are done).
    pub(crate) fn len(&self) -> usize {
        self.list.lock().unwrap().len()
    }

    /// Adds `task` for `key` unless it is queued already (the `list_empty(&entry)` test):
    /// exclusive waiters at the tail, the others at the head. The list lock is held.
    fn enqueue(&self, list: &mut Vec<Entry<K>>, task: &Arc<Task>, key: K, exclusive: bool) {
        if list.iter().any(|e| Arc::ptr_eq(&e.task, task)) {
            return;
        }
        let entry = Entry {
            task: task.clone(),
            key,
            exclusive,
        };
        if exclusive {
            list.push(entry);
        } else {
            list.insert(0, entry);
        }
        self.len.store(list.len(), Relaxed);
    }

    /// Removes `task`'s entry, if any (`list_del_init()`). The list lock is held.
    fn unlink(&self, list: &mut Vec<Entry<K>>, task: &Arc<Task>) {
        list.retain(|e| !Arc::ptr_eq(&e.task, task));
        self.len.store(list.len(), Relaxed);
    }

    /// Queues `task` for `key` and marks it as about to sleep uninterruptibly
    /// (`prepare_to_wait{,_exclusive}()`).
    pub(crate) fn prepare(&self, task: &Arc<Task>, key: K, exclusive: bool) {
        let mut list = self.list.lock().unwrap();
        self.enqueue(&mut list, task, key, exclusive);
        task.set_sleeping(false);
    }

    /// `prepare_to_wait_event()`, non-exclusive: for an interruptible wait with a signal
    /// pending, the entry is removed and `Err` returned; otherwise as [`WaitQueue::prepare()`],
    /// with the task state interruptible or not.
    ///
    /// `unlink_on_signal == false` plants a bug: the entry stays queued on the error path.
    pub(crate) fn prepare_event(
        &self,
        task: &Arc<Task>,
        key: K,
        interruptible: bool,
        unlink_on_signal: bool,
    ) -> Result<(), ()> {
        let mut list = self.list.lock().unwrap();
        if interruptible && task.signal_pending() {
            if unlink_on_signal {
                self.unlink(&mut list, task);
            }
            return Err(());
        }
        self.enqueue(&mut list, task, key, false);
        task.set_sleeping(interruptible);
        Ok(())
    }

    /// `finish_wait()`: running again, and dequeued if still queued.
    pub(crate) fn finish(&self, task: &Arc<Task>) {
        task.set_running();
        let mut list = self.list.lock().unwrap();
        self.unlink(&mut list, task);
    }

    /// `waitqueue_active()`: the lockless look at the list. The caller has issued a full
    /// barrier after the store that the waiters test.
    pub(crate) fn active(&self) -> bool {
        self.len.load(Relaxed) != 0
    }

    /// `__wake_up(wq, TASK_NORMAL, nr_exclusive, key)`: wakes the waiters of `key`, stopping
    /// after `nr_exclusive` exclusive ones (0: all).
    pub(crate) fn wake(&self, key: K, nr_exclusive: usize) {
        let mut list = self.list.lock().unwrap();
        let mut left = nr_exclusive;
        let mut i = 0;
        while i < list.len() {
            let e = &list[i];
            if e.key != key || !e.task.try_wake() {
                i += 1;
                continue;
            }
            let exclusive = e.exclusive;
            list.remove(i);
            if exclusive && nr_exclusive != 0 {
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
        self.len.store(list.len(), Relaxed);
    }
}
