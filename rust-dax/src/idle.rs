// SPDX-License-Identifier: GPL-2.0

//! The page-idle wait protocol of fs-dax.
//!
//! C header: [`include/linux/dax.h`](srctree/include/linux/dax.h)
//!
//! This file is pure `core` code, shared byte for byte by `fs/dax_wait.rs` (which includes it as
//! a module and implements [`IdleWaiter`] with the kernel's wait queues) and by the host crate
//! `rust-dax`, where loom model-checks the same [`wait_until_idle()`] against a model of the
//! waker. It must not use `kernel::` or `std`.
//!
//! Two parties meet on the page's wait-queue key (the address of the `struct page`):
//!
//! - The waker drops a reference with a fully ordered atomic (`folio_ref_sub_return()`), and
//!   if the new count is idle ([`is_idle()`]) it wakes the page's key (`wake_up_var(page)`),
//!   which looks at the queue only if it is non-empty.
//! - The waiter queues itself and sets its task state *before* it reads the count, and sleeps
//!   only if the count was still busy. Either the waiter's read sees the idle count, or the
//!   waker's check sees the waiter queued: a wake-up cannot be lost between the two.
//!
//! Reading the count first and queueing afterwards, or waking a different key than the one
//! waited on (say, a put path still waking 6.12's key `&page->_refcount` while the waiters
//! wait on the page), loses wake-ups; the host models show both.
//!
//! A page that the filesystem zapped can be mapped again while the filesystem waits (the wait's
//! callback drops the lock that keeps faults out): the fault's entry then takes a reference on
//! the page again, and the page will not become idle until the filesystem zaps it again. The
//! fault stores its entry un-zapped and then wakes the page's key, with a full barrier between
//! the two, and the waiter checks for that after it queues, as it checks the count
//! ([`IdleWaiter::mapped_again()`]): the wait ends with [`WaitEnd::MappedAgain`], and the caller
//! looks for busy pages (and zaps) again.

/// The reference count of an idle fs-dax page.
///
/// fs-dax pages are 1-based: the page allocator never sees them, and the reference that
/// `memremap_pages()` initialised them with is the filesystem's.
pub(crate) const IDLE_REFCOUNT: i32 = 1;

/// Whether a page with reference count `refcount` is idle: nobody but the filesystem holds it.
pub(crate) const fn is_idle(refcount: i32) -> bool {
    refcount == IDLE_REFCOUNT
}

/// Why a wait for an idle page ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum WaitEnd {
    /// The page was seen idle.
    Idle,
    /// The page was mapped again since the caller's zap: it holds a reference of its entry,
    /// which only another zap drops.
    MappedAgain,
}

/// What a task waiting for a page to become idle needs from its environment.
///
/// The kernel implements it with `prepare_to_wait_event()`, `page_ref_count()`, `schedule()`
/// (or a callback that drops a lock around it) and `finish_wait()`; the host models with loom.
pub(crate) trait IdleWaiter {
    /// Why a wait ended before the page was idle (a pending signal).
    type Interrupted;

    /// Queues the waiter on the page's key, unless it is queued already, and marks it as about
    /// to sleep, so that a wake-up from now on is not missed.
    ///
    /// Returns `Err` if the wait is interruptible and a signal is pending; the waiter is then
    /// no longer queued.
    fn prepare(&mut self) -> Result<(), Self::Interrupted>;

    /// Reads the page's reference count.
    fn ref_count(&self) -> i32;

    /// Whether the page has been mapped again since the caller zapped it (its entry is no
    /// longer zapped). Always false where nothing can map the page (inode eviction).
    fn mapped_again(&self) -> bool;

    /// Sleeps until woken, unless a wake-up arrived since the last [`IdleWaiter::prepare()`].
    fn sleep(&mut self);

    /// Dequeues the waiter if it is still queued and marks it running.
    fn finish(&mut self);
}

/// Waits until the page of `waiter` is idle, or has been mapped again.
///
/// Returns why the wait ended, with the waiter dequeued, or the error of
/// [`IdleWaiter::prepare()`] if the wait was interrupted first. An idle page wins over a page
/// mapped again, and both win over a pending signal, as in the kernel's `___wait_var_event()`.
pub(crate) fn wait_until_idle<W: IdleWaiter>(waiter: &mut W) -> Result<WaitEnd, W::Interrupted> {
    let end = loop {
        // Queue first, then read the count: see the module documentation.
        let queued = waiter.prepare();
        if is_idle(waiter.ref_count()) {
            break WaitEnd::Idle;
        }
        if waiter.mapped_again() {
            break WaitEnd::MappedAgain;
        }
        queued?;
        waiter.sleep();
    };
    waiter.finish();
    Ok(end)
}
