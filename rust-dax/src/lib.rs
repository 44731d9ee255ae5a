// SPDX-License-Identifier: GPL-2.0

//! Host-side home of the kernel-independent cores of the fsdax Rust units.
//!
//! The module files listed in `TWINS` are included by the in-kernel units (`#[path]` modules)
//! and are byte-identical to the kernel copies at the series tip (`ci/twin-check` proves it).
//! They are pure `core`: no `kernel::`, no `std`. Host-only tests live next to them.
#![cfg_attr(not(test), no_std)]

pub mod entry;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
