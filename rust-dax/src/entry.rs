// SPDX-License-Identifier: GPL-2.0

//! The encoding of DAX entries in `mapping->i_pages`.
//!
//! C header: [`include/linux/dax_core.h`](srctree/include/linux/dax_core.h)
//!
//! This file is pure `core` code, shared byte for byte by the fsdax Rust units of the kernel
//! (which include it as a module) and by the host crate `rust-dax`, where it is unit-,
//! property- and model-tested. It must not use `kernel::` or `std`. The kernel units check at
//! compile time that the flag constants here equal the C definitions.
//!
//! The page geometry is not a constant of this file: it differs between architectures and page
//! sizes (arm64 has 4K, 16K and 64K pages, with PMDs of 2M, 32M and 512M). Every computation
//! that depends on it takes a [`Geometry`], which the kernel units build from the kernel's
//! `PAGE_SHIFT` and `PMD_ORDER` and the host tests vary.
//!
//! A DAX entry is an XArray value entry: the word `(value << 1) | 1`. The value holds the flag
//! bits below [`DAX_SHIFT`] and the first page frame number above it.
//!
//! The items are `pub`, and the units that include this file export it, because each unit uses
//! a different subset of it. The few items that only the host tests use are `cfg(test)`.

use core::ops::Range;

/// The page geometry of an architecture and page size.
///
/// # Invariants
///
/// `page_shift + pmd_order < usize::BITS`, so that the span of a PMD entry is a `usize`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Geometry {
    page_shift: u32,
    pmd_order: u32,
}

impl Geometry {
    /// The geometry with pages of `1 << page_shift` bytes and PMD entries of order `pmd_order`
    /// (the kernel's `PAGE_SHIFT` and `PMD_ORDER`). Panics if a PMD span is not a `usize`; in a
    /// `const` that is a build error.
    pub const fn new(page_shift: u32, pmd_order: u32) -> Self {
        assert!(page_shift.saturating_add(pmd_order) < usize::BITS);
        // INVARIANT: checked above.
        Self {
            page_shift,
            pmd_order,
        }
    }

    /// The page size shift (`PAGE_SHIFT`).
    pub const fn page_shift(self) -> u32 {
        self.page_shift
    }

    /// The page-cache order of a PMD entry (`PMD_ORDER`).
    pub const fn pmd_order(self) -> u32 {
        self.pmd_order
    }

    /// The low bits of a page offset within a PMD (`PG_PMD_COLOUR`).
    pub const fn pmd_colour(self) -> usize {
        (1 << self.pmd_order) - 1
    }
}
/// Number of flag bits below the pfn in a DAX entry's value.
pub const DAX_SHIFT: u32 = 5;
/// The entry is locked.
pub const DAX_LOCKED: usize = 1 << 0;
/// The entry covers a PMD instead of a page.
pub const DAX_PMD: usize = 1 << 1;
/// The entry maps the zero page (a hole that was read).
pub const DAX_ZERO_PAGE: usize = 1 << 2;
/// The entry has no storage behind it yet; it only serves as a lock.
pub const DAX_EMPTY: usize = 1 << 3;
/// The filesystem has dropped its interest in the entry's pages (the mappings were zapped);
/// the entry stays until truncate so that memory-failure can still find the file.
pub const DAX_ZAP: usize = 1 << 4;
/// All flag bits.
pub const DAX_FLAGS: usize = (1 << DAX_SHIFT) - 1;

/// An XArray entry as a machine word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct XaEntry(pub usize);

impl XaEntry {
    /// The empty entry (`NULL`).
    #[cfg(test)]
    pub const NULL: Self = Self(0);

    /// Whether this is a value entry (`xa_is_value()`).
    pub const fn is_value(self) -> bool {
        self.0 & 1 == 1
    }

    /// The value of a value entry (`xa_to_value()`).
    pub const fn to_value(self) -> usize {
        self.0 >> 1
    }

    /// The value entry holding `value` (`xa_mk_value()`); `value` must fit in `usize::BITS - 1`
    /// bits.
    pub const fn from_value(value: usize) -> Self {
        Self((value << 1) | 1)
    }
}

/// A DAX entry.
///
/// # Invariants
///
/// `self.0` is the value of an XArray value entry, i.e. it is at most `usize::MAX >> 1`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DaxEntry(usize);

impl DaxEntry {
    /// The largest pfn an entry can hold.
    pub const MAX_PFN: usize = usize::MAX >> (DAX_SHIFT + 1);

    /// Interprets an XArray entry as a DAX entry; `None` unless it is a value entry.
    pub const fn from_xa(entry: XaEntry) -> Option<Self> {
        if entry.is_value() {
            // INVARIANT: `to_value()` of a word shifts out one bit.
            Some(Self(entry.to_value()))
        } else {
            None
        }
    }

