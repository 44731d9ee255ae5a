// SPDX-License-Identifier: GPL-2.0

//! Agreement of the pure cores with the C definitions of the applied kernel tree (x86_64).
//!
//! Nothing here re-types C: each constant is read from the tree at the series tip (see
//! [`crate::c_defs`]), and the C functions that the cores follow are cut out of the tree, compiled
//! and run against the Rust code (see [`crate::c_shim`]): the value-entry helpers of
//! include/linux/xarray.h and the entry accessors of fs/dax.c against [`entry`], and
//! `hash_64_generic()` against [`lock::hash_64()`].

use crate::c_defs::CTree;
use crate::c_shim::{CFile, CShim};
use crate::entry::{self, DaxEntry, XaEntry};
use crate::geometries::PAGES_4K;
use crate::proptests::MAX_PHYS_PFN;
use crate::{idle, lock};
use proptest::prelude::*;
use std::sync::OnceLock;

#[test]
fn entry_flag_bits_match_c() {
    let mut t = CTree::x86_64();
    t.load("include/linux/dax_core.h");
    assert_eq!(t.value("DAX_SHIFT"), entry::DAX_SHIFT.into());
    for (name, bit) in [
        ("DAX_LOCKED", entry::DAX_LOCKED),
        ("DAX_PMD", entry::DAX_PMD),
        ("DAX_ZERO_PAGE", entry::DAX_ZERO_PAGE),
        ("DAX_EMPTY", entry::DAX_EMPTY),
        ("DAX_ZAP", entry::DAX_ZAP),
    ] {
        assert_eq!(t.value(name), bit as u128, "{name}");
    }
}

/// The insertion modifiers of patch 11 (`DAX_DIRTY`, `DAX_SHARED`) are outside the stored flags
/// (`DAX_MASK`, which is the core's [`entry::DAX_FLAGS`]), so an entry made with them stores
/// neither.
#[test]
fn insert_modifiers_are_not_stored() {
    let mut t = CTree::x86_64();
    t.load("include/linux/dax_core.h");
    assert_eq!(t.value("DAX_MASK"), entry::DAX_FLAGS as u128);
    for name in ["DAX_DIRTY", "DAX_SHARED"] {
        let bit = t.value(name) as usize;
        assert_eq!(bit & entry::DAX_FLAGS, 0, "{name}");
        let e = DaxEntry::new(0x1234, bit | entry::DAX_PMD).unwrap();
        assert_eq!((e.pfn(), e.flags()), (0x1234, entry::DAX_PMD), "{name}");
    }
}

#[test]
fn page_geometry_matches_c() {
    let t = CTree::x86_64();
    // The geometry the host tests call 4K is x86_64's, as the tree defines it.
    let g = entry::Geometry::new(
        t.value("PAGE_SHIFT").try_into().unwrap(),
        t.value("PMD_ORDER").try_into().unwrap(),
    );
    assert_eq!(g, PAGES_4K);
}

/// The value-entry helpers of include/linux/xarray.h and the entry accessors of fs/dax.c,
/// compiled from the tree. The driver reads a word `w` and answers, for `w` as a value and as
/// an entry: `xa_mk_value(w)`, whether its `WARN_ON()` fired, `xa_to_value()`, `xa_is_value()`,
/// `dax_to_pfn()`, `dax_is_locked()`, `dax_entry_order()`, and `dax_is_pmd_entry()`,
/// `dax_is_zero_entry()` and `dax_is_empty_entry()` as truth values (0 or 1).
fn entry_shim() -> &'static CShim {
    static SHIM: OnceLock<CShim> = OnceLock::new();
    SHIM.get_or_init(|| {
        let t = CTree::x86_64();
        let xa = CFile::read(&t, "include/linux/xarray.h");
        let dax_h = CFile::read(&t, "include/linux/dax_core.h");
        let dax_c = CFile::read(&t, "fs/dax.c");
        let mut src = format!(
            "#include <stdbool.h>\n#include <stdio.h>\n#include <stdlib.h>\n\n\
             /* Stubs: WARN_ON() records that it fired; PMD_ORDER as the tree defines it. */\n\
             static int warned;\n#define WARN_ON(condition) (warned = !!(condition))\n\
             #define PMD_ORDER {}\n\n/* include/linux/xarray.h */\n",
            t.value("PMD_ORDER")
        );
        for f in ["xa_mk_value", "xa_to_value", "xa_is_value"] {
            src += &(xa.function(f) + "\n");
        }
        src += "/* include/linux/dax_core.h */\n";
        for d in [
            "DAX_SHIFT",
            "DAX_LOCKED",
            "DAX_PMD",
            "DAX_ZERO_PAGE",
            "DAX_EMPTY",
        ] {
            src += &dax_h.define(d);
        }
        src += "\n/* fs/dax.c */\n";
        for f in [
            "dax_to_pfn",
            "dax_is_locked",
            "dax_entry_order",
            "dax_is_pmd_entry",
            "dax_is_zero_entry",
            "dax_is_empty_entry",
        ] {
            src += &(dax_c.function(f) + "\n");
        }
        src += r#"/* The driver. */
int main(void)
{
	char line[64], *end;

	while (fgets(line, sizeof(line), stdin)) {
		unsigned long w = strtoul(line, &end, 10), mk;
		void *entry = (void *)w;

		if (end == line || *end != '\n')
			return 2;
		warned = 0;
		mk = (unsigned long)xa_mk_value(w);
		printf("%lu %d %lu %d %lu %d %u %d %d %d\n", mk, warned,
		       xa_to_value(entry), xa_is_value(entry), dax_to_pfn(entry),
		       dax_is_locked(entry), dax_entry_order(entry),
		       !!dax_is_pmd_entry(entry), !!dax_is_zero_entry(entry),
		       !!dax_is_empty_entry(entry));
		fflush(stdout);
	}
	return 0;
}
"#;
        CShim::build("entry", &src)
    })
}

