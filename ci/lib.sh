# SPDX-License-Identifier: GPL-2.0
# Shared settings for the ci/ scripts. Sourced, not executed.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything downloaded or built lives outside the repo, keyed by content,
# so that a fresh clone (CI) reuses it.
CACHE=${DAXGUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/daxgup}
KVER=6.12.117
LINUX_SRC_DEB_VER=6.12.117-1
RUSTC_VER=$(rustc --version 2>/dev/null | awk '{print $2}')
RUST_SRC_DEB_VER=${RUSTC_VER}+dfsg1-2~bpo13+1
BINDGEN_VER=0.73.2
B4_VER=0.16.0
VNG_VER=1.42
# The linux/ tree: the submodule slot, or a tree given by the user.
KSRC=${KERNEL_SRC:-$TOP/linux}
# Deterministic identity of the materialized base commit (D1).
BASE_IDENT_NAME="Linux stable (materialized from Debian linux-source-6.12)"
BASE_IDENT_EMAIL="stable@vger.kernel.org"
BASE_DATE="2025-11-01T00:00:00+00:00"
BASE_MSG="Linux $KVER"
# Series identity: the project's own git identity, never a real person.
SERIES_NAME=${SERIES_NAME:-"DAX-gup Rust port"}
SERIES_EMAIL=${SERIES_EMAIL:-"daxgup-rust@users.noreply.invalid"}
export PATH="$HOME/.cargo/bin:$CACHE/bin:$PATH:$CACHE/venv/bin"
export RUST_LIB_SRC="$CACHE/rust-src/$RUST_SRC_DEB_VER/usr/src/rustc-$RUSTC_VER/library"

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# The number of patches in patches/ (excluding the cover letter).
series_len() { ls "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -vc '/0000-' || true; }
