// SPDX-License-Identifier: GPL-2.0

//! Host-side home of the kernel-independent cores of the fsdax Rust units.
//!
//! The module files listed in `TWINS` are included by the in-kernel units (`#[path]` modules)
//! and are byte-identical to the kernel copies at the series tip (`ci/twin-check` proves it).
//! They are pure `core`: no `kernel::`, no `std`. Host-only tests live next to them:
//! unit tests, property tests (proptest), agreement with the C definitions of the applied
//! kernel tree, and loom models of the wait/wake protocols.
#![cfg_attr(not(test), no_std)]
// The cores are used by the kernel units and by the tests, not by this library.
#![allow(dead_code)]

pub mod entry;
pub mod idle;
pub mod lock;

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
