// SPDX-License-Identifier: GPL-2.0

//! Tests of the pgmap range arithmetic (host only).

use crate::c_defs::CTree;
use crate::range::*;
use proptest::prelude::*;

/// x86_64: 4K pages, 2M sub-sections, 128M sections.
const X86: Geometry = Geometry::new(12, 21, 27);
/// arm64 with 16K pages (128M sections) and with 64K pages (512M sections).
const ARM64_16K: Geometry = Geometry::new(14, 21, 27);
const ARM64_64K: Geometry = Geometry::new(16, 21, 29);
const ALL: [Geometry; 3] = [X86, ARM64_16K, ARM64_64K];

/// `memmap=2G!4G`, the emulated pmem of the VM tests.
fn pmem() -> PhysRange {
    PhysRange::new(4 << 30, (6 << 30) - 1).unwrap()
}

#[test]
fn emulated_pmem_geometry() {
    let (g, r) = (X86, pmem());
    assert_eq!(r.range_len(), Some(2 << 30));
    assert!(r.subsection_aligned(g));
    assert_eq!(pfn_first(g, r, 0, 0), 0x10_0000);
    assert_eq!(pfn_end(g, r), 0x18_0000);
    assert_eq!(pfn_len(g, r, 0, 0, 0), 0x8_0000);
    // device-dax with 2 MiB compound pages (vmemmap_shift 9): 1024 folios.
    assert_eq!(pfn_len(g, r, 0, 0, 9), 1024);
    // 2 GiB is 16 sections.
    assert_eq!(pfn_len(g, r, 0, 0, 0) / g.pages_per_section(), 16);
    // With 64K pages the same range is 32768 pages, 4 sections of 512M.
    assert_eq!(pfn_len(ARM64_64K, r, 0, 0, 0), 0x8000);
    assert_eq!(
        pfn_len(ARM64_64K, r, 0, 0, 0) / ARM64_64K.pages_per_section(),
        4
    );
}

#[test]
fn altmap_pages_belong_to_the_first_range_only() {
    let r0 = pmem();
    let r1 = PhysRange::new(8 << 30, (9 << 30) - 1).unwrap();
    let (g, off) = (X86, 8192); // memmap pages of the first range
    assert_eq!(pfn_first(g, r0, 0, off), 0x10_0000 + off);
    assert_eq!(pfn_first(g, r1, 1, off), 0x20_0000);
    let ranges = [r0, r1];
    assert!(!pfn_valid(g, &ranges, off, 0x10_0000));
    assert!(!pfn_valid(g, &ranges, off, 0x10_0000 + off - 1));
    assert!(pfn_valid(g, &ranges, off, 0x10_0000 + off));
    assert!(pfn_valid(g, &ranges, off, 0x17_ffff));
    assert!(!pfn_valid(g, &ranges, off, 0x18_0000));
    assert!(pfn_valid(g, &ranges, off, 0x20_0000));
    assert!(!pfn_valid(g, &ranges, off, 0x24_0000));
}

#[test]
fn spans_stay_inside_one_range() {
    let r0 = pmem();
    let r1 = PhysRange::new(6 << 30, (7 << 30) - 1).unwrap(); // right after r0
    let (g, off) = (X86, 8192);
    let ranges = [r0, r1];
    // the device pages of r0, whole and at both ends
    assert!(span_valid(g, &ranges, off, 0x10_0000 + off, 0x8_0000 - off));
    assert!(span_valid(g, &ranges, off, 0x17_ffff, 1));
    // a memmap page, one page past the end of r1, or across the two ranges: not one span
    assert!(!span_valid(g, &ranges, off, 0x10_0000 + off - 1, 2));
    assert!(!span_valid(g, &ranges, off, 0x1b_ffff, 2));
    assert!(!span_valid(g, &ranges, off, 0x17_ffff, 2));
    // empty and wrapping spans
    assert!(!span_valid(g, &ranges, off, 0x10_0000 + off, 0));
    assert!(!span_valid(g, &ranges, off, u64::MAX, 2));
}

#[test]
fn empty_and_misaligned_ranges() {
    assert_eq!(PhysRange::new(1, 0), None);
    for g in ALL {
        assert!(!PhysRange::new(4096, (2 << 20) + 4095)
            .unwrap()
            .subsection_aligned(g));
        assert!(!PhysRange::new(0, (2 << 20) - 2)
            .unwrap()
            .subsection_aligned(g));
        let all = PhysRange::new(0, u64::MAX).unwrap();
        assert_eq!(all.range_len(), None);
        assert!(!all.subsection_aligned(g));
        assert_eq!(pfn_end(g, all), 1 << (64 - g.page_shift()));
    }
}

