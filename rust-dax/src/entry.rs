// SPDX-License-Identifier: GPL-2.0

//! The encoding of DAX entries in `mapping->i_pages`.
//!
//! C header: [`include/linux/dax.h`](srctree/include/linux/dax.h)
//!
//! This file is pure `core` code, shared byte for byte by the fsdax Rust units of the kernel
//! (which include it as a module) and by the host crate `rust-dax`, where it is unit-,
//! property- and model-tested. It must not use `kernel::` or `std`. The kernel units check at
//! compile time that the constants here equal the C definitions.
//!
//! A DAX entry is an XArray value entry: the word `(value << 1) | 1`. The value holds the flag
//! bits below [`DAX_SHIFT`] and the first page frame number above it.
#![allow(dead_code)] // Each unit that includes this module uses a different subset.

use core::ops::Range;

/// Page size shift of the architecture (x86_64; checked against the kernel's `PAGE_SHIFT`).
pub(crate) const PAGE_SHIFT: u32 = 12;
/// Order of a PMD-sized entry (x86_64; checked against the kernel's `PMD_ORDER`).
pub(crate) const PMD_ORDER: u32 = 9;
/// Number of flag bits below the pfn in a DAX entry's value.
pub(crate) const DAX_SHIFT: u32 = 5;
/// The entry is locked.
pub(crate) const DAX_LOCKED: usize = 1 << 0;
/// The entry covers a PMD instead of a page.
pub(crate) const DAX_PMD: usize = 1 << 1;
/// The entry maps the zero page (a hole that was read).
pub(crate) const DAX_ZERO_PAGE: usize = 1 << 2;
/// The entry has no storage behind it yet; it only serves as a lock.
pub(crate) const DAX_EMPTY: usize = 1 << 3;
/// The filesystem has dropped its interest in the entry's pages (the mappings were zapped);
/// the entry stays until truncate so that memory-failure can still find the file.
pub(crate) const DAX_ZAP: usize = 1 << 4;
/// All flag bits.
pub(crate) const DAX_FLAGS: usize = (1 << DAX_SHIFT) - 1;

/// An XArray entry as a machine word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct XaEntry(pub(crate) usize);

impl XaEntry {
    /// The empty entry (`NULL`).
    pub(crate) const NULL: Self = Self(0);

    /// Whether this is a value entry (`xa_is_value()`).
    pub(crate) const fn is_value(self) -> bool {
        self.0 & 1 == 1
    }

    /// The value of a value entry (`xa_to_value()`).
    pub(crate) const fn to_value(self) -> usize {
        self.0 >> 1
    }

    /// The value entry holding `value` (`xa_mk_value()`); `value` must fit in `usize::BITS - 1`
    /// bits.
    pub(crate) const fn from_value(value: usize) -> Self {
        Self((value << 1) | 1)
    }
}

/// A DAX entry.
///
/// # Invariants
///
/// `self.0` is the value of an XArray value entry, i.e. it is at most `usize::MAX >> 1`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct DaxEntry(usize);

impl DaxEntry {
    /// The largest pfn an entry can hold.
    pub(crate) const MAX_PFN: usize = usize::MAX >> (DAX_SHIFT + 1);

    /// Interprets an XArray entry as a DAX entry; `None` unless it is a value entry.
    pub(crate) const fn from_xa(entry: XaEntry) -> Option<Self> {
        if entry.is_value() {
            // INVARIANT: `to_value()` of a word shifts out one bit.
            Some(Self(entry.to_value()))
        } else {
            None
        }
    }

    /// A new entry for `pfn` with `flags` (only the bits of [`DAX_FLAGS`] are kept); `None` if
    /// `pfn` does not fit.
    pub(crate) const fn new(pfn: usize, flags: usize) -> Option<Self> {
        if pfn > Self::MAX_PFN {
            return None;
        }
        // INVARIANT: `pfn <= MAX_PFN` leaves the top bit clear.
        Some(Self((pfn << DAX_SHIFT) | (flags & DAX_FLAGS)))
    }

