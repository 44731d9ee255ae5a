// SPDX-License-Identifier: GPL-2.0

//! Property tests of the DAX entry encoding (host only).

use crate::entry::*;
use crate::lock::{WaitKey, PG_PMD_COLOUR, WAIT_TABLE_ENTRIES};
use proptest::prelude::*;

/// x86_64's MAX_PHYSMEM_BITS with 5-level paging: the largest physical address a pfn can name
/// (`c_agreement::every_physical_pfn_fits_an_entry` checks it against the applied tree).
pub(crate) const MAX_PHYSMEM_BITS: u32 = 52;
pub(crate) const MAX_PHYS_PFN: usize = (1 << (MAX_PHYSMEM_BITS - PAGE_SHIFT)) - 1;

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
        for f in [e.locked(), e.unlocked(), e.zapped(), e.zapped().locked().unlocked()] {
            prop_assert_eq!(f.pfn(), pfn);
            prop_assert_eq!(f.is_pmd(), e.is_pmd());
            prop_assert_eq!(f.size(), e.size());
        }
        prop_assert!(e.zapped().is_zapped() && e.locked().is_locked() && !e.unlocked().is_locked());
    }

    #[test]
    fn size_order_and_pfn_range_agree(pfn in 0..=MAX_PHYS_PFN, flags in 0..=DAX_FLAGS) {
        let e = DaxEntry::new(pfn, flags).unwrap();
        let range = e.mapped_pfns();
        prop_assert_eq!(range.start, pfn);
        prop_assert_eq!(range.len() << PAGE_SHIFT, e.size());
        if e.is_zero() || e.is_empty() {
            prop_assert_eq!(e.size(), 0);
        } else {
            prop_assert_eq!(e.size(), 1usize << (PAGE_SHIFT + e.order()));
        }
        prop_assert_eq!(e.order(), if e.is_pmd() { PMD_ORDER } else { 0 });
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
        other in 0..=PG_PMD_COLOUR,
        pfn in 0..=MAX_PHYS_PFN,
    ) {
        let pmd = DaxEntry::new(pfn, DAX_PMD).unwrap();
        let k = WaitKey::new(xa, index, pmd);
        let k2 = WaitKey::new(xa, (index & !PG_PMD_COLOUR) + other, pmd);
        prop_assert_eq!(k, k2);
        prop_assert_eq!(k.bucket(), k2.bucket());
        prop_assert_eq!(k.entry_start % (PG_PMD_COLOUR + 1), 0);
        prop_assert!(k.entry_start <= index && index - k.entry_start <= PG_PMD_COLOUR);
        prop_assert!(k.bucket() < WAIT_TABLE_ENTRIES);
    }

    /// Page entries wait per index: different indices of one file never share a key.
    #[test]
    fn pte_entries_wait_per_index(xa in any::<usize>(), a in any::<usize>(), b in any::<usize>(),
                                  pfn in 0..=MAX_PHYS_PFN) {
        let pte = DaxEntry::new(pfn, 0).unwrap();
        let (ka, kb) = (WaitKey::new(xa, a, pte), WaitKey::new(xa, b, pte));
        prop_assert_eq!(ka.entry_start, a);
        prop_assert_eq!(ka == kb, a == b);
        prop_assert!(ka.bucket() < WAIT_TABLE_ENTRIES);
    }

    /// The entry-aligned address of a fault is the start of the entry's span that contains it.
    #[test]
    fn first_address_is_the_span_start(address in any::<usize>(), pfn in 0..=MAX_PHYS_PFN,
                                       flags in 0..=DAX_FLAGS) {
        let e = DaxEntry::new(pfn, flags).unwrap();
        let span = 1usize << (PAGE_SHIFT + e.order());
        let first = e.first_address(address);
        prop_assert_eq!(first % span, 0);
        prop_assert!(first <= address && address - first < span);
        // Idempotent: every address of the span gives the same first address.
        prop_assert_eq!(e.first_address(first + (address - first) / 2), first);
    }

    /// Byte ranges within the file map to the pages they touch.
    #[test]
    fn byte_ranges_cover_their_pages(start in 0..i64::MAX - 1, len in 0..1i64 << 40) {
        let end = start.saturating_add(len).min(i64::MAX - 1);
        let (first, last) = byte_range_indices(start, end);
        prop_assert_eq!(first, (start / 4096) as usize);
        prop_assert_eq!(last, (end / 4096) as usize);
        prop_assert!(first <= last);
        prop_assert_eq!(byte_range_indices(start, i64::MAX), (first, usize::MAX));
    }
}
