// SPDX-License-Identifier: GPL-2.0

//! Agreement of the pure cores with the C definitions of the applied kernel tree (x86_64).
//!
//! Nothing here re-types a C constant: each one is read from the tree at the series tip (see
//! [`crate::c_defs`]), and the wait-table hash is compiled from the kernel's own source of
//! `hash_64_generic()` and run against [`lock::hash_64()`].

use crate::c_defs::CTree;
use crate::entry::{self, DaxEntry};
use crate::{idle, lock};
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn entry_flag_bits_match_c() {
    let mut t = CTree::x86_64();
    t.load("include/linux/dax.h");
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

#[test]
fn page_geometry_matches_c() {
    let t = CTree::x86_64();
    assert_eq!(t.value("PAGE_SHIFT"), entry::PAGE_SHIFT.into());
    assert_eq!(t.value("PMD_ORDER"), entry::PMD_ORDER.into());
}

#[test]
fn value_entry_encoding_matches_c() {
    let t = CTree::open();
    let xa = t.read("include/linux/xarray.h");
    let body = |f: &str| -> String {
        let start = xa
            .find(&format!("{f}("))
            .unwrap_or_else(|| panic!("{f}() not in xarray.h"));
        let open = start + xa[start..].find('{').unwrap();
        let close = open + xa[open..].find("\n}").unwrap();
        xa[open..close]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    // What XaEntry::from_value(), to_value() and is_value() implement.
    assert!(body("xa_mk_value").contains("return (void *)((v << 1) | 1);"));
    assert!(body("xa_to_value").contains("return (unsigned long)entry >> 1;"));
    assert!(body("xa_is_value").contains("return (unsigned long)entry & 1;"));
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
    let max_pfn = (1usize << (bits - entry::PAGE_SHIFT)) - 1;
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
    assert_eq!(t.value("PG_PMD_COLOUR"), lock::PG_PMD_COLOUR as u128);
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

#[test]
fn wait_table_hash_matches_compiled_c() {
    let t = CTree::open();
    let hash_h = t.read("include/linux/hash.h");
    // The kernel's own hash_64_generic(), compiled for a 64-bit long.
    let start = hash_h
        .find("static __always_inline u32 hash_64_generic(")
        .expect("hash_64_generic() in hash.h");
    let end = start + hash_h[start..].find("\n}\n").unwrap() + 3;
    let golden = hash_h
        .lines()
        .find(|l| l.starts_with("#define GOLDEN_RATIO_64 "))
        .unwrap();
    let src = format!(
        "#include <stdio.h>\n#include <stdint.h>\ntypedef uint64_t u64;\ntypedef uint32_t u32;\n\
         #undef __always_inline\n#define __always_inline inline\n#define BITS_PER_LONG 64\n{golden}\n{}\n\
         int main(void) {{ unsigned long long xa, index; unsigned int bits;\n\
         while (scanf(\"%llu %llu %u\", &xa, &index, &bits) == 3)\n\
         printf(\"%u\\n\", hash_64_generic(xa ^ index, bits)); return 0; }}\n",
        &hash_h[start..end]
    );
    let dir = std::env::temp_dir().join(format!("rust-dax-hash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, exe) = (dir.join("hash.c"), dir.join("hash"));
    std::fs::write(&c, src).unwrap();
    let cc = Command::new("cc")
        .arg("-O2")
        .arg("-o")
        .arg(&exe)
        .arg(&c)
        .status();
    assert!(
        cc.is_ok_and(|s| s.success()),
        "cc could not build {}",
        c.display()
    );

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
    let mut child = Command::new(&exe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for (xa, index, bits) in &inputs {
        writeln!(stdin, "{xa} {index} {bits}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let c_hashes: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(c_hashes.len(), inputs.len());
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
