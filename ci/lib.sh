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
export PYTHONDONTWRITEBYTECODE=1

# Preconditions every script checks before it touches linux/.
need_linux() {
	[ -d "$KSRC/.git" ] || [ -f "$KSRC/.git" ] ||
		die "$KSRC is not a git tree (empty submodule directory?): run ci/setup"
	git -C "$KSRC" rev-parse -q --verify base >/dev/null || die "no 'base' branch in $KSRC: run ci/setup"
}
need_series() {
	need_linux
	git -C "$KSRC" rev-parse -q --verify series >/dev/null || die "no 'series' branch in $KSRC: run ci/apply"
}

# The versions of the tools a build or a boot depends on, as one short id.
toolchain_id() {
	{ rustc --version; clippy-driver --version; rustfmt --version; clang --version | head -n1
	  bindgen --version; ccache --version | head -n1; } 2>&1 |
		sha256sum | cut -c1-12
}
vm_tools_id() {
	# the host's tools run in the guest, and the compiler of tests/
	{ qemu-system-x86_64 --version | head -n1; vng --version; ndctl --version; daxctl --version
	  mkfs.xfs -V; mke2fs -V; cc --version | head -n1; } 2>&1 | sha256sum | cut -c1-12
}

# verdict_key KIND COMMIT ARGS...: a key of everything a verdict depends on:
# the tree at COMMIT, the config fragment, the contents of tests/ and ci/ (the
# expectations table among them; $VERDICT_FILES instead, if set), the toolchain, qemu and vng, and ARGS.
verdict_key() {
	local kind=$1 commit=$2; shift 2
	{
		echo "$kind $*"
		git -C "$KSRC" rev-parse "$commit^{tree}"
		(cd "$TOP" && find ${VERDICT_FILES:-ci tests} -type f ! -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum)
		toolchain_id
		vm_tools_id
	} | sha256sum | cut -c1-16
}

# The number of patches in patches/ (excluding the cover letter).
series_len() { ls "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -vc '/0000-' || true; }

# checkout_tree COMMIT DIR: check COMMIT of linux/ out into DIR (a build
# slot's source tree) with a private index DIR.index, touching only the files
# that change: files whose bytes stay the same keep their mtime, so make
# rebuilds only what COMMIT really changes. Works from any previous state of
# DIR, even one linux/ no longer has; linux/'s own checkout is never touched.
checkout_tree() {
	local commit=$1 dir=$2 gd
	gd=$(git -C "$KSRC" rev-parse --absolute-git-dir)
	if [ -f "$dir.index" ]; then
		(
			export GIT_DIR="$gd" GIT_INDEX_FILE="$dir.index" GIT_WORK_TREE="$dir"
			cd "$dir"
			git read-tree --reset "$commit"
			git update-index -q --refresh >/dev/null 2>&1 || true
			git diff-files --name-only -z | xargs -0 -r git checkout-index -f -u --
			git clean -fdqx
		) || die "could not check out $commit into $dir"
	else
		rm -rf "$dir"; mkdir -p "$dir"
		GIT_DIR="$gd" GIT_INDEX_FILE="$dir.index" GIT_WORK_TREE="$dir" git read-tree "$commit" &&
			GIT_DIR="$gd" GIT_INDEX_FILE="$dir.index" GIT_WORK_TREE="$dir" git checkout-index -a -f -u ||
			die "could not check out $commit into $dir"
	fi
}

# target_commit base|series|series@N: the commit of linux/ that a build
# target names (series@N: base plus patches 1..N of the series branch).
# Returns 2 for anything else, so that the caller prints its usage.
target_commit() {
	local target=$1 len n
	case "$target" in
	base) git -C "$KSRC" rev-parse base ;;
	series|series@*)
		need_series
		len=$(git -C "$KSRC" rev-list --count base..series)
		n=${target#series}; n=${n#@}; [ -n "$n" ] || n=$len
		[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -le "$len" ] || die "$target: the series branch has $len patches"
		git -C "$KSRC" rev-parse "series~$((len - n))"
		;;
	*) return 2 ;;
	esac
}

# config_unmet FRAGMENT CONFIG [SYMBOLS]: print, one per line, each
# CONFIG_X=v of FRAGMENT that CONFIG (a .config made from it) does not have,
# with what Kconfig gave instead; "=n" means unset. With SYMBOLS (a file of
# symbol names without CONFIG_), options not listed there are not checked:
# a tree without the symbol cannot have it.
config_unmet() {
	local frag=$1 cfg=$2 syms=${3:-} line sym val
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*}; val=${line#*=}
		[ -z "$syms" ] || grep -qx "${sym#CONFIG_}" "$syms" || continue
		if [ "$val" = n ]; then
			grep -q "^$sym=" "$cfg" && echo "$line requested but Kconfig set $(grep "^$sym=" "$cfg")"
		else
			grep -qx "$line" "$cfg" || echo "$line requested but Kconfig gave: $(grep -E "^(# )?$sym[= ]" "$cfg" || echo unset)"
		fi
	done <"$frag"
	return 0
}
