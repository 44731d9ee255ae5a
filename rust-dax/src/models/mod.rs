// SPDX-License-Identifier: GPL-2.0

//! Loom models of the concurrent protocols of the pure cores, host-only.
//!
//! Each model drives the shared protocol code ([`crate::idle`], [`crate::lock`]) through its
//! trait with loom primitives standing in for the kernel's wait queues, task states and locks.
//! Loom runs every interleaving (up to a preemption bound) and fails the test on a failed
//! assertion or when all threads are blocked: a lost wake-up shows as a deadlock.

mod idle;
mod lock;
mod waitq;

mod harness;
pub(crate) use harness::{expect_failure, model};
