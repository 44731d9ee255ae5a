// SPDX-License-Identifier: GPL-2.0

//! Host-side home of the kernel-independent cores of the memremap Rust units
//! (pfn-range and section alignment math, compound-page counts, the
//! request/release refcount state model), added as the memremap patches land.
#![no_std]
