// SPDX-License-Identifier: GPL-2.0

//! The DAX entry lock and its wait table.
//!
//! C header: [`include/linux/dax.h`](srctree/include/linux/dax.h)
//!
//! This file is pure `core` code. Until the DAX mapping core moves to Rust (patch 16 of the
//! series, `drivers/dax/dax_mapping/`), the kernel runs the C original of this protocol in
//! fs/dax.c (`dax_entry_waitqueue()`, `get_unlocked_entry()`, `wait_entry_unlocked()`,
//! `put_unlocked_entry()`, `dax_lock_entry()`, `dax_unlock_entry()`), which this file follows
//! step for step; the host crate `rust-dax` model-checks it with loom. It must not use
//! `kernel::` or `std`.
//!
//! A DAX entry is locked by a bit in the entry itself ([`crate::entry::DAX_LOCKED`]), set and
//! cleared under the XArray lock (the `i_pages` lock). A task that finds the entry locked
//! queues itself, still under the XArray lock, on a wait queue of a hashed table, keyed by
//! (XArray, first index of the entry), then drops the XArray lock and sleeps. The unlocker
//! stores the unlocked entry under the XArray lock and wakes afterwards. Since checking the bit
//! and queueing happen under the same lock as the unlock's store, every task that saw the entry
//! locked is queued when the unlocker looks at the wait queue.
//!
//! Lockers wait exclusively and the unlocker wakes one of them ([`WakeMode::Next`]). A woken
//! task that then does not lock the entry must pass the wake-up on with
//! [`put_unlocked_entry()`], or the next waiter sleeps forever.

use crate::entry::{DaxEntry, Geometry, XaEntry};

/// Bits of a wait-table index: 4096 queues, as the per-zone page wait tables.
pub(crate) const WAIT_TABLE_BITS: u32 = 12;

/// The number of wait queues in the table.
pub(crate) const WAIT_TABLE_ENTRIES: usize = 1 << WAIT_TABLE_BITS;

/// The multiplier of the kernel's `hash_64()` (`GOLDEN_RATIO_64`).
pub(crate) const GOLDEN_RATIO_64: u64 = 0x61c8_8646_80b5_83eb;

/// The kernel's generic `hash_64()`: the top `bits` bits of `val * GOLDEN_RATIO_64`.
///
/// `bits` must be in `1..=64`.
pub(crate) const fn hash_64(val: u64, bits: u32) -> u64 {
    val.wrapping_mul(GOLDEN_RATIO_64) >> (64 - bits)
}

/// The key that entry waiters and wakers match on (`struct exceptional_entry_key`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct WaitKey {
    /// The address of the XArray.
    pub(crate) xa: usize,
    /// The first index the entry covers.
    pub(crate) entry_start: usize,
}

impl WaitKey {
    /// The key of `entry`, found at `index` of the XArray at address `xa`, in geometry `g`.
    ///
    /// For a PMD entry the index is aligned down to the PMD, so that every index the entry
    /// covers has the same key (`dax_entry_waitqueue()`).
    pub(crate) const fn new(g: Geometry, xa: usize, index: usize, entry: DaxEntry) -> Self {
        let entry_start = if entry.is_pmd() {
            index & !g.pmd_colour()
        } else {
            index
        };
        Self { xa, entry_start }
    }

    /// The index of the key's queue in the wait table (`hash_long(xa ^ index, 12)`).
    pub(crate) const fn bucket(self) -> usize {
        // Lossless: `usize` is 64 bits wide on every architecture with fs-dax and Rust, and
        // the result has `WAIT_TABLE_BITS` bits.
        hash_64((self.xa ^ self.entry_start) as u64, WAIT_TABLE_BITS) as usize
    }
}

/// Whom an unlock wakes (`enum dax_wake_mode`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum WakeMode {
    /// Every waiter of the key.
    All,
    /// One exclusive waiter of the key (and every non-exclusive one).
    Next,
}

/// What [`get_unlocked_entry()`] found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Found {
    /// No entry (`NULL`).
    Nothing,
    /// An entry of a smaller order than asked for (`XA_RETRY_ENTRY`).
    Conflict,
    /// Something that is not a value entry; the C code warns.
    NotDax(XaEntry),
    /// An unlocked DAX entry. The XArray lock has been held since it was read.
    Unlocked(DaxEntry),
}

/// What the entry-lock protocol needs from its environment: an XArray cursor at one index with
/// its lock, and the wait table.
///
/// The kernel implements it with `xas_*()` and the wait queues of fs/dax.c; the host models
/// with loom.
pub(crate) trait EntryLockOps {
    /// The page geometry of the entries.
    fn geometry(&self) -> Geometry;

