// SPDX-License-Identifier: GPL-2.0

//! Loom models of the request/release protocol ([`crate::refs`]) against the kill of the pgmap,
//! host-only.
//!
//! The pgmap's reference is modelled as a `percpu_ref` in atomic mode: a count and a dead bit in
//! one word. `tryget_live()` fails once the dead bit is set; the kill (`memunmap_pages()`) sets
//! it and drops the initial reference; the pgmap is torn down (its memmap freed) when the count
//! reaches 0. Folios count references in an atomic each. A 0-based folio (the pages that the
//! pgmap hands out afresh, as DEVICE_PRIVATE's do and fs-dax's will) drops the pgmap reference
//! of its first reference in its free path; a 1-based folio (fs-dax pages on this kernel) never
//! reaches 0.
//!
//! Each requester holds a pgmap reference of its own around its calls: the caller's guarantee
//! that the pgmap is not torn down during them (fs-dax's dax read-side section, which
//! `kill_dax()` waits for before the pgmap goes).
//!
//! Properties: no pgmap or folio count underflows; no folio is touched after the teardown; a
//! request that starts after the kill is refused; after every release and the kill, the pgmap
//! is torn down (no reference leaked) and every folio is back at its base count. Each planted bug
//! must make loom fail; the `seeded_bug_*` tests assert that it does, and how, by running the
//! `bug_*` model in a child process.

use crate::refs::{self, Folio, Pgmap, Refused};
#[path = "../../rust-dax/src/models/harness.rs"]
mod harness;
use harness::{expect_failure, model};
use loom::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::*};
use loom::sync::Arc;
use loom::thread;

/// The dead bit of the modelled `percpu_ref`.
const DEAD: u64 = 1 << 63;

/// A pgmap: its reference and whether it has been torn down.
struct Map {
    word: AtomicU64,
    torn_down: AtomicBool,
    /// Bug: the guard reference is taken with a `tryget()` that ignores the dead bit.
    tryget_ignores_dead: bool,
}

impl Map {
    fn new(tryget_ignores_dead: bool) -> Self {
        Map {
            // the initial reference, which the kill drops
            word: AtomicU64::new(1),
            torn_down: AtomicBool::new(false),
            tryget_ignores_dead,
        }
    }

    fn is_dead(&self) -> bool {
        self.word.load(SeqCst) & DEAD != 0
    }

    /// `memunmap_pages()`: `percpu_ref_kill()`, which drops the initial reference.
    fn kill(&self) {
        self.word.fetch_or(DEAD, SeqCst);
        Pgmap::put(self);
    }
}

impl Pgmap for Map {
    fn tryget_live(&self) -> bool {
        let mut w = self.word.load(SeqCst);
        loop {
            if (w & DEAD != 0 && !self.tryget_ignores_dead) || w & !DEAD == 0 {
                return false;
            }
            match self.word.compare_exchange(w, w + 1, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => w = now,
            }
        }
    }

    fn get(&self) {
        let old = self.word.fetch_add(1, SeqCst);
        assert!(
            old & !DEAD > 0,
            "percpu_ref_get() on a pgmap without a reference"
        );
    }

    fn put(&self) {
        let old = self.word.fetch_sub(1, SeqCst);
        assert!(old & !DEAD > 0, "pgmap reference underflow");
        if old & !DEAD == 1 {
            assert!(
                old & DEAD != 0,
                "the last pgmap reference dropped while it is live"
            );
            self.torn_down.store(true, SeqCst);
        }
    }
}

/// A folio of [`Map`]; `base` is its idle count (0 or 1).
struct Page {
    count: AtomicI32,
    base: i32,
}

/// A folio as the protocol sees it: the page and its pgmap.
#[derive(Clone, Copy)]
struct F<'a> {
    page: &'a Page,
    map: &'a Map,
}

impl Folio for F<'_> {
    fn ref_inc_return(&self) -> i32 {
        assert!(
            !self.map.torn_down.load(SeqCst),
            "a folio touched after the teardown"
        );
        self.page.count.fetch_add(1, SeqCst) + 1
    }

    fn put(&self) {
        assert!(
            !self.map.torn_down.load(SeqCst),
            "a folio touched after the teardown"
        );
        let new = self.page.count.fetch_sub(1, SeqCst) - 1;
        assert!(new >= self.page.base, "folio reference underflow");
        if new == 0 {
            // free_zone_device_folio(): the first reference's pgmap reference goes.
            Pgmap::put(self.map);
        }
    }
}

/// How the model is built; `Default` is the protocol as the series implements it, on 0-based
/// folios.
#[derive(Clone, Copy, Default)]
struct Cfg {
    /// The folios' idle count.
    base: i32,
    /// Bug: the request is the v3-like variant ([`request_tryget_per_folio`]).
    tryget_per_folio: bool,
    /// Bug: the request reads the count after the increment instead of using its result.
    racy_first_ref: bool,
    /// Bug: a pgmap reference is taken for every folio, not only for the first reference.
    get_every_folio: bool,
    /// Bug: see [`Map::tryget_ignores_dead`].
    tryget_ignores_dead: bool,
}

