// SPDX-License-Identifier: GPL-2.0

//! Unit tests of the DAX entry encoding (host only).

use crate::entry::*;
use crate::geometries::{ALL, PAGES_16K, PAGES_4K, PAGES_64K};

#[test]
fn value_entry_round_trip() {
    for v in [0usize, 1, 2, 0x1234, usize::MAX >> 1] {
        let e = XaEntry::from_value(v);
        assert!(e.is_value());
        assert_eq!(e.to_value(), v);
    }
    assert!(!XaEntry::NULL.is_value());
    assert!(
        !XaEntry(0x1000).is_value(),
        "a pointer is not a value entry"
    );
}

#[test]
fn dax_entry_round_trip_and_flags() {
    let e = DaxEntry::new(0x12345, DAX_PMD).unwrap();
    assert_eq!(e.pfn(), 0x12345);
    assert!(e.is_pmd() && !e.is_locked() && !e.is_zero() && !e.is_empty() && !e.is_zapped());
    assert_eq!(e.order(PAGES_4K), 9);
    assert_eq!(e.size(PAGES_4K), 2 << 20);
    assert_eq!(e.mapped_pfns(PAGES_4K), 0x12345..0x12345 + 512);
    // arm64 16K pages: 32M PMDs of 2048 pages; 64K pages: 512M PMDs of 8192 pages.
    assert_eq!(e.size(PAGES_16K), 32 << 20);
    assert_eq!(e.mapped_pfns(PAGES_16K), 0x12345..0x12345 + 2048);
    assert_eq!(e.size(PAGES_64K), 512 << 20);
    assert_eq!(e.mapped_pfns(PAGES_64K), 0x12345..0x12345 + 8192);
    let x = e.to_xa();
    assert_eq!(DaxEntry::from_xa(x), Some(e));
    let l = e.locked();
    assert!(l.is_locked() && l.pfn() == e.pfn() && l.unlocked() == e);
    let z = e.zapped();
    assert!(z.is_zapped() && z.pfn() == e.pfn() && z.is_pmd());
}

#[test]
fn entries_without_storage_map_nothing() {
    for f in [DAX_ZERO_PAGE, DAX_EMPTY, DAX_ZERO_PAGE | DAX_PMD] {
        let e = DaxEntry::new(7, f).unwrap();
        for g in ALL {
            assert_eq!(e.size(g), 0);
            assert!(e.mapped_pfns(g).is_empty());
        }
    }
    for g in ALL {
        let e = DaxEntry::new(7, 0).unwrap();
        assert_eq!(e.mapped_pfns(g), 7..8);
        assert_eq!(e.size(g), 1 << g.page_shift());
    }
}

#[test]
fn pfn_bounds() {
    assert!(DaxEntry::new(DaxEntry::MAX_PFN, DAX_FLAGS).is_some());
    assert!(DaxEntry::new(DaxEntry::MAX_PFN + 1, 0).is_none());
    let e = DaxEntry::new(DaxEntry::MAX_PFN, DAX_FLAGS).unwrap();
    assert_eq!(DaxEntry::from_xa(e.to_xa()), Some(e));
    assert_eq!(e.pfn(), DaxEntry::MAX_PFN);
    assert_eq!(e.flags(), DAX_FLAGS);
}

#[test]
fn flags_do_not_overlap_the_pfn() {
    for f in [DAX_LOCKED, DAX_PMD, DAX_ZERO_PAGE, DAX_EMPTY, DAX_ZAP] {
        assert_eq!(f & !DAX_FLAGS, 0);
        assert_eq!(f.count_ones(), 1);
        assert_eq!(DaxEntry::new(0, f).unwrap().pfn(), 0);
    }
    assert_eq!(DAX_FLAGS, (1 << DAX_SHIFT) - 1);
}

#[test]
fn first_address_rounds_down_to_the_entry() {
    let pte = DaxEntry::new(0x1234, 0).unwrap();
    let pmd = DaxEntry::new(0x1200, DAX_PMD).unwrap();
    let cases = [
        (PAGES_4K, pte, 0x7f00_0020_3456, 0x7f00_0020_3000),
        (PAGES_4K, pmd, 0x7f00_0020_3456, 0x7f00_0020_0000),
        (PAGES_4K, pmd, 0x7f00_003f_ffff, 0x7f00_0020_0000),
        // A fault at base + 0x5000 of an order-9 entry belongs to the entry at base.
        (PAGES_4K, pmd, 0x7f00_0020_5000, 0x7f00_0020_0000),
        (PAGES_16K, pte, 0x7f00_0020_7456, 0x7f00_0020_4000),
        (PAGES_16K, pmd, 0x7f00_03ff_ffff, 0x7f00_0200_0000),
        (PAGES_64K, pte, 0x7f00_0020_3456, 0x7f00_0020_0000),
        (PAGES_64K, pmd, 0x7f00_3fff_ffff, 0x7f00_2000_0000),
    ];
    for (g, e, address, first) in cases {
        assert_eq!(
            e.first_address(g, address),
            first,
            "{g:?} {e:?} {address:#x}"
        );
    }
}

#[test]
fn byte_range_edges() {
    for g in ALL {
        let page = 1i64 << g.page_shift();
        assert_eq!(byte_range_indices(g, 0, i64::MAX), (0, usize::MAX));
        assert_eq!(byte_range_indices(g, page, 2 * page - 1), (1, 1));
        assert_eq!(byte_range_indices(g, page - 1, page), (0, 1));
        // fuse passes (u64)-1: like C's arithmetic shift, it reaches the top of the index space.
        assert_eq!(byte_range_indices(g, 0, -1), (0, usize::MAX));
    }
}