    /// The XArray entry that stores this DAX entry.
    pub(crate) const fn to_xa(self) -> XaEntry {
        XaEntry::from_value(self.0)
    }

    /// The raw value (`xa_to_value()` of the entry).
    pub(crate) const fn value(self) -> usize {
        self.0
    }

    /// The flag bits.
    pub(crate) const fn flags(self) -> usize {
        self.0 & DAX_FLAGS
    }

    /// The first pfn (`dax_to_pfn()`).
    pub(crate) const fn pfn(self) -> usize {
        self.0 >> DAX_SHIFT
    }

    /// Whether the entry is locked.
    pub(crate) const fn is_locked(self) -> bool {
        self.0 & DAX_LOCKED != 0
    }

    /// Whether the entry covers a PMD.
    pub(crate) const fn is_pmd(self) -> bool {
        self.0 & DAX_PMD != 0
    }

    /// Whether the entry maps the zero page.
    pub(crate) const fn is_zero(self) -> bool {
        self.0 & DAX_ZERO_PAGE != 0
    }

    /// Whether the entry is a placeholder without storage.
    pub(crate) const fn is_empty(self) -> bool {
        self.0 & DAX_EMPTY != 0
    }

    /// Whether the entry has been zapped.
    pub(crate) const fn is_zapped(self) -> bool {
        self.0 & DAX_ZAP != 0
    }

    /// The page-cache order the entry covers (`dax_entry_order()`).
    pub(crate) const fn order(self) -> u32 {
        if self.is_pmd() {
            PMD_ORDER
        } else {
            0
        }
    }

    /// The number of bytes of storage the entry maps (`dax_entry_size()`): 0 for zero-page and
    /// empty entries.
    pub(crate) const fn size(self) -> usize {
        if self.is_zero() || self.is_empty() {
            0
        } else {
            1 << (PAGE_SHIFT + self.order())
        }
    }

    /// The pfns of the storage the entry maps (`for_each_mapped_pfn()`); empty for zero-page
    /// and empty entries.
    pub(crate) const fn mapped_pfns(self) -> Range<usize> {
        let start = self.pfn();
        start..start + (self.size() >> PAGE_SHIFT)
    }

    /// The user address of the entry's first page in a mapping of its file, given any `address`
    /// inside the entry: `address` rounded down to the span of the entry's order. (v3 used the
    /// unrounded fault address, which gave the pages of a PMD entry the wrong file offsets.)
    pub(crate) const fn first_address(self, address: usize) -> usize {
        address & !((1 << (PAGE_SHIFT + self.order())) - 1)
    }

    /// The same entry with the lock bit set.
    pub(crate) const fn locked(self) -> Self {
        // INVARIANT: setting a flag bit keeps the top bit clear.
        Self(self.0 | DAX_LOCKED)
    }

    /// The same entry marked zapped.
    pub(crate) const fn zapped(self) -> Self {
        // INVARIANT: setting a flag bit keeps the top bit clear.
        Self(self.0 | DAX_ZAP)
    }

    /// The same entry with the lock bit clear.
    pub(crate) const fn unlocked(self) -> Self {
        // INVARIANT: clearing a bit keeps the top bit clear.
        Self(self.0 & !DAX_LOCKED)
    }
}

/// The page-cache indices `first..=last` that the bytes `[start, end]` of a file fall in, as the
/// C range helpers compute them: an `end` of `LLONG_MAX` reaches the last index, and a negative
/// `end` (fuse passes `(u64)-1`) is shifted arithmetically and wraps to the top of the index
/// space as well.
pub(crate) const fn byte_range_indices(start: i64, end: i64) -> (usize, usize) {
    let first = (start >> PAGE_SHIFT) as usize;
    let last = if end == i64::MAX {
        usize::MAX
    } else {
        (end >> PAGE_SHIFT) as usize
    };
    (first, last)
}
