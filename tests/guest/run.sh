#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# VM test suite, run inside the vng guest as root. Prints KTAP on stdout.
#
# Environment (set by ci/vm-test):
#   DAXGUP_BIN    directory of the test programs (tests/Makefile output)
#   DAXGUP_KMOD   path of daxgup_refprobe.ko built for this kernel
#   DAXGUP_LEVEL  "base", or N: the series with patches 1..N applied
#   DAXGUP_KUNIT  space-separated KUnit suites that must have run at boot
#
# Every test's kernel messages are scanned: a WARNING/BUG/lockdep splat while
# a test runs fails that test. A scenario declares the patch that fixes it;
# where the running kernel lacks that patch, its failure is expected and is
# reported as "# XFAIL", a pass there as an unexpected pass (a failure).
set -u
BIN=${DAXGUP_BIN:?}
LEVEL=${DAXGUP_LEVEL:?}
W=/tmp/daxgup
MNT=$W/mnt
KMSG=$W/kmsg.log
# Lockdep, RCU and most debug reports start with WARNING: or BUG:.
SPLAT='WARNING:|BUG:|kernel BUG|Oops|general protection fault|blocked for more than|UBSAN:|Kernel panic|refcount_t:|INFO: task'
TEST_TIMEOUT=${DAXGUP_TEST_TIMEOUT:-120}
mkdir -p "$MNT"
# Report tasks blocked for 30 s (the scenarios hold pins for 1.5 s).
echo 30 >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
cat /dev/kmsg >"$KMSG" 2>/dev/null &
KMSG_PID=$!
sleep 0.2

N=0
RESULTS=()
emit() { RESULTS+=("$1"); }

# Kernel messages logged since line $1 of the kmsg log, message text only.
kmsg_since() { tail -n +"$(($1 + 1))" "$KMSG" | sed 's/^[^;]*;//'; }
kmsg_lines() { sleep 0.1; wc -l <"$KMSG"; }

# expect_fail FIX: does the kernel under test lack patch FIX?
expect_fail() {
	local fix=$1
	[ "$fix" -gt 0 ] || return 1
	[ "$LEVEL" = base ] && return 0
	[ "$LEVEL" -lt "$fix" ]
}

