// SPDX-License-Identifier: GPL-2.0

//! Host-side home of the kernel-independent cores of the fsdax Rust units.
//!
//! The module files listed in `TWINS` are included by the in-kernel units (`#[path]` modules)
//! and are byte-identical to the kernel copies at the series tip (`ci/twin-check` proves it).
//! They are pure `core`: no `kernel::`, no `std`. Host-only tests live next to them:
//! unit tests, property tests (proptest), agreement with the C definitions of the applied
//! kernel tree, and loom models of the wait/wake protocols.
#![cfg_attr(not(test), no_std)]
// The cores are used by the kernel units and by the tests, not by this library (the kernel
// copies of entry.rs and idle.rs need no such allowance).
#![allow(dead_code)]

pub mod entry;
pub mod idle;
pub mod lock;

/// Page geometries that the host tests run the cores in: x86_64 and arm64 with 4K pages
/// (2M PMDs), arm64 with 16K pages (32M PMDs) and with 64K pages (512M PMDs).
#[cfg(test)]
pub(crate) mod geometries {
    use crate::entry::Geometry;

    /// 4K pages, 2M PMDs.
    pub(crate) const PAGES_4K: Geometry = Geometry::new(12, 9);
    /// 16K pages, 32M PMDs.
    pub(crate) const PAGES_16K: Geometry = Geometry::new(14, 11);
    /// 64K pages, 512M PMDs.
    pub(crate) const PAGES_64K: Geometry = Geometry::new(16, 13);
    /// All of them.
    pub(crate) const ALL: [Geometry; 3] = [PAGES_4K, PAGES_16K, PAGES_64K];
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod models;

#[cfg(test)]
mod c_defs;

#[cfg(test)]
mod c_shim;

#[cfg(test)]
mod c_agreement;
