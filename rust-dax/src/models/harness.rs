// SPDX-License-Identifier: GPL-2.0

//! How the loom models of `rust-dax` and `rust-memremap` are run, host-only: the preemption
//! bound, and planted-bug models run in a child process. `rust-memremap` includes this file by
//! path.

use std::process::Command;

/// At most this many preemptions per run, unless `DAXGUP_LOOM_PREEMPTIONS` says otherwise:
/// enough for every bug planted here, small enough for the models to finish in seconds. (At 6
/// they take minutes and pass as well.)
const PREEMPTION_BOUND: usize = 3;

fn preemption_bound() -> usize {
    match std::env::var("DAXGUP_LOOM_PREEMPTIONS") {
        Ok(v) => v
            .parse()
            .expect("DAXGUP_LOOM_PREEMPTIONS must be a number of preemptions"),
        Err(_) => PREEMPTION_BOUND,
    }
}

/// Checks `f` under loom; panics if any interleaving fails.
pub(crate) fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(preemption_bound());
    b.check(f);
}

/// Runs the test `name` of this test binary, which checks a model with a planted bug, in a child
/// process, and returns its output; panics unless the child failed and its output contains
/// `expected`.
///
/// A child process, because a failing loom model cannot always be unwound: loom objects dropped
/// during the unwind of a deadlocked execution panic again, which aborts.
pub(crate) fn expect_failure(name: &str, expected: &str) -> String {
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new(exe)
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("running the test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("running 1 test"),
        "the child did not run {name}:\n{text}"
    );
    assert!(
        !out.status.success(),
        "the model did not catch the planted bug of {name}:\n{text}"
    );
    assert!(
        text.contains(expected),
        "{name} failed, but not with \"{expected}\":\n{text}"
    );
    text
}