/// Planted bug: the request checks that the pgmap is not dying first (`percpu_ref_is_dying()`,
/// as v3 does), then takes the pgmap reference of a 0 to 1 folio with a `tryget_live()` of its
/// own, and a failure undoes the folio's increment with a plain decrement.
fn request_tryget_per_folio(pgmap: &Map, folios: &[F<'_>]) -> Result<(), Refused> {
    if pgmap.is_dead() {
        return Err(Refused::Dying);
    }
    for (i, folio) in folios.iter().enumerate() {
        if folio.ref_inc_return() == 1 && !pgmap.tryget_live() {
            folio.page.count.fetch_sub(1, SeqCst);
            refs::release(folios[..i].iter().copied());
            return Err(Refused::Dying);
        }
    }
    Ok(())
}

/// Planted bugs `racy_first_ref` and `get_every_folio`: the request with the first-reference
/// test done wrong.
fn request_wrong_first_ref(cfg: Cfg, pgmap: &Map, folios: &[F<'_>]) -> Result<(), Refused> {
    if !pgmap.tryget_live() {
        return Err(Refused::Dying);
    }
    for folio in folios {
        let first = if cfg.racy_first_ref {
            folio.ref_inc_return();
            folio.page.count.load(SeqCst) == 1
        } else {
            folio.ref_inc_return() == 1 || cfg.get_every_folio
        };
        if first {
            pgmap.get();
        }
    }
    Pgmap::put(pgmap);
    Ok(())
}

struct World {
    map: Map,
    pages: [Page; 2],
}

/// One request of the folios `which` of `w`, by the configured protocol.
fn do_request(cfg: Cfg, w: &World, which: &[usize]) -> Result<(), Refused> {
    let folios: Vec<F<'_>> = which
        .iter()
        .map(|&i| F {
            page: &w.pages[i],
            map: &w.map,
        })
        .collect();
    if cfg.tryget_per_folio {
        request_tryget_per_folio(&w.map, &folios)
    } else if cfg.racy_first_ref || cfg.get_every_folio {
        request_wrong_first_ref(cfg, &w.map, &folios)
    } else {
        refs::request(&w.map, folios)
    }
}

fn do_release(w: &World, which: &[usize]) {
    refs::release(which.iter().map(|&i| F {
        page: &w.pages[i],
        map: &w.map,
    }));
}

/// A requester: with its own pgmap reference around it (the caller's guarantee), requests the
/// folios `which`, uses them, and releases them.
fn requester(cfg: Cfg, w: Arc<World>, which: &'static [usize]) {
    let dead_before = w.map.is_dead();
    match do_request(cfg, &w, which) {
        Ok(()) => {
            assert!(
                !dead_before,
                "a request that started after the kill succeeded"
            );
            for &i in which {
                assert!(w.pages[i].count.load(SeqCst) > w.pages[i].base);
            }
            do_release(&w, which);
        }
        Err(Refused::Dying) => {}
    }
    // the caller's reference
    Pgmap::put(&w.map);
}

fn run(cfg: Cfg) {
    let w = Arc::new(World {
        map: Map::new(cfg.tryget_ignores_dead),
        pages: [
            Page {
                count: AtomicI32::new(cfg.base),
                base: cfg.base,
            },
            Page {
                count: AtomicI32::new(cfg.base),
                base: cfg.base,
            },
        ],
    });
    // the callers' references, taken while the pgmap is live
    assert!(w.map.tryget_live() && w.map.tryget_live());
    let a = {
        let w = w.clone();
        thread::spawn(move || requester(cfg, w, &[0, 1]))
    };
    let b = {
        let w = w.clone();
        thread::spawn(move || requester(cfg, w, &[0]))
    };
    w.map.kill();
    a.join().unwrap();
    b.join().unwrap();
    assert!(w.map.torn_down.load(SeqCst), "a pgmap reference leaked");
    for p in &w.pages {
        assert_eq!(p.count.load(SeqCst), p.base, "a folio reference leaked");
    }
}

#[test]
fn request_release_kill_0_based() {
    model(|| run(Cfg::default()));
}

#[test]
fn request_release_kill_1_based() {
    model(|| {
        run(Cfg {
            base: 1,
            ..Cfg::default()
        })
    });
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_tryget_per_folio_is_caught"]
fn bug_tryget_per_folio() {
    model(|| {
        run(Cfg {
            tryget_per_folio: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_tryget_per_folio_is_caught() {
    // Expected: the undo of one request leaves the other's folio without a pgmap reference,
    // whose free path then drops a reference that was never taken.
    expect_failure("models::bug_tryget_per_folio", "pgmap reference underflow");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_racy_first_ref_is_caught"]
fn bug_racy_first_ref() {
    model(|| {
        run(Cfg {
            racy_first_ref: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_racy_first_ref_is_caught() {
    // Expected: both requests see 2, neither takes the pgmap reference of the first.
    // Expected: a request that reads 1 after another's increment and release takes a second
    // pgmap reference for one first reference.
    expect_failure("models::bug_racy_first_ref", "a pgmap reference leaked");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_get_every_folio_is_caught"]
fn bug_get_every_folio() {
    model(|| {
        run(Cfg {
            get_every_folio: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_get_every_folio_is_caught() {
    expect_failure("models::bug_get_every_folio", "a pgmap reference leaked");
}

#[test]
#[ignore = "planted bug, run in a child process by seeded_bug_tryget_ignores_dead_is_caught"]
fn bug_tryget_ignores_dead() {
    model(|| {
        run(Cfg {
            tryget_ignores_dead: true,
            ..Cfg::default()
        })
    });
}

#[test]
fn seeded_bug_tryget_ignores_dead_is_caught() {
    expect_failure(
        "models::bug_tryget_ignores_dead",
        "a request that started after the kill succeeded",
    );
}
