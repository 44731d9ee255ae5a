// SPDX-License-Identifier: GPL-2.0

//! Property tests of the DAX entry encoding (host only).

use crate::entry::*;
use crate::geometries::{ALL, PAGES_4K};
use crate::lock::{WaitKey, WAIT_TABLE_ENTRIES};
use proptest::prelude::*;

/// x86_64's MAX_PHYSMEM_BITS with 5-level paging: the largest physical address a pfn can name
/// (`c_agreement::every_physical_pfn_fits_an_entry` checks it against the applied tree).
pub(crate) const MAX_PHYSMEM_BITS: u32 = 52;
pub(crate) const MAX_PHYS_PFN: usize = (1 << (MAX_PHYSMEM_BITS - PAGES_4K.page_shift())) - 1;

proptest! {
    #[test]
    fn every_physical_pfn_round_trips(pfn in 0..=MAX_PHYS_PFN, flags in 0..=DAX_FLAGS) {
        let e = DaxEntry::new(pfn, flags).expect("every physical pfn fits");
        prop_assert_eq!(e.pfn(), pfn);
        prop_assert_eq!(e.flags(), flags);
        let x = e.to_xa();
        prop_assert!(x.is_value());
        prop_assert_eq!(DaxEntry::from_xa(x), Some(e));
    }

    #[test]
    fn flag_changes_never_touch_the_pfn(pfn in 0..=MAX_PHYS_PFN, flags in 0..=DAX_FLAGS) {
        let e = DaxEntry::new(pfn, flags).unwrap();
        for f in [e.locked(), e.unlocked(), e.zapped(), e.zapped().locked().unlocked(), e.unzapped()] {
            prop_assert_eq!(f.pfn(), pfn);
            prop_assert_eq!(f.is_pmd(), e.is_pmd());
            prop_assert_eq!(f.size(PAGES_4K), e.size(PAGES_4K));
        }
        prop_assert!(e.zapped().is_zapped() && e.locked().is_locked() && !e.unlocked().is_locked());
        // a re-fault takes the zapped mark off and keeps every other flag
        prop_assert!(!e.zapped().unzapped().is_zapped());
        prop_assert_eq!(e.zapped().unzapped().flags(), flags & !DAX_ZAP);
        prop_assert_eq!(e.locked().zapped().unzapped(), e.locked().unzapped());
    }

    #[test]
    fn size_order_and_pfn_range_agree(pfn in 0..=MAX_PHYS_PFN, flags in 0..=DAX_FLAGS) {
        let e = DaxEntry::new(pfn, flags).unwrap();
        for g in ALL {
            let range = e.mapped_pfns(g);
            prop_assert_eq!(range.start, pfn);
            prop_assert_eq!(range.len() << g.page_shift(), e.size(g));
            if e.is_zero() || e.is_empty() {
                prop_assert_eq!(e.size(g), 0);
            } else {
                prop_assert_eq!(e.size(g), 1usize << (g.page_shift() + e.order(g)));
            }
            prop_assert_eq!(e.order(g), if e.is_pmd() { g.pmd_order() } else { 0 });
        }
    }

    #[test]
    fn non_value_entries_are_rejected(word in any::<usize>()) {
        let x = XaEntry(word & !1);
        prop_assert!(DaxEntry::from_xa(x).is_none());
    }

    /// Every index a PMD entry covers waits on the same key, hence the same queue, and the key
    /// starts at the PMD-aligned index (`dax_entry_waitqueue()`).
    #[test]
    fn pmd_entry_indices_share_one_key(
        xa in any::<usize>(),
        index in 0..usize::MAX / 2,
        other in any::<usize>(),
        pfn in 0..=MAX_PHYS_PFN,
    ) {
        let pmd = DaxEntry::new(pfn, DAX_PMD).unwrap();
        for g in ALL {
            let colour = g.pmd_colour();
            let k = WaitKey::new(g, xa, index, pmd);
            let k2 = WaitKey::new(g, xa, (index & !colour) + (other & colour), pmd);
            prop_assert_eq!(k, k2);
            prop_assert_eq!(k.bucket(), k2.bucket());
            prop_assert_eq!(k.entry_start % (colour + 1), 0);
            prop_assert!(k.entry_start <= index && index - k.entry_start <= colour);
            prop_assert!(k.bucket() < WAIT_TABLE_ENTRIES);
        }
    }

    /// Page entries wait per index: different indices of one file never share a key.
    #[test]
    fn pte_entries_wait_per_index(xa in any::<usize>(), a in any::<usize>(), b in any::<usize>(),
                                  pfn in 0..=MAX_PHYS_PFN) {
        let pte = DaxEntry::new(pfn, 0).unwrap();
        let (ka, kb) = (WaitKey::new(PAGES_4K, xa, a, pte), WaitKey::new(PAGES_4K, xa, b, pte));
        prop_assert_eq!(ka.entry_start, a);
        prop_assert_eq!(ka == kb, a == b);
        prop_assert!(ka.bucket() < WAIT_TABLE_ENTRIES);
    }

    /// The entry-aligned address of a fault is the start of the entry's span that contains it.
    #[test]
    fn first_address_is_the_span_start(address in any::<usize>(), pfn in 0..=MAX_PHYS_PFN,
                                       flags in 0..=DAX_FLAGS) {
        let e = DaxEntry::new(pfn, flags).unwrap();
        for g in ALL {
            let span = 1usize << (g.page_shift() + e.order(g));
            let first = e.first_address(g, address);
            prop_assert_eq!(first % span, 0);
            prop_assert!(first <= address && address - first < span);
            // Idempotent: every address of the span gives the same first address.
            prop_assert_eq!(e.first_address(g, first + (address - first) / 2), first);
        }
    }

    /// Byte ranges within the file map to the pages they touch.
    #[test]
    fn byte_ranges_cover_their_pages(start in 0..i64::MAX - 1, len in 0..1i64 << 40) {
        let end = start.saturating_add(len).min(i64::MAX - 1);
        for g in ALL {
            let page = 1i64 << g.page_shift();
            let (first, last) = byte_range_indices(g, start, end);
            prop_assert_eq!(first, (start / page) as usize);
            prop_assert_eq!(last, (end / page) as usize);
            prop_assert!(first <= last);
            prop_assert_eq!(byte_range_indices(g, start, i64::MAX), (first, usize::MAX));
        }
    }
}
