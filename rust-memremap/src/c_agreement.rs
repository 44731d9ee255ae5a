// SPDX-License-Identifier: GPL-2.0

//! Agreement of the pgmap range arithmetic with the C of the applied kernel tree (x86_64).
//!
//! The range helpers of mm/memremap.c, and what they use from the headers, are cut out of the
//! tree, compiled with stub definitions of the kernel types around them and run against
//! [`crate::range`] (see `rust-dax/src/c_shim.rs`). Only the stubs and the driver are written
//! here; every function, macro and struct that the helpers compute with is the tree's text.

use crate::c_defs::CTree;
use crate::c_shim::{member, CFile, CShim};
use crate::range::*;
use proptest::prelude::*;
use std::sync::OnceLock;

/// The tree's geometry for x86_64, the architecture the C is compiled for.
fn geometry() -> Geometry {
    static GEOMETRY: OnceLock<Geometry> = OnceLock::new();
    *GEOMETRY.get_or_init(|| {
        let page_shift = CTree::x86_64().value("PAGE_SHIFT");
        let mut t = CTree::x86_64();
        t.load("arch/x86/include/asm/sparsemem.h")
            .load("include/linux/mmzone.h");
        Geometry::new(
            page_shift as u32,
            t.value("SUBSECTION_SHIFT") as u32,
            t.value("SECTION_SIZE_BITS") as u32,
        )
    })
}

/// The most ranges a pgmap of the tests has (the kernel's `ranges[]` is a flexible array).
const MAX_RANGES: usize = 4;

/// The largest physical address with x86_64's 52-bit `MAX_PHYSMEM_BITS` (5-level paging).
const MAX_PHYS_ADDR: u64 = (1 << 52) - 1;

/// `pfn_first()`, `pfn_end()`, `pfn_len()` and `pgmap_pfn_valid()` of mm/memremap.c, compiled
/// from the tree. The driver reads a pgmap and pfns to look up,
/// `altmap_valid reserve free vmemmap_shift nr_range (start end)... npfns pfn...`, and answers
/// `(pfn_first pfn_end pfn_len)...` of each range, then `pgmap_pfn_valid()` of each pfn.
fn range_shim() -> &'static CShim {
    static SHIM: OnceLock<CShim> = OnceLock::new();
    SHIM.get_or_init(|| {
        let t = CTree::x86_64();
        let range_h = CFile::read(&t, "include/linux/range.h");
        let pfn_h = CFile::read(&t, "include/linux/pfn.h");
        let memremap_h = CFile::read(&t, "include/linux/memremap.h");
        let mm_h = CFile::read(&t, "include/linux/mm.h");
        let memremap_c = CFile::read(&t, "mm/memremap.c");
        let kconfig = t.read("mm/Kconfig");
        // mm/memremap.c is built for ZONE_DEVICE, which needs SPARSEMEM_VMEMMAP: that is the
        // vmem_altmap_offset() it sees.
        let zone_device = kconfig
            .split("\nconfig ")
            .find(|c| c.starts_with("ZONE_DEVICE\n"))
            .expect("config ZONE_DEVICE in mm/Kconfig");
        assert!(
            zone_device.contains("\tdepends on SPARSEMEM_VMEMMAP\n"),
            "ZONE_DEVICE no longer depends on SPARSEMEM_VMEMMAP:\n{zone_device}"
        );
        let pgmap = memremap_h.struct_def("dev_pagemap");
        assert!(
            pgmap.contains("\tDECLARE_FLEX_ARRAY(struct range, ranges);\n"),
            "the ranges of struct dev_pagemap changed:\n{pgmap}"
        );
        let mut src = format!(
            "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n\
             #include <stdlib.h>\n\n\
             /* Stubs: the kernel's u64, and PAGE_SHIFT as the tree defines it for x86_64. */\n\
             typedef uint64_t u64;\n#define PAGE_SHIFT {}\n\n/* include/linux/pfn.h */\n{}\n\
             /* include/linux/range.h */\n{}\n{}\n/* include/linux/memremap.h */\n{}\n{}\n\
             /* Stub: the members of struct dev_pagemap that the helpers use, declared as the\n \
             * tree declares them; ranges[] is a DECLARE_FLEX_ARRAY() there. */\n\
             #define MAX_RANGES {MAX_RANGES}\nstruct dev_pagemap {{\n",
            t.value("PAGE_SHIFT"),
            pfn_h.define("PHYS_PFN"),
            range_h.struct_def("range"),
            range_h.function("range_len"),
            memremap_h.struct_def("vmem_altmap"),
            memremap_h.define("PGMAP_ALTMAP_VALID"),
        );
        for field in ["altmap", "flags", "vmemmap_shift", "nr_range"] {
            src += &format!("\t{}\n", member(&pgmap, field));
        }
        src += "\tstruct range ranges[MAX_RANGES];\n};\n\n";
        src += &memremap_h.function("pgmap_altmap");
        src += "\n/* include/linux/mm.h */\n";
        src += &mm_h.function_if("vmem_altmap_offset", "#ifdef CONFIG_SPARSEMEM_VMEMMAP");
        src += "\n/* mm/memremap.c */\n";
        for f in ["pfn_first", "pgmap_pfn_valid", "pfn_end", "pfn_len"] {
            src += &(memremap_c.function(f) + "\n");
        }
        src += r#"
/* The driver. */
static unsigned long num(char **p)
{
	char *end;
	unsigned long v = strtoul(*p, &end, 10);

	if (end == *p)
		exit(2);
	*p = end;
	return v;
}

int main(void)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin)) {
		char *p = line;
		unsigned long valid = num(&p), reserve = num(&p), nfree = num(&p);
		unsigned long shift = num(&p), nr = num(&p), npfns, i;
		struct dev_pagemap pgmap = {
			.altmap = { .reserve = reserve, .free = nfree },
			.flags = valid ? PGMAP_ALTMAP_VALID : 0,
			.vmemmap_shift = shift,
			.nr_range = nr,
		};

		if (nr < 1 || nr > MAX_RANGES)
			return 2;
		for (i = 0; i < nr; i++) {
			pgmap.ranges[i].start = num(&p);
			pgmap.ranges[i].end = num(&p);
		}
		for (i = 0; i < nr; i++)
			printf("%lu %lu %lu ", pfn_first(&pgmap, i),
			       pfn_end(&pgmap, i), pfn_len(&pgmap, i));
		for (npfns = num(&p); npfns; npfns--)
			printf("%d ", pgmap_pfn_valid(&pgmap, num(&p)));
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
"#;
        CShim::build("memremap-range", &src)
    })
}