    /// A new entry for `pfn` with `flags` (only the bits of [`DAX_FLAGS`] are kept); `None` if
    /// `pfn` does not fit.
    pub const fn new(pfn: usize, flags: usize) -> Option<Self> {
        if pfn > Self::MAX_PFN {
            return None;
        }
        // INVARIANT: `pfn <= MAX_PFN` leaves the top bit clear.
        Some(Self((pfn << DAX_SHIFT) | (flags & DAX_FLAGS)))
    }

    /// The XArray entry that stores this DAX entry.
    pub const fn to_xa(self) -> XaEntry {
        XaEntry::from_value(self.0)
    }

    /// The raw value (`xa_to_value()` of the entry).
    #[cfg(test)]
    pub const fn value(self) -> usize {
        self.0
    }

    /// The flag bits.
    #[cfg(test)]
    pub const fn flags(self) -> usize {
        self.0 & DAX_FLAGS
    }

    /// The first pfn (`dax_to_pfn()`).
    pub const fn pfn(self) -> usize {
        self.0 >> DAX_SHIFT
    }

    /// Whether the entry is locked.
    pub const fn is_locked(self) -> bool {
        self.0 & DAX_LOCKED != 0
    }

    /// Whether the entry covers a PMD.
    pub const fn is_pmd(self) -> bool {
        self.0 & DAX_PMD != 0
    }

    /// Whether the entry maps the zero page.
    pub const fn is_zero(self) -> bool {
        self.0 & DAX_ZERO_PAGE != 0
    }

    /// Whether the entry is a placeholder without storage.
    pub const fn is_empty(self) -> bool {
        self.0 & DAX_EMPTY != 0
    }

    /// Whether the entry has been zapped.
    pub const fn is_zapped(self) -> bool {
        self.0 & DAX_ZAP != 0
    }

    /// The page-cache order the entry covers in geometry `g` (`dax_entry_order()`).
    pub const fn order(self, g: Geometry) -> u32 {
        if self.is_pmd() {
            g.pmd_order
        } else {
            0
        }
    }

    /// The number of bytes the entry spans in geometry `g`: a page or a PMD.
    const fn span(self, g: Geometry) -> usize {
        // By the invariant of `Geometry`, the shift is less than `usize::BITS`.
        1 << (g.page_shift + self.order(g))
    }

    /// The number of bytes of storage the entry maps in geometry `g` (`dax_entry_size()`): 0 for
    /// zero-page and empty entries.
    pub const fn size(self, g: Geometry) -> usize {
        if self.is_zero() || self.is_empty() {
            0
        } else {
            self.span(g)
        }
    }

    /// The pfns of the storage the entry maps in geometry `g` (`for_each_mapped_pfn()`); empty
    /// for zero-page and empty entries.
    pub const fn mapped_pfns(self, g: Geometry) -> Range<usize> {
        let start = self.pfn();
        start..start + (self.size(g) >> g.page_shift)
    }

    /// The user address of the entry's first page in a mapping of its file, given any `address`
    /// inside the entry: `address` rounded down to the span of the entry in geometry `g`. (v3
    /// used the unrounded fault address, which gave the pages of a PMD entry the wrong file
    /// offsets.)
    pub const fn first_address(self, g: Geometry, address: usize) -> usize {
        address & !(self.span(g) - 1)
    }

    /// The same entry with the lock bit set.
    pub const fn locked(self) -> Self {
        // INVARIANT: setting a flag bit keeps the top bit clear.
        Self(self.0 | DAX_LOCKED)
    }

    /// The same entry marked zapped.
    pub const fn zapped(self) -> Self {
        // INVARIANT: setting a flag bit keeps the top bit clear.
        Self(self.0 | DAX_ZAP)
    }

    /// The same entry without the zapped mark.
    pub const fn unzapped(self) -> Self {
        // INVARIANT: clearing a bit keeps the top bit clear.
        Self(self.0 & !DAX_ZAP)
    }

    /// The same entry with the lock bit clear.
    pub const fn unlocked(self) -> Self {
        // INVARIANT: clearing a bit keeps the top bit clear.
        Self(self.0 & !DAX_LOCKED)
    }
}

/// The page-cache indices `first..=last` that the bytes `[start, end]` of a file fall in, in
/// geometry `g`, as the C range helpers compute them: an `end` of `LLONG_MAX` reaches the last
/// index, and a negative `end` (fuse passes `(u64)-1`) is shifted arithmetically and wraps to
/// the top of the index space as well.
pub const fn byte_range_indices(g: Geometry, start: i64, end: i64) -> (usize, usize) {
    let first = (start >> g.page_shift) as usize;
    let last = if end == i64::MAX {
        usize::MAX
    } else {
        (end >> g.page_shift) as usize
    };
    (first, last)
}
