// SPDX-License-Identifier: GPL-2.0

//! Tests of the request/release protocol, one thread at a time (host only); the loom model is
//! in `models.rs`.

use crate::refs::*;
use proptest::prelude::*;
use std::cell::Cell;

/// A pgmap's reference: a count, and whether it is dying.
#[derive(Default)]
struct Map {
    refs: Cell<i64>,
    dying: Cell<bool>,
}

impl Pgmap for Map {
    fn tryget_live(&self) -> bool {
        if self.dying.get() {
            return false;
        }
        self.refs.set(self.refs.get() + 1);
        true
    }

    fn get(&self) {
        assert!(self.refs.get() > 0, "get() without a reference held");
        self.refs.set(self.refs.get() + 1);
    }

    fn put(&self) {
        assert!(self.refs.get() > 0, "pgmap reference underflow");
        self.refs.set(self.refs.get() - 1);
    }
}

/// A folio: its count; `base` is its idle count, at which the free path runs for a 0-based
/// folio.
struct Page<'a> {
    count: &'a Cell<i32>,
    map: &'a Map,
}

impl Folio for Page<'_> {
    fn ref_inc_return(&self) -> i32 {
        self.count.set(self.count.get() + 1);
        self.count.get()
    }

    fn put(&self) {
        assert!(self.count.get() > 0, "folio reference underflow");
        self.count.set(self.count.get() - 1);
        if self.count.get() == 0 {
            self.map.put();
        }
    }
}

fn pages<'a>(counts: &'a [Cell<i32>], map: &'a Map, which: &[usize]) -> Vec<Page<'a>> {
    which
        .iter()
        .map(|&i| Page {
            count: &counts[i],
            map,
        })
        .collect()
}

fn counts(c: &[Cell<i32>]) -> Vec<i32> {
    c.iter().map(Cell::get).collect()
}

#[test]
fn every_folio_gets_one_reference() {
    // v3's release loop stepped from the first folio each time: three references on it, none on
    // the others.
    let map = Map::default();
    map.refs.set(1);
    let c: Vec<Cell<i32>> = (0..3).map(|_| Cell::new(1)).collect();
    assert_eq!(request(&map, pages(&c, &map, &[0, 1, 2])), Ok(()));
    assert_eq!(counts(&c), [2, 2, 2]);
    assert_eq!(map.refs.get(), 1, "1-based folios take no pgmap reference");
    release(pages(&c, &map, &[0, 1, 2]));
    assert_eq!(counts(&c), [1, 1, 1]);
}

#[test]
fn a_folio_without_references_holds_the_pgmap() {
    let map = Map::default();
    map.refs.set(1);
    let c: Vec<Cell<i32>> = (0..2).map(|_| Cell::new(0)).collect();
    assert_eq!(request(&map, pages(&c, &map, &[0, 1])), Ok(()));
    assert_eq!(map.refs.get(), 3);
    assert_eq!(request(&map, pages(&c, &map, &[0])), Ok(()));
    assert_eq!(
        map.refs.get(),
        3,
        "the second reference of a folio takes no pgmap reference"
    );
    release(pages(&c, &map, &[0, 1, 0]));
    assert_eq!(counts(&c), [0, 0]);
    assert_eq!(map.refs.get(), 1);
}

#[test]
fn a_dying_pgmap_refuses_and_takes_nothing() {
    let map = Map::default();
    map.refs.set(1);
    map.dying.set(true);
    let c: Vec<Cell<i32>> = (0..2).map(|_| Cell::new(0)).collect();
    assert_eq!(request(&map, pages(&c, &map, &[0, 1])), Err(Refused::Dying));
    assert_eq!(counts(&c), [0, 0]);
    assert_eq!(map.refs.get(), 1);
}

proptest! {
    /// Any sequence of requests and releases of 0-based folios keeps the pgmap's count at one
    /// reference per folio in use (plus the initial one), and never underflows.
    #[test]
    fn pgmap_counts_the_folios_in_use(ops in prop::collection::vec(
        (any::<bool>(), prop::collection::vec(0usize..4, 1..4)), 1..40)) {
        let map = Map::default();
        map.refs.set(1);
        let c: Vec<Cell<i32>> = (0..4).map(|_| Cell::new(0)).collect();
        let mut held: Vec<usize> = Vec::new();
        for (req, which) in ops {
            if req {
                prop_assert_eq!(request(&map, pages(&c, &map, &which)), Ok(()));
                held.extend(&which);
            } else {
                let which: Vec<usize> = which.into_iter().filter(|i| {
                    held.iter().position(|h| h == i).map(|p| held.swap_remove(p)).is_some()
                }).collect();
                release(pages(&c, &map, &which));
            }
            let in_use = c.iter().filter(|c| c.get() > 0).count() as i64;
            prop_assert_eq!(map.refs.get(), 1 + in_use);
            for (i, count) in c.iter().enumerate() {
                prop_assert_eq!(count.get() as usize, held.iter().filter(|&&h| h == i).count());
            }
        }
    }
}
