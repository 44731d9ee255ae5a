// SPDX-License-Identifier: GPL-2.0

//! The pfn-range arithmetic of a `dev_pagemap` (mm/memremap.c).
//!
//! C header: [`include/linux/memremap.h`](srctree/include/linux/memremap.h)
//!
//! This file is pure `core` code. It follows `pfn_first()`, `pfn_end()`, `pfn_len()` and
//! `pgmap_pfn_valid()` of mm/memremap.c and the sub-section alignment that hot-plugging a
//! ZONE_DEVICE range requires; the Rust memremap unit of the series (`mm/memremap_folio.rs`,
//! patch 10) includes it, and the host crate `rust-memremap` tests it. It must not use
//! `kernel::` or `std`.
//!
//! A pgmap covers one or more physical ranges. The first range may start with pages that hold
//! the range's own memmap (the altmap); they are not device pages. The device pages of a range
//! are grouped into compound pages of `1 << vmemmap_shift` pages.

/// Page size shift of the architecture (x86_64).
pub(crate) const PAGE_SHIFT: u32 = 12;
/// Memory sections are `1 << SECTION_SIZE_BITS` bytes (x86_64).
pub(crate) const SECTION_SIZE_BITS: u32 = 27;
/// Sub-sections, the hot-plug granule of ZONE_DEVICE, are `1 << SUBSECTION_SHIFT` bytes.
pub(crate) const SUBSECTION_SHIFT: u32 = 21;
/// Pages per memory section (`PAGES_PER_SECTION`).
pub(crate) const PAGES_PER_SECTION: u64 = 1 << (SECTION_SIZE_BITS - PAGE_SHIFT);
/// Pages per sub-section (`PAGES_PER_SUBSECTION`).
pub(crate) const PAGES_PER_SUBSECTION: u64 = 1 << (SUBSECTION_SHIFT - PAGE_SHIFT);

/// A physical address range with an inclusive end (`struct range`).
///
/// # Invariants
///
/// `start <= end`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct PhysRange {
    start: u64,
    end: u64,
}

impl PhysRange {
    /// The range `start..=end`; `None` if it is empty (`end < start`).
    pub(crate) const fn new(start: u64, end: u64) -> Option<Self> {
        if end < start {
            return None;
        }
        // INVARIANT: checked above.
        Some(Self { start, end })
    }

    /// The first byte.
    pub(crate) const fn start(self) -> u64 {
        self.start
    }

    /// The last byte.
    pub(crate) const fn end(self) -> u64 {
        self.end
    }

    /// The length in bytes (`range_len()`); `None` for the whole 64-bit space.
    pub(crate) const fn len(self) -> Option<u64> {
        (self.end - self.start).checked_add(1)
    }

    /// Whether the range can be hot-plugged as ZONE_DEVICE memory: start and length are
    /// multiples of a sub-section (`check_pfn_span()` of mm/memory_hotplug.c).
    pub(crate) const fn subsection_aligned(self) -> bool {
        let mask = (1u64 << SUBSECTION_SHIFT) - 1;
        match self.len() {
            Some(len) => self.start & mask == 0 && len & mask == 0,
            None => false,
        }
    }
}

/// The pfn of a physical address (`PHYS_PFN()`).
pub(crate) const fn phys_pfn(addr: u64) -> u64 {
    addr >> PAGE_SHIFT
}

/// The first device pfn of range `range_id` (`pfn_first()`): the first range skips the
/// `altmap_offset` pages that hold the memmap.
pub(crate) const fn pfn_first(range: PhysRange, range_id: usize, altmap_offset: u64) -> u64 {
    let pfn = phys_pfn(range.start());
    if range_id != 0 {
        pfn
    } else {
        pfn + altmap_offset
    }
}

/// The pfn after the last whole page of `range` (`pfn_end()`: `(start + len) >> PAGE_SHIFT`).
pub(crate) const fn pfn_end(range: PhysRange) -> u64 {
    // `start + len` is `end + 1`, computed without overflowing at the top of the space.
    (range.end() >> PAGE_SHIFT) + (((range.end() & ((1 << PAGE_SHIFT) - 1)) + 1) >> PAGE_SHIFT)
}

/// The number of compound pages of `1 << vmemmap_shift` pages in range `range_id`
/// (`pfn_len()`): the device pages from [`pfn_first()`] to [`pfn_end()`], rounded down.
pub(crate) const fn pfn_len(
    range: PhysRange,
    range_id: usize,
    altmap_offset: u64,
    vmemmap_shift: u32,
) -> u64 {
    pfn_end(range).saturating_sub(pfn_first(range, range_id, altmap_offset)) >> vmemmap_shift
}

/// Whether `pfn` is a device page of the pgmap with these `ranges` (`pgmap_pfn_valid()`): in
/// one of the ranges and not one of the first range's memmap pages.
pub(crate) fn pfn_valid(ranges: &[PhysRange], altmap_offset: u64, pfn: u64) -> bool {
    for (i, r) in ranges.iter().enumerate() {
        if pfn >= phys_pfn(r.start()) && pfn <= phys_pfn(r.end()) {
            return pfn >= pfn_first(*r, i, altmap_offset);
        }
    }
    false
}
