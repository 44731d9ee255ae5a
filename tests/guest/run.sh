#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test suite runner, run inside the vng guest as root. It runs the tests
# and records, per test, what the host-side judge (ci/judge) needs; it does
# not decide what passed. Everything goes to $DAXGUP_OUT, a host directory
# the guest writes through (vng --rwdir), so a guest that dies leaves what it
# did behind:
#
#   plan              the tests this boot runs, in order: "N name"
#   kmsg.log          every kernel log record since boot (tests/src/kmsg-reader.c),
#                     with the markers "daxgup-harness: begin|end N name" around
#                     each test and "daxgup-harness: suite end" after the last
#   t/N.out           the test's stdout+stderr
#   t/N.rec           key=value: name, rc, seconds, timeout, warn/oops counts
#                     before and after, whether both markers were seen
#   final             key=value: counters, debug_locks, reader alive, at the end
#
# Environment (set by ci/vm-test):
#   DAXGUP_OUT     the output directory (above)
#   DAXGUP_BIN     directory of the test programs (tests/Makefile output)
#   DAXGUP_KMOD    path of daxgup_refprobe.ko built for this kernel
#   DAXGUP_EXPECT  tests/expectations (which scenarios need a boot of their own)
#   DAXGUP_PART    "main", or "own:NAME": a boot for that one scenario
#   DAXGUP_ONLY    optional extended regex: run only the tests it matches
#   DAXGUP_PLANT   optional planted faults for the harness's self-test, comma
#                  separated: warn-in:TEST warn-between:TEST warn-after-last
#                  crash:TEST timeout:TEST kill-reader:TEST lockdep-off
#   DAXGUP_TEST_TIMEOUT  seconds a test may take (default 120)
set -u
OUT=${DAXGUP_OUT:?}
BIN=${DAXGUP_BIN:?}
EXPECT=${DAXGUP_EXPECT:?}
PART=${DAXGUP_PART:-main}
ONLY=${DAXGUP_ONLY:-}
PLANT=",${DAXGUP_PLANT:-},"
TEST_TIMEOUT=${DAXGUP_TEST_TIMEOUT:-120}
W=/tmp/daxgup
MNT=$W/mnt
KMSG=$OUT/kmsg.log

planted() { case $PLANT in *",$1,"*) return 0 ;; esac; return 1; }
counter() { cat "/sys/kernel/$1" 2>/dev/null || echo -1; }
trigger() { echo "$1" >/sys/kernel/debug/daxgup_refprobe/trigger; }

# mark TEXT: write a marker to the kernel log and wait until the reader has
# copied it (so everything logged before it is in kmsg.log). 0 if seen.
mark() {
	local i
	echo "daxgup-harness: $1" >/dev/kmsg
	for i in $(seq 100); do
		grep -qF ";daxgup-harness: $1" "$KMSG" && return 0
		sleep 0.1
	done
	return 1
}

# Which boot runs NAME: "own" if tests/expectations says so. Read once: a
# process per test costs seconds under TCG.
declare -A BOOT_OF
while IFS='|' read -r name _ boot _; do
	name=${name//[[:space:]]/} boot=${boot//[[:space:]]/}
	case $name in ''|'#'*) continue ;; esac
	BOOT_OF[$name]=$boot
done <"$EXPECT"
selected() {
	local own
	[ -z "$ONLY" ] || [[ "$1" =~ $ONLY ]] || return 1
	own=${BOOT_OF[$1]:-}
	case $PART in
	main) [ "$own" != own ] ;;
	own:*) [ "$1" = "${PART#own:}" ] ;;
	esac
}