proptest! {
    /// `pfn_end()` is `(start + len) >> PAGE_SHIFT`, as C computes it.
    #[test]
    fn pfn_end_is_start_plus_len(start in 0..u64::MAX / 2, len in 1..u64::MAX / 2,
                                 g in prop::sample::select(ALL.to_vec())) {
        let r = PhysRange::new(start, start + len - 1).unwrap();
        prop_assert_eq!(pfn_end(g, r), (start + len) >> g.page_shift());
        prop_assert_eq!(r.range_len(), Some(len));
    }

    /// `pfn_len()` counts whole compound pages: they fit between the first and the end pfn, and
    /// one more would not. The memmap pages (`off`) lie inside the range, as memremap_pages()
    /// sizes them: less than one sub-section here.
    #[test]
    fn compound_pages_fit(sub in 0u64..1 << 20, n in 1u64..1 << 12, off in 0u64..1 << 16,
                          range_id in 0usize..3, shift in 0u32..19,
                          g in prop::sample::select(ALL.to_vec())) {
        let off = off % g.pages_per_subsection();
        let start = sub << g.subsection_shift();
        let r = PhysRange::new(start, start + (n << g.subsection_shift()) - 1).unwrap();
        prop_assert!(r.subsection_aligned(g));
        let first = pfn_first(g, r, range_id, off);
        let count = pfn_len(g, r, range_id, off, shift);
        let span = pfn_end(g, r) - first;
        prop_assert!(count << shift <= span);
        prop_assert!((count + 1) << shift > span);
        prop_assert_eq!((pfn_end(g, r) - g.phys_pfn(start)) % g.pages_per_subsection(), 0);
    }

    /// A pfn is a device page of a one-range pgmap exactly between the first device pfn and the
    /// end pfn.
    #[test]
    fn valid_pfns_are_the_device_pages(sub in 0u64..1 << 20, n in 1u64..64, off in 0u64..4096,
                                       pfn in 0u64..1 << 30,
                                       g in prop::sample::select(ALL.to_vec())) {
        let start = sub << g.subsection_shift();
        let r = PhysRange::new(start, start + (n << g.subsection_shift()) - 1).unwrap();
        let expect = pfn >= pfn_first(g, r, 0, off) && pfn < pfn_end(g, r);
        prop_assert_eq!(pfn_valid(g, &[r], off, pfn), expect);
    }

    /// A span is valid exactly if each of its pages is a valid pfn of the same range: the
    /// span check of `pgmap_request_folios()` agrees with `pgmap_pfn_valid()` page by page.
    #[test]
    fn a_span_is_valid_pages_of_one_range(subs in prop::collection::vec((0u64..64, 1u64..4), 1..4),
                                          off in 0u64..1024, first in 0u64..1 << 16,
                                          nr in 0u64..2048) {
        let g = X86;
        // non-overlapping ranges, each after the last
        let mut ranges = Vec::new();
        let mut next = 1u64 << 30;
        for (gap, n) in subs {
            let start = next + (gap << g.subsection_shift());
            next = start + (n << g.subsection_shift());
            ranges.push(PhysRange::new(start, next - 1).unwrap());
        }
        let first = g.phys_pfn(1 << 30) + first;
        let range_of = |pfn: u64| ranges.iter().position(|r| {
            pfn >= g.phys_pfn(r.start()) && pfn <= g.phys_pfn(r.end())
        });
        let expect = nr > 0 && (first..first + nr).all(|p| {
            pfn_valid(g, &ranges, off, p) && range_of(p) == range_of(first)
        });
        prop_assert_eq!(span_valid(g, &ranges, off, first, nr), expect);
    }
}

#[test]
fn x86_64_geometry_is_the_trees() {
    let mut t = CTree::x86_64();
    t.load("arch/x86/include/asm/sparsemem.h")
        .load("include/linux/mmzone.h");
    let g = Geometry::new(
        t.value("PAGE_SHIFT") as u32,
        t.value("SUBSECTION_SHIFT") as u32,
        t.value("SECTION_SIZE_BITS") as u32,
    );
    assert_eq!(g, X86, "the tests' x86_64 geometry is the tree's");
    assert_eq!(t.value("PAGES_PER_SECTION"), g.pages_per_section().into());
    assert_eq!(
        t.value("PAGES_PER_SUBSECTION"),
        g.pages_per_subsection().into()
    );
}