/// Words to feed [`entry_shim()`]: DAX entries of every physical pfn with any flags (as entry
/// words and as values), single bits with their neighbours (the top bit included), the limits of
/// a value, and any word.
fn entry_words() -> impl Strategy<Value = usize> {
    let dax = (0..=MAX_PHYS_PFN, 0..=entry::DAX_FLAGS);
    prop_oneof![
        dax.clone()
            .prop_map(|(pfn, flags)| DaxEntry::new(pfn, flags).unwrap().to_xa().0),
        dax.prop_map(|(pfn, flags)| DaxEntry::new(pfn, flags).unwrap().value()),
        (0..usize::BITS, -1isize..=1).prop_map(|(b, d)| (1usize << b).wrapping_add_signed(d)),
        prop::sample::select(vec![
            0,
            usize::MAX >> 1,
            (usize::MAX >> 1) + 1,
            usize::MAX,
            DaxEntry::MAX_PFN,
            MAX_PHYS_PFN,
        ]),
        any::<usize>(),
    ]
}

/// XaEntry::from_value(), to_value() and is_value() compute what the tree's xa_mk_value(),
/// xa_to_value() and xa_is_value() compute, on 5000 words; xa_mk_value() warns exactly for the
/// values that from_value() does not take (more than `usize::BITS - 1` bits). A value entry read
/// as a DaxEntry has the pfn, lock bit, order and kind that the accessors of fs/dax.c read.
#[test]
fn value_entries_match_compiled_c() {
    let shim = entry_shim();
    proptest!(ProptestConfig::with_cases(5000), |(w in entry_words())| {
        let c = shim.ask_numbers(&w.to_string());
        let x = XaEntry(w);
        let mut rust = vec![
            ("xa_mk_value()", XaEntry::from_value(w).0 as u64),
            ("the WARN_ON() of xa_mk_value()", u64::from(w > usize::MAX >> 1)),
            ("xa_to_value()", x.to_value() as u64),
            ("xa_is_value()", x.is_value().into()),
        ];
        if let Some(e) = DaxEntry::from_xa(x) {
            rust.extend([
                ("dax_to_pfn()", e.pfn() as u64),
                ("dax_is_locked()", e.is_locked().into()),
                ("dax_entry_order()", e.order(PAGES_4K).into()),
                ("dax_is_pmd_entry()", e.is_pmd().into()),
                ("dax_is_zero_entry()", e.is_zero().into()),
                ("dax_is_empty_entry()", e.is_empty().into()),
            ]);
        }
        prop_assert_eq!(c.len(), 10, "the C answered {:?}", c);
        for ((what, r), c) in rust.into_iter().zip(c) {
            prop_assert_eq!(r, c, "{} of {:#x}: Rust (left) vs. the tree's C (right)", what, w);
        }
    });
}
#[test]
fn every_physical_pfn_fits_an_entry() {
    let mut t = CTree::x86_64();
    t.load("arch/x86/include/asm/sparsemem.h");
    // x86_64: `(pgtable_l5_enabled() ? 52 : 46)`; the largest is the one to fit.
    let body = t.body("MAX_PHYSMEM_BITS").to_string();
    assert!(
        body.contains("pgtable_l5_enabled()"),
        "MAX_PHYSMEM_BITS is now {body:?}"
    );
    let bits: u32 = body
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .max()
        .unwrap();
    assert_eq!(
        bits,
        crate::proptests::MAX_PHYSMEM_BITS,
        "the property tests' bound"
    );
    let max_pfn = (1usize << (bits - PAGES_4K.page_shift())) - 1;
    assert!(max_pfn <= DaxEntry::MAX_PFN);
    let e = DaxEntry::new(max_pfn, entry::DAX_FLAGS).unwrap();
    assert_eq!(e.pfn(), max_pfn);
    assert_eq!(e.flags(), entry::DAX_FLAGS);
}