# t NAME FIX CMD...: run one test. FIX 0 = must pass on every kernel.
t() {
	local name=$1 fix=$2; shift 2
	local before out rc splat
	N=$((N + 1))
	before=$(kmsg_lines)
	# A test that blocks forever (a task in D state cannot be killed) must
	# not stop the suite: wait for it up to TEST_TIMEOUT, then give up on it.
	"$@" >"$W/out" 2>&1 &
	local pid=$! waited=0
	while kill -0 $pid 2>/dev/null && [ $waited -lt $((TEST_TIMEOUT * 10)) ]; do
		sleep 0.1; waited=$((waited + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		kill -KILL $pid 2>/dev/null
		echo "# timed out after ${TEST_TIMEOUT}s; blocked tasks:"
		echo w >/proc/sysrq-trigger 2>/dev/null
		sleep 1
		rc=1
	else
		wait $pid; rc=$?
	fi
	out=$(cat "$W/out")
	splat=$(kmsg_since "$before" | grep -E "$SPLAT" | head -n 5)
	[ $rc = 1 ] && [ -n "$(kmsg_since "$before" | grep -E 'sysrq: Show Blocked' )" ] &&
		kmsg_since "$before" | grep -A40 'sysrq: Show Blocked' | sed 's/^/# kernel: /' | head -n 60
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^\([^#]\)/# \1/'
	if [ -n "$splat" ]; then
		printf '%s\n' "$splat" | sed 's/^/# kernel: /'
		[ $rc = 0 ] && rc=1
	fi
	[ "$fix" -gt 0 ] && echo "# fixed-by: patch $fix"
	if [ $rc = 2 ]; then
		echo "not ok $N $name # setup failed (see above)"
		emit fail
	elif expect_fail "$fix"; then
		if [ $rc = 0 ]; then
			echo "not ok $N $name # unexpected pass: expected to fail before patch $fix"
			emit fail
		else
			echo "not ok $N $name # XFAIL fixed by patch $fix"
			emit xfail
		fi
	elif [ $rc = 0 ]; then
		echo "ok $N $name"
		emit pass
	else
		echo "not ok $N $name"
		emit fail
	fi
}

need() { # check a guest precondition; print what is missing
	local what=$1; shift
	"$@" >/dev/null 2>&1 && return 0
	echo "# setup: $what"; return 2
}

boot_log_clean() {
	local s
	s=$(sed 's/^[^;]*;//' "$KMSG" | grep -E "$SPLAT" | head -n 5)
	[ -z "$s" ] && return 0
	printf '%s\n' "$s" | sed 's/^/# boot: /'; return 1
}

guest_ready() {
	need "no /dev/pmem0: is memmap=!  on the command line and X86_PMEM_LEGACY/BLK_DEV_PMEM on?" test -b /dev/pmem0 || return 2
	for c in ndctl daxctl mkfs.ext4 mkfs.xfs losetup insmod; do
		need "$c not found in the guest (run ci/setup on the host)" command -v $c || return 2
	done
	need "test programs missing in $BIN" test -x "$BIN/scenarios" -a -x "$BIN/smoke" || return 2
	need "cannot load ${DAXGUP_KMOD:-daxgup_refprobe.ko}" insmod "${DAXGUP_KMOD:-/nonexistent}" || return 2
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	need "debugfs file of daxgup_refprobe missing" test -e /sys/kernel/debug/daxgup_refprobe/pfn || return 2
}

# KUnit suites run at boot: each top-level KTAP result is one test here.
kunit_results() {
	local line suite
	sed -n 's/^[^;]*;//p' "$KMSG" | grep -E '^(not )?ok [0-9]+ ' | while read -r line; do
		suite=${line#* ok }; suite=${line#ok }; suite=${suite#not ok }
		suite=$(echo "$suite" | awk '{print $2}')
		case "$line" in ok*) echo "pass $suite" ;; *) echo "fail $suite" ;; esac
	done
}

mkfs_mount() { # fs
	umount "$MNT" 2>/dev/null
	case $1 in
	ext4) mkfs.ext4 -q -F -b 4096 /dev/pmem0 128M || return 2 ;;
	xfs) mkfs.xfs -q -f -b size=4096 -m reflink=1,rmapbt=1 -d size=320m /dev/pmem0 || return 2 ;;
	esac
	mount -o dax=always /dev/pmem0 "$MNT" || { echo "# setup: mount -o dax=always of $1 failed"; return 2; }
	grep -q " $MNT .*dax" /proc/mounts || { echo "# setup: $1 mounted without dax"; return 2; }
}

# An O_DIRECT-capable block device for T-pin-stats: a loop device on tmpfs.
loopdev=$(truncate -s 16M $W/odirect.img && losetup -f --show $W/odirect.img 2>/dev/null)
odirect_dev() {
	[ -b "$loopdev" ] || { echo "# setup: losetup of a loop device failed (BLK_DEV_LOOP?)"; return 2; }
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

echo "KTAP version 1"
t boot-log-clean 0 boot_log_clean
t guest-ready 0 guest_ready
t loop-device 0 odirect_dev
export DAXGUP_ODIRECT_DEV=$loopdev
S=$BIN/scenarios
for fs in ext4 xfs; do
	t "$fs-mkfs-mount-dax" 0 mkfs_mount $fs
	t "$fs-smoke-mmap" 0 "$BIN/smoke" file "$MNT/smoke" $((8 << 20))
	t "$fs-T-pin" 0 "$S" pin "$MNT"
	t "$fs-T-trunc" 0 "$S" trunc "$MNT"
	t "$fs-T-trunc-eintr" 0 "$S" trunc-intr "$MNT"
	t "$fs-T-unmapped" 3 "$S" unmapped "$MNT"
	t "$fs-T-final" 5 "$S" final "$MNT"
	t "$fs-T-ref" 23 "$S" ref "$MNT"
	t "$fs-T-pin-stats" 0 "$S" pin-stats "$MNT"
	umount "$MNT"
done
t devdax-4K-create 0 ns_mode devdax 4K
t devdax-4K-smoke-mmap 0 "$BIN/smoke" dev /dev/dax0.0 $((4 << 20))
t devdax-2M-create 0 ns_mode devdax 2M
t devdax-2M-smoke-mmap 0 "$BIN/smoke" dev /dev/dax0.0 $((8 << 20))
t devdax-T-dev 21 "$S" dev /dev/dax0.0 dax0.0
t fsdax-restore 0 ns_mode fsdax
t fsdax-ext4-smoke-mmap 0 sh -c "mkfs.ext4 -q -F -b 4096 /dev/pmem0 128M && mount -o dax=always /dev/pmem0 $MNT && $BIN/smoke file $MNT/smoke $((4 << 20)); rc=\$?; umount $MNT; exit \$rc"
[ -n "$loopdev" ] && losetup -d "$loopdev"

# KUnit: the suites the kernel must have run at boot, and how they ended.
kres=$(kunit_results)
for s in ${DAXGUP_KUNIT:-}; do
	N=$((N + 1))
	r=$(echo "$kres" | awk -v s="$s" '$2 == s {print $1; exit}')
	case $r in
	pass) echo "ok $N kunit-$s"; emit pass ;;
	fail) echo "not ok $N kunit-$s"; emit fail ;;
	*) echo "not ok $N kunit-$s # suite did not run at boot"; emit fail ;;
	esac
done
sed -n 's/^[^;]*;//p' "$KMSG" | grep -E '^ *(KTAP|# Subtest|(not )?ok [0-9]|1\.\.|# )' |
	sed -n '/# Subtest/,$p' | sed 's/^/# kunit: /' | head -n 200
echo "1..$N"
kill $KMSG_PID 2>/dev/null
pass=0 fail=0 xfail=0
for r in "${RESULTS[@]}"; do eval "$r=\$(($r + 1))"; done
echo "# guest totals: $pass passed, $fail failed, $xfail xfail"