/// A pgmap as the C helpers see it, and pfns to look up in it.
#[derive(Clone, Debug)]
struct Pgmap {
    ranges: Vec<PhysRange>,
    /// `PGMAP_ALTMAP_VALID`: whether `reserve + free` memmap pages start the first range.
    altmap_valid: bool,
    reserve: u64,
    free: u64,
    vmemmap_shift: u32,
    pfns: Vec<u64>,
}

impl Pgmap {
    /// What `vmem_altmap_offset(pgmap_altmap(pgmap))` is in C, and the Rust unit passes.
    fn altmap_offset(&self) -> u64 {
        if self.altmap_valid {
            self.reserve + self.free
        } else {
            0
        }
    }

    /// The driver's input line.
    fn line(&self) -> String {
        let mut l = format!(
            "{} {} {} {} {}",
            u8::from(self.altmap_valid),
            self.reserve,
            self.free,
            self.vmemmap_shift,
            self.ranges.len()
        );
        for r in &self.ranges {
            l += &format!(" {} {}", r.start(), r.end());
        }
        l += &format!(" {}", self.pfns.len());
        for pfn in &self.pfns {
            l += &format!(" {pfn}");
        }
        l
    }

    /// What the driver answers, computed by the Rust functions, each with what it is.
    fn rust(&self) -> Vec<(String, u64)> {
        let (g, off) = (geometry(), self.altmap_offset());
        let mut out = Vec::new();
        for (i, r) in self.ranges.iter().enumerate() {
            out.push((format!("pfn_first(range {i})"), pfn_first(g, *r, i, off)));
            out.push((format!("pfn_end(range {i})"), pfn_end(g, *r)));
            let len = pfn_len(g, *r, i, off, self.vmemmap_shift);
            out.push((format!("pfn_len(range {i})"), len));
        }
        for pfn in &self.pfns {
            let valid = pfn_valid(g, &self.ranges, off, *pfn);
            out.push((format!("pgmap_pfn_valid({pfn:#x})"), valid.into()));
        }
        out
    }
}

/// Physical ranges below the top of the 64-bit space (where C's `start + range_len()` wraps,
/// see [`where_rust_deliberately_differs_from_c`]): hot-pluggable ones (sub-section aligned,
/// below 2^52), short unaligned ones (partial pages), any, and the edges.
fn phys_range() -> impl Strategy<Value = PhysRange> {
    let top = u64::MAX - 1;
    let g = geometry();
    let (sub_shift, page_shift) = (g.subsection_shift(), g.page_shift());
    prop_oneof![
        (0u64..1 << (52 - sub_shift), 1u64..1 << 12).prop_map(move |(sub, n)| {
            let start = sub << sub_shift;
            PhysRange::new(start, start + (n << sub_shift) - 1).unwrap()
        }),
        (0..=MAX_PHYS_ADDR, 0u64..3 << page_shift)
            .prop_map(|(start, len)| { PhysRange::new(start, start + len).unwrap() }),
        (any::<u64>(), any::<u64>()).prop_map(move |(a, b)| {
            PhysRange::new(a.min(b).min(top), a.max(b).min(top)).unwrap()
        }),
        prop::sample::select(vec![
            (0, 0),
            (0, MAX_PHYS_ADDR),
            (MAX_PHYS_ADDR, MAX_PHYS_ADDR),
            (4 << 30, (6 << 30) - 1),
            (1 << 63, top),
            (0, top),
            (top, top),
        ])
        .prop_map(|(start, end)| PhysRange::new(start, end).unwrap()),
    ]
}