N=0
MODE=plan
# t NAME CMD...: one test.
t() {
	local name=$1; shift
	selected "$name" || return 0
	N=$((N + 1))
	if [ $MODE = plan ]; then echo "$N $name"; return 0; fi
	local rec=$OUT/t/$N.rec w0 o0 m1=0 m2=0 rc t0 pid waited=0 to=0
	w0=$(counter warn_count) o0=$(counter oops_count)
	mark "begin $N $name" && m1=1
	planted "warn-in:$name" && trigger warn
	t0=$EPOCHREALTIME
	# A test that blocks forever (a task in D state cannot be killed) must
	# not stop the suite: wait for it up to TEST_TIMEOUT, then give up on it.
	if planted "crash:$name"; then
		# the test runs, then its process dies of SIGSEGV
		bash -c '"$@"; kill -SEGV $$' run "$@" >"$OUT/t/$N.out" 2>&1 &
	elif planted "timeout:$name"; then
		bash -c '"$@"; sleep 100000' run "$@" >"$OUT/t/$N.out" 2>&1 &
	else
		"$@" >"$OUT/t/$N.out" 2>&1 &
	fi
	pid=$!
	while kill -0 $pid 2>/dev/null && [ $waited -lt $((TEST_TIMEOUT * 10)) ]; do
		sleep 0.1; waited=$((waited + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		to=1
		pkill -KILL -P $pid 2>/dev/null
		kill -KILL $pid 2>/dev/null
		echo "# timed out after ${TEST_TIMEOUT}s; blocked tasks follow in the kernel log" >>"$OUT/t/$N.out"
		echo w >/proc/sysrq-trigger 2>/dev/null
		sleep 1
		rc=-1
	else
		wait $pid; rc=$?
	fi
	mark "end $N $name" && m2=1
	printf 'name=%s\nrc=%s\ntimeout=%s\nstart=%s\nend=%s\nwarn_before=%s\nwarn_after=%s\noops_before=%s\noops_after=%s\nmark_begin=%s\nmark_end=%s\n' \
		"$name" "$rc" "$to" "$t0" "$EPOCHREALTIME" "$w0" "$(counter warn_count)" \
		"$o0" "$(counter oops_count)" "$m1" "$m2" >"$rec"
	planted "warn-between:$name" && trigger warn
	planted "kill-reader:$name" && kill "$READER"
	return 0
}

need() { # check a guest precondition; print what is missing
	local what=$1; shift
	"$@" >/dev/null 2>&1 && return 0
	echo "# setup: $what"; return 2
}

guest_ready() {
	need "no /dev/pmem0: is memmap=!  on the command line and X86_PMEM_LEGACY/BLK_DEV_PMEM on?" test -b /dev/pmem0 || return 2
	for c in ndctl daxctl mkfs.ext2 mkfs.ext4 mkfs.xfs losetup insmod pkill; do
		need "$c not found in the guest (run ci/setup on the host)" command -v $c || return 2
	done
	need "test programs missing in $BIN" test -x "$BIN/scenarios" -a -x "$BIN/smoke" || return 2
	need "/sys/kernel/warn_count or oops_count missing" test -r /sys/kernel/warn_count -a -r /sys/kernel/oops_count || return 2
	need "no /proc/lockdep_stats (PROVE_LOCKING off?)" test -r /proc/lockdep_stats || return 2
}

mkfs_mount() { # fs [pmd: allocate 2 MiB-aligned extents, for PMD faults]
	umount "$MNT" 2>/dev/null
	local ext4_pmd= xfs_pmd=
	[ "${2:-}" = pmd ] && ext4_pmd="-E stride=512,stripe_width=512" xfs_pmd=",su=2m,sw=1,agcount=2 -l size=64m"
	case $1 in
	ext2) mkfs.ext2 -q -F -b 4096 /dev/pmem0 128M || return 2 ;;
	ext4) mkfs.ext4 -q -F -b 4096 $ext4_pmd /dev/pmem0 128M || return 2 ;;
	xfs) mkfs.xfs -q -f -b size=4096 -m reflink=1,rmapbt=1 -d size=320m$xfs_pmd /dev/pmem0 || return 2 ;;
	esac
	# ext2 knows only "-o dax"
	local opt=dax=always
	[ "$1" = ext2 ] && opt=dax
	mount -o $opt /dev/pmem0 "$MNT" || { echo "# setup: mount -o $opt of $1 failed"; return 2; }
	grep -q " $MNT .*dax" /proc/mounts || { echo "# setup: $1 mounted without dax"; return 2; }
}

# An O_DIRECT-capable block device for T-pin-stats: a loop device on tmpfs.
loop_device() {
	local dev
	truncate -s 16M $W/odirect.img || return 2
	dev=$(losetup -f --show $W/odirect.img 2>/dev/null)
	[ -b "$dev" ] || { echo "# setup: losetup of a loop device failed (BLK_DEV_LOOP?)"; return 2; }
	echo "$dev" >$W/loopdev
}
with_odirect() {
	[ -s $W/loopdev ] || { echo "# setup: no loop device (test loop-device failed)"; return 2; }
	DAXGUP_ODIRECT_DEV=$(cat $W/loopdev) "$@"
}

ns_mode() { # mode [align]
	umount "$MNT" 2>/dev/null
	ndctl create-namespace -f -e namespace0.0 -m "$1" ${2:+-a $2} >/dev/null ||
		{ echo "# setup: ndctl create-namespace -m $1 ${2:+-a $2} failed"; return 2; }
	case $1 in
	devdax) need "no /dev/dax0.0 after create-namespace" test -c /dev/dax0.0 ;;
	fsdax) udevadm settle 2>/dev/null; need "no /dev/pmem0 after create-namespace" test -b /dev/pmem0 ;;
	esac
}

# T-hwp poisons a page for good: it runs in a boot of its own, on a
# filesystem it makes itself.
t_hwp() { # fs scenario
	ns_mode fsdax 2M || return 2
	mkfs_mount "$1" pmd || return 2
	"$BIN/scenarios" "$2" "$MNT"; local rc=$?
	umount "$MNT" 2>/dev/null
	return $rc
}

# T-dev sets its device up itself: it may run in a boot of its own.
t_dev() {
	ns_mode devdax 2M || return 2
	"$BIN/scenarios" dev /dev/dax0.0 dax0.0
}

