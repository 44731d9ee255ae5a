// SPDX-License-Identifier: GPL-2.0

//! Host-side home of the kernel-independent cores of the DAX Rust units.
//!
//! The module files under `src/` that the in-kernel units include are pure
//! `core` (no `kernel::`, no `std`); the kernel copies in the series are byte
//! identical to them. They are added as the series needs them.
#![no_std]