    /// Takes the XArray lock (`xas_lock_irq()`).
    fn xa_lock(&mut self);

    /// Drops the XArray lock (`xas_unlock_irq()`) and resets the cursor.
    fn xa_unlock(&mut self);

    /// Reads the entry at the cursor's index (`xas_find_conflict()`). The lock is held.
    fn load(&mut self) -> XaEntry;

    /// Stores `entry` at the cursor's index and returns the previous one (`xas_store()`). The
    /// lock is held.
    fn store(&mut self, entry: XaEntry) -> XaEntry;

    /// The wait key of `entry` at the cursor's index.
    fn key(&self, entry: DaxEntry) -> WaitKey;

    /// Queues the task on the queue of `key`, unless it is queued already, and marks it as
    /// about to sleep uninterruptibly; `exclusive` waiters are queued behind the others and
    /// woken one at a time (`prepare_to_wait_exclusive()` or `prepare_to_wait()`).
    fn prepare(&mut self, key: WaitKey, exclusive: bool);

    /// Sleeps until woken, unless a wake-up arrived since [`EntryLockOps::prepare()`].
    fn sleep(&mut self);

    /// Dequeues the task if it is still queued and marks it running (`finish_wait()`).
    fn finish(&mut self, key: WaitKey);

    /// Wakes the waiters of `key` as `mode` says, if its queue has any (`__wake_up()` after
    /// `waitqueue_active()`).
    fn wake(&mut self, key: WaitKey, mode: WakeMode);
}

/// Looks up the entry at the cursor and waits until it is unlocked (`get_unlocked_entry()`).
///
/// Called and returns with the XArray lock held. The caller must then either lock an
/// [`Found::Unlocked`] entry with [`lock_entry()`] or hand it to [`put_unlocked_entry()`].
pub(crate) fn get_unlocked_entry<O: EntryLockOps>(ops: &mut O, order: u32) -> Found {
    loop {
        let xa = ops.load();
        if xa == XaEntry(0) {
            return Found::Nothing;
        }
        let Some(entry) = DaxEntry::from_xa(xa) else {
            return Found::NotDax(xa);
        };
        if entry.order(ops.geometry()) < order {
            return Found::Conflict;
        }
        if !entry.is_locked() {
            return Found::Unlocked(entry);
        }
        // Queue before dropping the lock that the unlocker needs to clear the bit.
        let key = ops.key(entry);
        ops.prepare(key, true);
        ops.xa_unlock();
        ops.sleep();
        ops.finish(key);
        ops.xa_lock();
    }
}

/// Waits once for the locked `entry` to be unlocked, without taking it (`wait_entry_unlocked()`).
///
/// Called with the XArray lock held; returns with it dropped. The wait is not exclusive: this
/// path may never lock the entry and so could not pass an exclusive wake-up on.
pub(crate) fn wait_entry_unlocked<O: EntryLockOps>(ops: &mut O, entry: DaxEntry) {
    let key = ops.key(entry);
    ops.prepare(key, false);
    ops.xa_unlock();
    ops.sleep();
    ops.finish(key);
}

/// Passes on a wake-up for an entry that [`get_unlocked_entry()`] returned and the caller did not
/// lock (`put_unlocked_entry()`).
pub(crate) fn put_unlocked_entry<O: EntryLockOps>(ops: &mut O, found: Found, mode: WakeMode) {
    if let Found::Unlocked(entry) = found {
        let key = ops.key(entry);
        ops.wake(key, mode);
    }
}

/// Locks `entry`, which [`get_unlocked_entry()`] returned with the XArray lock still held
/// (`dax_lock_entry()`). Returns the entry stored before.
pub(crate) fn lock_entry<O: EntryLockOps>(ops: &mut O, entry: DaxEntry) -> XaEntry {
    ops.store(entry.locked().to_xa())
}

/// Stores `entry` unlocked in place of the locked entry and wakes the next waiter
/// (`dax_unlock_entry()`).
///
/// Called without the XArray lock. Returns the entry that was replaced, which the caller expects
/// to be a locked DAX entry (the C code has a `BUG_ON()` for both conditions).
pub(crate) fn unlock_entry<O: EntryLockOps>(ops: &mut O, entry: DaxEntry) -> XaEntry {
    let entry = entry.unlocked();
    ops.xa_lock();
    let old = ops.store(entry.to_xa());
    ops.xa_unlock();
    // Wake only after the unlocked entry is visible: a waiter woken earlier would find the
    // entry still locked and go back to sleep for good.
    let key = ops.key(entry);
    ops.wake(key, WakeMode::Next);
    old
}
