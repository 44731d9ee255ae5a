// SPDX-License-Identifier: GPL-2.0

//! Unit tests of the DAX entry encoding (host only).

use crate::entry::*;

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
    assert_eq!(e.order(), PMD_ORDER);
    assert_eq!(e.size(), 2 << 20);
    assert_eq!(e.mapped_pfns(), 0x12345..0x12345 + 512);
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
        assert_eq!(e.size(), 0);
        assert!(e.mapped_pfns().is_empty());
    }
    assert_eq!(DaxEntry::new(7, 0).unwrap().mapped_pfns(), 7..8);
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
    assert_eq!(pte.first_address(0x7f00_0020_3456), 0x7f00_0020_3000);
    assert_eq!(pmd.first_address(0x7f00_0020_3456), 0x7f00_0020_0000);
    assert_eq!(pmd.first_address(0x7f00_003f_ffff), 0x7f00_0020_0000);
}

#[test]
fn byte_range_edges() {
    assert_eq!(byte_range_indices(0, i64::MAX), (0, usize::MAX));
    assert_eq!(byte_range_indices(4096, 8191), (1, 1));
    assert_eq!(byte_range_indices(4095, 4096), (0, 1));
    // fuse passes (u64)-1: like C's arithmetic shift, it reaches the top of the index space.
    assert_eq!(byte_range_indices(0, -1), (0, usize::MAX));
}
