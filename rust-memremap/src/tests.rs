// SPDX-License-Identifier: GPL-2.0

//! Tests of the pgmap range arithmetic (host only).

use crate::c_defs::CTree;
use crate::range::*;
use proptest::prelude::*;

/// `memmap=2G!4G`, the emulated pmem of the VM tests.
fn pmem() -> PhysRange {
    PhysRange::new(4 << 30, (6 << 30) - 1).unwrap()
}

#[test]
fn emulated_pmem_geometry() {
    let r = pmem();
    assert_eq!(r.len(), Some(2 << 30));
    assert!(r.subsection_aligned());
    assert_eq!(pfn_first(r, 0, 0), 0x10_0000);
    assert_eq!(pfn_end(r), 0x18_0000);
    assert_eq!(pfn_len(r, 0, 0, 0), 0x8_0000);
    // device-dax with 2 MiB compound pages (vmemmap_shift 9): 1024 folios.
    assert_eq!(pfn_len(r, 0, 0, 9), 1024);
    // 2 GiB is 16 sections.
    assert_eq!(pfn_len(r, 0, 0, 0) / PAGES_PER_SECTION, 16);
}

#[test]
fn altmap_pages_belong_to_the_first_range_only() {
    let r0 = pmem();
    let r1 = PhysRange::new(8 << 30, (9 << 30) - 1).unwrap();
    let off = 8192; // memmap pages of the first range
    assert_eq!(pfn_first(r0, 0, off), 0x10_0000 + off);
    assert_eq!(pfn_first(r1, 1, off), 0x20_0000);
    let ranges = [r0, r1];
    assert!(!pfn_valid(&ranges, off, 0x10_0000));
    assert!(!pfn_valid(&ranges, off, 0x10_0000 + off - 1));
    assert!(pfn_valid(&ranges, off, 0x10_0000 + off));
    assert!(pfn_valid(&ranges, off, 0x17_ffff));
    assert!(!pfn_valid(&ranges, off, 0x18_0000));
    assert!(pfn_valid(&ranges, off, 0x20_0000));
    assert!(!pfn_valid(&ranges, off, 0x24_0000));
}

#[test]
fn empty_and_misaligned_ranges() {
    assert_eq!(PhysRange::new(1, 0), None);
    assert!(!PhysRange::new(4096, (2 << 20) + 4095)
        .unwrap()
        .subsection_aligned());
    assert!(!PhysRange::new(0, (2 << 20) - 2)
        .unwrap()
        .subsection_aligned());
    let all = PhysRange::new(0, u64::MAX).unwrap();
    assert_eq!(all.len(), None);
    assert!(!all.subsection_aligned());
    assert_eq!(pfn_end(all), 1 << (64 - PAGE_SHIFT));
}

proptest! {
    /// `pfn_end()` is `(start + len) >> PAGE_SHIFT`, as C computes it.
    #[test]
    fn pfn_end_is_start_plus_len(start in 0..u64::MAX / 2, len in 1..u64::MAX / 2) {
        let r = PhysRange::new(start, start + len - 1).unwrap();
        prop_assert_eq!(pfn_end(r), (start + len) >> PAGE_SHIFT);
        prop_assert_eq!(r.len(), Some(len));
    }

    /// `pfn_len()` counts whole compound pages: they fit between the first and the end pfn, and
    /// one more would not. The memmap pages (`off`) lie inside the range, as memremap_pages()
    /// sizes them: less than one sub-section here.
    #[test]
    fn compound_pages_fit(sub in 0u64..1 << 20, n in 1u64..1 << 12,
                          off in 0u64..PAGES_PER_SUBSECTION, range_id in 0usize..3,
                          shift in 0u32..19) {
        let start = sub << SUBSECTION_SHIFT;
        let r = PhysRange::new(start, start + (n << SUBSECTION_SHIFT) - 1).unwrap();
        prop_assert!(r.subsection_aligned());
        let first = pfn_first(r, range_id, off);
        let count = pfn_len(r, range_id, off, shift);
        let span = pfn_end(r) - first;
        prop_assert!(count << shift <= span);
        prop_assert!((count + 1) << shift > span);
        prop_assert_eq!((pfn_end(r) - phys_pfn(start)) % PAGES_PER_SUBSECTION, 0);
    }

    /// A pfn is a device page of a one-range pgmap exactly between the first device pfn and the
    /// end pfn.
    #[test]
    fn valid_pfns_are_the_device_pages(sub in 0u64..1 << 20, n in 1u64..64, off in 0u64..4096,
                                       pfn in 0u64..1 << 30) {
        let start = sub << SUBSECTION_SHIFT;
        let r = PhysRange::new(start, start + (n << SUBSECTION_SHIFT) - 1).unwrap();
        let expect = pfn >= pfn_first(r, 0, off) && pfn < pfn_end(r);
        prop_assert_eq!(pfn_valid(&[r], off, pfn), expect);
    }
}

#[test]
fn section_constants_match_c() {
    let mut t = CTree::x86_64();
    t.load("arch/x86/include/asm/sparsemem.h")
        .load("include/linux/mmzone.h");
    assert_eq!(t.value("PAGE_SHIFT"), PAGE_SHIFT.into());
    assert_eq!(t.value("SECTION_SIZE_BITS"), SECTION_SIZE_BITS.into());
    assert_eq!(t.value("SUBSECTION_SHIFT"), SUBSECTION_SHIFT.into());
    assert_eq!(t.value("PAGES_PER_SECTION"), PAGES_PER_SECTION.into());
    assert_eq!(t.value("PAGES_PER_SUBSECTION"), PAGES_PER_SUBSECTION.into());
}
