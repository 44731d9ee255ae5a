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
//! The page geometry is not a constant of this file (arm64 has 4K, 16K and 64K pages): every
//! computation that depends on it takes a [`Geometry`], which the kernel unit builds from
//! `PAGE_SHIFT`, `SUBSECTION_SHIFT` and `SECTION_SIZE_BITS` and the host tests vary.
//!
//! A pgmap covers one or more physical ranges. The first range may start with pages that hold
//! the range's own memmap (the altmap); they are not device pages. The device pages of a range
//! are grouped into compound pages of `1 << vmemmap_shift` pages.

/// The memory-model geometry of an architecture and page size: the sizes of a page, of a
/// sub-section (the hot-plug granule of ZONE_DEVICE) and of a memory section.
///
/// # Invariants
///
/// `0 < page_shift <= subsection_shift <= section_size_bits < 64`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Geometry {
    page_shift: u32,
    subsection_shift: u32,
    section_size_bits: u32,
}

impl Geometry {
    /// The geometry with pages of `1 << page_shift` bytes, sub-sections of `1 << subsection_shift`
    /// and sections of `1 << section_size_bits` (the kernel's `PAGE_SHIFT`, `SUBSECTION_SHIFT` and
    /// `SECTION_SIZE_BITS`). Panics if they are not in that order; in a `const` that is a build
    /// error.
    pub const fn new(page_shift: u32, subsection_shift: u32, section_size_bits: u32) -> Self {
        assert!(0 < page_shift && page_shift <= subsection_shift);
        assert!(subsection_shift <= section_size_bits && section_size_bits < u64::BITS);
        // INVARIANT: checked above.
        Self {
            page_shift,
            subsection_shift,
            section_size_bits,
        }
    }

    /// The page size shift (`PAGE_SHIFT`).
    pub const fn page_shift(self) -> u32 {
        self.page_shift
    }

    /// The sub-section size shift (`SUBSECTION_SHIFT`).
    pub const fn subsection_shift(self) -> u32 {
        self.subsection_shift
    }

    /// Pages per memory section (`PAGES_PER_SECTION`).
    pub const fn pages_per_section(self) -> u64 {
        1 << (self.section_size_bits - self.page_shift)
    }

    /// Pages per sub-section (`PAGES_PER_SUBSECTION`).
    pub const fn pages_per_subsection(self) -> u64 {
        1 << (self.subsection_shift - self.page_shift)
    }

    /// The pfn of a physical address (`PHYS_PFN()`).
    pub const fn phys_pfn(self, addr: u64) -> u64 {
        addr >> self.page_shift
    }
}

/// A physical address range with an inclusive end (`struct range`).
///
/// # Invariants
///
/// `start <= end`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PhysRange {
    start: u64,
    end: u64,
}

impl PhysRange {
    /// The range `start..=end`; `None` if it is empty (`end < start`).
    pub const fn new(start: u64, end: u64) -> Option<Self> {
        if end < start {
            return None;
        }
        // INVARIANT: checked above.
        Some(Self { start, end })
    }

    /// The first byte.
    pub const fn start(self) -> u64 {
        self.start
    }

    /// The last byte.
    pub const fn end(self) -> u64 {
        self.end
    }

    /// The length in bytes (`range_len()`); `None` for the whole 64-bit space.
    pub const fn range_len(self) -> Option<u64> {
        (self.end - self.start).checked_add(1)
    }

    /// Whether the range can be hot-plugged as ZONE_DEVICE memory: start and length are
    /// multiples of a sub-section (`check_pfn_span()` of mm/memory_hotplug.c).
    pub const fn subsection_aligned(self, g: Geometry) -> bool {
        let mask = (1u64 << g.subsection_shift()) - 1;
        match self.range_len() {
            Some(len) => self.start & mask == 0 && len & mask == 0,
            None => false,
        }
    }
}

/// The first device pfn of range `range_id` (`pfn_first()`): the first range skips the
/// `altmap_offset` pages that hold the memmap.
pub const fn pfn_first(g: Geometry, range: PhysRange, range_id: usize, altmap_offset: u64) -> u64 {
    let pfn = g.phys_pfn(range.start());
    if range_id != 0 {
        pfn
    } else {
        pfn + altmap_offset
    }
}

/// The pfn after the last whole page of `range` (`pfn_end()`: `(start + len) >> PAGE_SHIFT`).
pub const fn pfn_end(g: Geometry, range: PhysRange) -> u64 {
    let shift = g.page_shift();
    // `start + len` is `end + 1`, computed without overflowing at the top of the space.
    (range.end() >> shift) + (((range.end() & ((1 << shift) - 1)) + 1) >> shift)
}

/// The number of compound pages of `1 << vmemmap_shift` pages in range `range_id`
/// (`pfn_len()`): the device pages from [`pfn_first()`] to [`pfn_end()`], rounded down.
pub const fn pfn_len(
    g: Geometry,
    range: PhysRange,
    range_id: usize,
    altmap_offset: u64,
    vmemmap_shift: u32,
) -> u64 {
    let first = pfn_first(g, range, range_id, altmap_offset);
    pfn_end(g, range).saturating_sub(first) >> vmemmap_shift
}

/// Whether `pfn` is a device page of the pgmap with these `ranges` (`pgmap_pfn_valid()`): in
/// one of the ranges and not one of the first range's memmap pages.
pub fn pfn_valid(g: Geometry, ranges: &[PhysRange], altmap_offset: u64, pfn: u64) -> bool {
    for (i, r) in ranges.iter().enumerate() {
        if pfn >= g.phys_pfn(r.start()) && pfn <= g.phys_pfn(r.end()) {
            return pfn >= pfn_first(g, *r, i, altmap_offset);
        }
    }
    false
}

/// Whether the `nr_pages` pages from `first_pfn` on are all device pages of range `range_id`
/// (see [`span_valid()`]).
pub const fn span_in_range(
    g: Geometry,
    range: PhysRange,
    range_id: usize,
    altmap_offset: u64,
    first_pfn: u64,
    nr_pages: u64,
) -> bool {
    let Some(n) = nr_pages.checked_sub(1) else {
        return false;
    };
    let Some(last) = first_pfn.checked_add(n) else {
        return false;
    };
    first_pfn >= pfn_first(g, range, range_id, altmap_offset) && last <= g.phys_pfn(range.end())
}

/// Whether the `nr_pages` pages from `first_pfn` on are all device pages of one range of the
/// pgmap with these `ranges`: what a caller that hands out the folios of a span
/// (`pgmap_request_folios()`) must be given. An empty span, or one that wraps, is not valid.
pub fn span_valid(
    g: Geometry,
    ranges: &[PhysRange],
    altmap_offset: u64,
    first_pfn: u64,
    nr_pages: u64,
) -> bool {
    ranges
        .iter()
        .enumerate()
        .any(|(i, r)| span_in_range(g, *r, i, altmap_offset, first_pfn, nr_pages))
}