#[test]
fn wait_table_constants_match_c() {
    let mut t = CTree::x86_64();
    t.load("include/linux/hash.h").load("fs/dax.c");
    assert_eq!(t.value("DAX_WAIT_TABLE_BITS"), lock::WAIT_TABLE_BITS.into());
    assert_eq!(
        t.value("DAX_WAIT_TABLE_ENTRIES"),
        lock::WAIT_TABLE_ENTRIES as u128
    );
    assert_eq!(t.value("GOLDEN_RATIO_64"), lock::GOLDEN_RATIO_64.into());
    assert_eq!(t.value("PG_PMD_COLOUR"), PAGES_4K.pmd_colour() as u128);
    // hash_long() is hash_64() on 64-bit, and x86 has no arch-specific hash.
    let hash_h = t.read("include/linux/hash.h");
    assert!(hash_h.contains("#define hash_long(val, bits) hash_64(val, bits)"));
    assert!(!t.read("arch/x86/Kconfig").contains("HAVE_ARCH_HASH"));
    // The wait queue is chosen as lock::WaitKey::bucket() computes it.
    let dax_c = t.read("fs/dax.c");
    assert!(dax_c.contains("index &= ~PG_PMD_COLOUR;"));
    assert!(
        dax_c.contains("hash = hash_long((unsigned long)xas->xa ^ index, DAX_WAIT_TABLE_BITS);")
    );
}

/// The kernel's own `hash_64_generic()` of include/linux/hash.h, compiled for a 64-bit long. The
/// driver reads `xa index bits` and answers `hash_64_generic(xa ^ index, bits)`.
fn hash_shim() -> &'static CShim {
    static SHIM: OnceLock<CShim> = OnceLock::new();
    SHIM.get_or_init(|| {
        let hash_h = CFile::read(&CTree::open(), "include/linux/hash.h");
        let src = format!(
            "#include <stdint.h>\n#include <stdio.h>\n\n\
             /* Stubs: the kernel's types, and a 64-bit long. */\n\
             typedef uint64_t u64;\ntypedef uint32_t u32;\n\
             #undef __always_inline\n#define __always_inline inline\n#define BITS_PER_LONG 64\n\n\
             /* include/linux/hash.h */\n{}\n{}{}",
            hash_h.define("GOLDEN_RATIO_64"),
            hash_h.function("hash_64_generic"),
            r#"
/* The driver. */
int main(void)
{
	char line[80];
	unsigned long long xa, index;
	unsigned int bits;

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%llu %llu %u", &xa, &index, &bits) != 3)
			return 2;
		printf("%u\n", hash_64_generic(xa ^ index, bits));
		fflush(stdout);
	}
	return 0;
}
"#
        );
        CShim::build("hash", &src)
    })
}

#[test]
fn wait_table_hash_matches_compiled_c() {
    let mut inputs = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..2000u64 {
        // xorshift64: addresses in the kernel's direct map and arbitrary indices.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let xa = 0xffff_8880_0000_0000 | (x & 0x7f_ffff_fff8);
        let index = if i % 2 == 0 { x >> 40 } else { i };
        inputs.push((xa, index, if i % 7 == 0 { 1 + (i % 64) as u32 } else { 12 }));
    }
    let c_hashes: Vec<u64> = inputs
        .iter()
        .map(|(xa, index, bits)| hash_shim().ask_numbers(&format!("{xa} {index} {bits}"))[0])
        .collect();
    for ((xa, index, bits), c) in inputs.iter().zip(c_hashes) {
        // hash_64_generic() returns u32: compare the low 32 bits, as C does.
        assert_eq!(
            lock::hash_64(xa ^ index, *bits) & 0xffff_ffff,
            c,
            "{xa:#x} ^ {index:#x}, {bits}"
        );
        if *bits == lock::WAIT_TABLE_BITS {
            let key = lock::WaitKey {
                xa: *xa as usize,
                entry_start: *index as usize,
            };
            assert_eq!(key.bucket() as u64, c);
        }
    }
}

#[test]
fn idle_refcount_matches_the_c_waker() {
    let t = CTree::open();
    let memremap = t.read("mm/memremap.c");
    // __put_devmap_managed_folio_refs() wakes the page when the count drops to the idle value.
    let (_, after) = memremap
        .split_once("if (folio_ref_sub_return(folio, refs) == ")
        .expect("the put path of mm/memremap.c compares the new count");
    let (n, rest) = after.split_once(')').unwrap();
    assert_eq!(n.trim().parse::<i32>().unwrap(), idle::IDLE_REFCOUNT);
    assert!(rest.trim_start().starts_with("wake_up_var(&folio->page);"));
}

#[test]
fn the_c_parser_reads_what_the_headers_write() {
    let t = CTree::from_text(
        "#define A\t(_AC(1, UL) << B) /* comment */\n\
         # define B 21 // comment\n\
         #define C (A >> 12) - 1\n\
         #define F(x) ((x) + 1)\n\
         #define G 0x61C8864680B583EBull\n\
         #define H \\\n  (BIT(3) | 1UL)\n\
         #define B 22\n",
    );
    assert_eq!(t.value("B"), 22, "the last definition wins");
    assert_eq!(t.value("A"), 1 << 22);
    assert_eq!(t.value("C"), (1 << 10) - 1);
    assert_eq!(t.value("G"), 0x61C8_8646_80B5_83EB);
    assert_eq!(t.value("H"), 9, "continuation lines are joined");
    assert!(
        std::panic::catch_unwind(|| t.body("F").to_string()).is_err(),
        "function-like macros are not constants"
    );
}
