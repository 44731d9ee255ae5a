// SPDX-License-Identifier: GPL-2.0

//! The reference protocol of `pgmap_request_folios()` and `pgmap_release_folios()`.
//!
//! C header: [`include/linux/memremap_folio.h`](srctree/include/linux/memremap_folio.h)
//!
//! This file is pure `core` code, shared byte for byte by `mm/memremap_folio.rs` (which
//! implements [`Pgmap`] and [`Folio`] with `struct dev_pagemap` and `struct folio`) and by the
//! host crate `rust-memremap`, where it is property-tested and loom model-checks the same
//! [`request()`] and [`release()`] against a model of the pgmap's kill. It must not use
//! `kernel::` or `std`.
//!
//! A user of ZONE_DEVICE memory (fs-dax when it maps a page into a file) *requests* the folios
//! it hands out and *releases* them when it is done. A request takes one reference on each
//! folio. A folio whose count goes from 0 to 1 is one that its pgmap handed out afresh, and its
//! first reference also holds the pgmap: the request takes a pgmap reference for it, which the
//! folio's free path drops when the count returns to 0 (`free_zone_device_folio()` does so for
//! DEVICE_PRIVATE and DEVICE_COHERENT folios; fs-dax and device-dax folios never reach 0 while
//! they are 1-based, and must drop it in their free path once they are 0-based). A folio that
//! already had references keeps the pgmap through whatever held it for those: for a 1-based
//! fs-dax page that is the pgmap's initial reference, which only `memunmap_pages()` drops, so
//! there the request does not keep the memmap; the caller's guarantee does.
//!
//! The request is refused, and takes nothing, once the pgmap is dying (`memunmap_pages()` has
//! killed its reference): it holds a live reference of its own for as long as it touches the
//! folios, taken with `percpu_ref_tryget_live()` before the first. That one reference decides
//! for the whole request, so a request is all or nothing. Taking the pgmap reference of a 0 to 1
//! folio with a `tryget_live()` of its own instead would need an undo when it fails, and the
//! undo races with another request of the same folio, which then keeps a folio without a pgmap
//! reference; the host model shows it.
//!
//! Release drops one reference per folio, as `put_page()` does (for fs-dax pages, waking the
//! waiters of a page that became idle).

/// A `dev_pagemap`'s reference (`pgmap->ref`, a `percpu_ref`).
pub trait Pgmap {
    /// `percpu_ref_tryget_live()`: takes a reference unless the pgmap is dying.
    fn tryget_live(&self) -> bool;
    /// `percpu_ref_get()`: takes a reference; the caller holds one already.
    fn get(&self);
    /// `percpu_ref_put()`: drops a reference.
    fn put(&self);
}

/// A folio of a pgmap.
pub trait Folio {
    /// `folio_ref_inc_return()`: takes a reference, fully ordered, and returns the new count.
    fn ref_inc_return(&self) -> i32;
    /// Drops a reference as `put_page()` does.
    fn put(&self);
}

/// Why a request took nothing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Refused {
    /// The pgmap is dying: its memory is going away.
    Dying,
}

/// Requests every folio of `folios`, of `pgmap`: one reference each, and a pgmap reference for
/// each folio that had none. Returns [`Refused::Dying`], and takes nothing, if the pgmap is
/// dying.
///
/// The caller guarantees that `pgmap` is not torn down during the call, and that each folio is
/// one of `pgmap`'s.
pub fn request<P: Pgmap, F: Folio>(
    pgmap: &P,
    folios: impl IntoIterator<Item = F>,
) -> Result<(), Refused> {
    if !pgmap.tryget_live() {
        return Err(Refused::Dying);
    }
    for folio in folios {
        if folio.ref_inc_return() == 1 {
            // The folio had no reference: its first one holds the pgmap, until its free path
            // drops the pgmap reference again. The request's own reference makes `get()` legal.
            pgmap.get();
        }
    }
    pgmap.put();
    Ok(())
}

/// Releases every folio of `folios`, which the caller requested: drops one reference each.
pub fn release<F: Folio>(folios: impl IntoIterator<Item = F>) {
    for folio in folios {
        folio.put();
    }
}