/// Pgmaps of one to [`MAX_RANGES`] ranges. With a valid altmap its memmap pages lie within the
/// first range, as memremap_pages() sizes them; without one, `reserve` and `free` are any
/// values, which C must ignore. The pfns looked up are any, the edges of each range and of its
/// device pages, each with its neighbours.
fn pgmap() -> impl Strategy<Value = Pgmap> {
    let pick = (0u8..6, 0..MAX_RANGES, -1i64..=1, any::<u64>());
    (
        prop::collection::vec(phys_range(), 1..=MAX_RANGES),
        any::<bool>(),
        (any::<u64>(), any::<u64>()),
        prop_oneof![0u32..19, 0u32..64],
        prop::collection::vec(pick, 1..16),
    )
        .prop_map(|(ranges, altmap_valid, (r, f), vmemmap_shift, picks)| {
            let g = geometry();
            let r0 = ranges[0];
            let (reserve, free) = if altmap_valid {
                let span = pfn_end(g, r0) - g.phys_pfn(r0.start());
                let reserve = r % (span + 1);
                (reserve, f % (span - reserve + 1))
            } else {
                (r, f)
            };
            let mut p = Pgmap {
                ranges,
                altmap_valid,
                reserve,
                free,
                vmemmap_shift,
                pfns: Vec::new(),
            };
            let off = p.altmap_offset();
            for (kind, i, delta, any) in picks {
                let (i, r) = (i % p.ranges.len(), p.ranges[i % p.ranges.len()]);
                let pfn = match kind {
                    0 => any,
                    1 => g.phys_pfn(r.start()),
                    2 => pfn_first(g, r, i, off),
                    3 => g.phys_pfn(r.end()),
                    4 => pfn_end(g, r),
                    _ => [0, u64::MAX, g.phys_pfn(MAX_PHYS_ADDR)][any as usize % 3],
                };
                p.pfns.push(pfn.wrapping_add_signed(delta));
            }
            p
        })
}

/// pfn_first(), pfn_end(), pfn_len() and pfn_valid() compute, for every range of 4000 pgmaps and
/// every pfn looked up, what the tree's pfn_first(), pfn_end(), pfn_len() and pgmap_pfn_valid()
/// compute.
#[test]
fn range_helpers_match_compiled_c() {
    let shim = range_shim();
    proptest!(ProptestConfig::with_cases(4000), |(p in pgmap())| {
        let c = shim.ask_numbers(&p.line());
        let rust = p.rust();
        prop_assert_eq!(c.len(), rust.len(), "the C answered {:?}", c);
        for ((what, r), c) in rust.iter().zip(c) {
            prop_assert_eq!(*r, c, "{}: Rust (left) vs. the tree's C (right)", what);
        }
    });
}

/// The two inputs where the Rust arithmetic is defined to differ from C's, both outside what
/// memremap_pages() creates: a range that ends at the top of the 64-bit space, where C's
/// `start + range_len()` wraps to 0 while [`pfn_end()`] is one past the last pfn; and memmap
/// pages beyond the end of the first range, where C's `pfn_end - pfn_first` wraps while
/// [`pfn_len()`] is 0.
#[test]
fn where_rust_deliberately_differs_from_c() {
    let pgmap = |start, end, altmap_valid, free, vmemmap_shift| Pgmap {
        ranges: vec![PhysRange::new(start, end).unwrap()],
        altmap_valid,
        reserve: 0,
        free,
        vmemmap_shift,
        pfns: vec![],
    };
    let rust = |p: &Pgmap| p.rust().into_iter().map(|(_, v)| v).collect::<Vec<_>>();
    // pfn_first, pfn_end, pfn_len
    let top = pgmap(1 << 63, u64::MAX, false, 0, 0);
    assert_eq!(rust(&top), [1 << 51, 1 << 52, 1 << 51]);
    assert_eq!(
        range_shim().ask_numbers(&top.line()),
        [1 << 51, 0, (1u64 << 51).wrapping_neg()]
    );
    let over = pgmap(4 << 30, (6 << 30) - 1, true, 0x8_0001, 9);
    assert_eq!(rust(&over), [0x18_0001, 0x18_0000, 0]);
    assert_eq!(
        range_shim().ask_numbers(&over.line()),
        [0x18_0001, 0x18_0000, u64::MAX >> 9]
    );
}