fsdax_smoke() {
	mkfs.ext4 -q -F -b 4096 /dev/pmem0 128M || return 2
	mount -o dax=always /dev/pmem0 "$MNT" || return 2
	"$BIN/smoke" file "$MNT/smoke" $((4 << 20)); local rc=$?
	umount "$MNT"
	return $rc
}

suite() {
	local S=$BIN/scenarios fs
	t guest-ready guest_ready
	t load-refprobe insmod "${DAXGUP_KMOD:-/nonexistent}"
	t loop-device loop_device
	for fs in ext4 xfs ext2; do
		t "$fs-mkfs-mount-dax" mkfs_mount $fs
		t "$fs-smoke-mmap" "$BIN/smoke" file "$MNT/smoke" $((8 << 20))
		t "$fs-T-fault-trunc" "$S" fault-trunc "$MNT"
		t "$fs-T-pin" "$S" pin "$MNT"
		t "$fs-T-trunc" "$S" trunc "$MNT"
		t "$fs-T-trunc-eintr" "$S" trunc-intr "$MNT"
		t "$fs-T-unmapped" "$S" unmapped "$MNT"
		t "$fs-T-trunc-locked" "$S" trunc-locked "$MNT"
		t "$fs-T-warn-unzapped" "$S" warn-unzapped "$MNT"
		if [ $fs != ext2 ]; then
			t "$fs-T-warn-busy" "$S" warn-busy "$MNT"
			t "$fs-T-warn-refault" "$S" warn-refault "$MNT"
			t "$fs-T-ref-entry" "$S" ref-entry "$MNT"
			t "$fs-T-trunc-refault" "$S" trunc-refault "$MNT"
			t "$fs-T-sync" "$S" sync "$MNT"
		fi
		case $fs in
		ext4) t "$fs-T-swap-boot" "$S" swap-boot "$MNT" ;;
		xfs) t "$fs-T-swapext" "$S" swapext "$MNT"
		     t "$fs-T-ref-reflink" "$S" ref-reflink "$MNT"
		     t "$fs-T-sync-reflink" "$S" sync-reflink "$MNT"
		     t "$fs-T-reflink-refault" "$S" reflink-refault "$MNT" ;;
		esac
		t "$fs-T-fault-storm" "$S" fault-storm "$MNT" namespace0.0
		t "$fs-T-insert-fail" "$S" insert-fail "$MNT"
		t "$fs-T-final" "$S" final "$MNT"
		t "$fs-T-ref" "$S" ref "$MNT"
		t "$fs-T-pin-stats" with_odirect "$S" pin-stats "$MNT"
		t "$fs-umount" umount "$MNT"
	done
	t devdax-4K-create ns_mode devdax 4K
	t devdax-4K-smoke-mmap "$BIN/smoke" dev /dev/dax0.0 $((4 << 20))
	t devdax-2M-create ns_mode devdax 2M
	t devdax-2M-smoke-mmap "$BIN/smoke" dev /dev/dax0.0 $((8 << 20))
	t devdax-T-dev t_dev
	for fs in ext4 xfs; do
		t "$fs-T-hwp" t_hwp $fs hwp
		t "$fs-T-hwp-5000" t_hwp $fs hwp-5000
	done
	t fsdax-restore ns_mode fsdax
	t fsdax-ext4-smoke-mmap fsdax_smoke
}

# DAXGUP_PLAN_ONLY=1 (on the host, by ci/vm-test): print the plan, run nothing.
if [ -n "${DAXGUP_PLAN_ONLY:-}" ]; then
	suite
	exit 0
fi
mkdir -p "$MNT" "$OUT/t"
rm -f "$OUT"/t/* "$OUT/plan" "$OUT/final" "$KMSG"
# Report tasks blocked for 30 s (the scenarios hold pins for at most 10 s).
echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
"$BIN/kmsg-reader" >"$KMSG" 2>"$OUT/kmsg-reader.err" &
READER=$!
# The refprobe module provides the planted-fault trigger: a boot of its own
# (own:NAME) loads it too, before its test, outside any test window.
[ "$PART" = main ] || insmod "${DAXGUP_KMOD:-/nonexistent}" 2>/dev/null
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mark "suite begin $PART" || echo "# kmsg reader: the first marker never reached $KMSG" >&2
suite >"$OUT/plan"
MODE=run N=0
suite
planted warn-after-last && trigger warn
planted lockdep-off && trigger lockdep-off
[ -s $W/loopdev ] && losetup -d "$(cat $W/loopdev)"
m=0; mark "suite end" && m=1
alive=0; kill -0 "$READER" 2>/dev/null && alive=1
printf 'warn_count=%s\noops_count=%s\ndebug_locks=%s\nreader_alive=%s\nmark_end=%s\n' \
	"$(counter warn_count)" "$(counter oops_count)" \
	"$(awk '$1 == "debug_locks:" {print $2}' /proc/lockdep_stats 2>/dev/null)" "$alive" "$m" >"$OUT/final"
kill "$READER" 2>/dev/null
sync
echo "daxgup guest: $N tests run in part $PART"
