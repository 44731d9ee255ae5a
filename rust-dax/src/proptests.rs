// SPDX-License-Identifier: GPL-2.0

//! Property tests of the DAX entry encoding (host only).

use crate::entry::*;
use proptest::prelude::*;

/// x86_64's MAX_PHYSMEM_BITS with 5-level paging: the largest physical address a pfn can name.
const MAX_PHYSMEM_BITS: u32 = 52;
const MAX_PHYS_PFN: usize = (1 << (MAX_PHYSMEM_BITS - PAGE_SHIFT)) - 1;

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
}
