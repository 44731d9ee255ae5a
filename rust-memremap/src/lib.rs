// SPDX-License-Identifier: GPL-2.0

//! Host-side home of the kernel-independent cores of the memremap Rust units of the series.
//!
//! Like `rust-dax`, the module files listed in `TWINS` are pure `core` code that the kernel
//! units include byte for byte; `ci/twin-check` compares them with the series tip. The memremap
//! units arrive with patch 10 (`mm/memremap_folio.rs`); until then the files here are the
//! reference the C code of mm/memremap.c is checked against, and `TWINS` marks them pending.
//! Host-only tests: unit tests, property tests, agreement with the C of the applied kernel tree
//! (its constants, and its range helpers compiled and run), and a loom model of the
//! request/release protocol against the pgmap's kill.
#![cfg_attr(not(test), no_std)]
// The cores are used by the kernel units and by the tests, not by this library.
#![allow(dead_code)]

pub mod range;
pub mod refs;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod refs_tests;

#[cfg(test)]
mod models;

#[cfg(test)]
mod c_agreement;

/// The C-constant reader of `rust-dax`, shared as a file rather than copied.
#[cfg(test)]
#[path = "../../rust-dax/src/c_defs.rs"]
mod c_defs;

/// The C cutter and runner of `rust-dax`, shared likewise.
#[cfg(test)]
#[path = "../../rust-dax/src/c_shim.rs"]
mod c_shim;
