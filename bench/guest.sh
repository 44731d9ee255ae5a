#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of ci/bench: run inside a vng guest as root, every workload
# once, and write what it measured to $BENCH_OUT/results:
#
#   row ROW UNIT VALUE...     the samples of one row (ROW is workload/target)
#   error ROW MESSAGE         the row could not be measured, and why
#   meta KEY VALUE            what the host prints with the table
#
# The host (ci/bench) decides nothing here is good or bad; it only takes the
# median of each row's samples. The units are ns per fault, ns per 4K page,
# ms per GiB.
#
# Environment (set by ci/bench):
#   BENCH_OUT    output directory (vng --rwdir)
#   BENCH_BIN    directory of daxbench and gup_test
#   BENCH_SIZE   file/mapping size of the fault, zap and gup workloads
#   BENCH_REPS   repetitions per workload
#   BENCH_ONLY   optional extended regex: run only the rows it matches
set -u
OUT=${BENCH_OUT:?}
BIN=${BENCH_BIN:?}
SIZE=${BENCH_SIZE:-64m}
REPS=${BENCH_REPS:-5}
ONLY=${BENCH_ONLY:-}
W=$(mktemp -d /tmp/daxbench-guest.XXXXXX) || { echo "error: mktemp failed" >&2; exit 1; }
MNT=$W/mnt
RES=$OUT/results
mkdir -p "$MNT"
: >"$RES"

meta() { echo "meta $1 $2" >>"$RES"; }
err() { echo "error $1 ${*:2}" >>"$RES"; echo "error: $1: ${*:2}" >&2; }
want() { [ -z "$ONLY" ] || [[ "$1" =~ $ONLY ]]; }

# row ROW UNIT CMD...: run CMD, which prints "sample V ..." lines; the
# row's values are the first fields after "sample".
row() {
	local name=$1 unit=$2 out rc; shift 2
	want "$name" || return 0
	out=$("$@" 2>"$W/stderr"); rc=$?
	local vals
	vals=$(awk '$1 == "sample" {printf " %s", $2}' <<<"$out")
	if [ $rc -ne 0 ] || [ -z "$vals" ]; then
		err "$name" "exit $rc: $(tr '\n' ' ' <"$W/stderr" | cut -c1-300)"
		return 0
	fi
	echo "row $name $unit$vals" >>"$RES"
}

# gup ROW CMDFLAG NR FILE: tools/testing/selftests/mm/gup_test, per 4K page
# (get + put of every page of the mapping), -r REPS in one process.
gup() {
	local name=$1 flag=$2 nr=$3 file=$4 mb out vals
	want "$name" || return 0
	mb=${SIZE%[mM]}	# ci/bench passes whole MiB ("64m")
	out=$("$BIN/gup_test" "$flag" -S -n "$nr" -m "$mb" -r "$REPS" -f "$file" 2>&1)
	# "# PIN_FAST_BENCHMARK: Time: get:1234 put:567 us"
	vals=$(awk -v pages=$((mb * 256)) '/Time: get:/ {
		split($0, a, /get:|put:| us/); printf " %.2f", (a[2] + a[3]) * 1000 / pages }' <<<"$out")
	if [ -z "$vals" ]; then
		err "$name" "gup_test printed no time (CONFIG_GUP_TEST? debugfs?): $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
		return 0
	fi
	echo "row $name ns/4K-page$vals" >>"$RES"
}

vmstat() { awk -v k="$1" '$1 == k {print $2}' /proc/vmstat; }

# ns_create MODE ALIGN: the whole region as one namespace, struct pages in RAM.
ns_create() {
	umount "$MNT" 2>/dev/null
	ndctl create-namespace -f -e namespace0.0 -m "$1" -a "$2" -M mem >"$W/ns.json" 2>"$W/ns.err" ||
		{ err "setup-$1" "ndctl create-namespace -m $1 -a $2 -M mem: $(cat "$W/ns.err")"; return 1; }
	udevadm settle 2>/dev/null
	return 0
}

# The kprobe events that time a bind's memremap_pages() and, inside it,
# memmap_init_zone_device(): entry and return of each.
T=/sys/kernel/tracing
PROBED="memremap_pages memmap_init_zone_device"
probes_on() {
	[ -e $T/kprobe_events ] || mount -t tracefs nodev $T 2>/dev/null
	[ -w $T/kprobe_events ] || { echo "no $T/kprobe_events (CONFIG_KPROBE_EVENTS?)"; return 1; }
	echo 0 >$T/tracing_on
	: >$T/kprobe_events || return 1
	local f
	for f in $PROBED; do
		echo "p:daxbench/${f}_in $f" >>$T/kprobe_events &&
		echo "r:daxbench/${f}_out $f" >>$T/kprobe_events || { echo "cannot probe $f"; return 1; }
	done
	echo 1 >$T/events/daxbench/enable && : >$T/trace && echo 1 >$T/tracing_on
}
probes_off() {
	echo 0 >$T/tracing_on
	echo 0 >$T/events/daxbench/enable 2>/dev/null
	: >$T/kprobe_events
}
# probe_durations: the trace since the last call as "FUNC NS" per completed
# call (entry to return, nested calls paired last-in first-out), then clear it.
probe_durations() {
	awk '{
		for (i = 1; i < NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) break
		if (i == NF) next
		t = substr($i, 1, length($i) - 1); ev = $(i + 1); sub(/:$/, "", ev)
		f = ev; sub(/_(in|out)$/, "", f)
		if (ev ~ /_in$/) { st[f, ++n[f]] = t }
		else if (n[f] > 0) { printf "%s %.0f\n", f, (t - st[f, n[f]--]) * 1e9 }
	}' $T/trace
	: >$T/trace
}

# memmap NAME DRIVERDIR: bind the namespace's holder device to its driver
# (which runs devm_memremap_pages() and memmap_init_zone_device()) REPS
# times, and time per GiB of namespace: the whole bind (bind-NAME),
# memremap_pages() (memremap-NAME) and memmap_init_zone_device()
# (memmap-init-NAME); then the floor: 8-byte stores of the number of
# struct-page bytes the bind added (memset-floor-NAME).
memmap() {
	local name=$1 drv=$2 holder ns_bytes before after f i d
	want "(bind|memremap|memmap-init|memset-floor)-$name" || return 0
	# the device the driver probes for this mode (pfn0.N for fsdax, dax0.N for
	# devdax; on a legacy memmap= region an fsdax namespace is bound itself,
	# with its pages mapped by pmem_attach_disk()), and the region's size,
	# which the namespace spans
	holder=$(ls -d "$drv"/pfn[0-9]* "$drv"/dax[0-9]* "$drv"/namespace0.0 2>/dev/null | head -n 1)
	holder=${holder##*/}
	ns_bytes=$(cat /sys/bus/nd/devices/region0/size 2>/dev/null)
	[ -n "$holder" ] && [ -n "$ns_bytes" ] || { err "bind-$name" "no device bound to $drv ($(ls "$drv" 2>&1 | tr "\n" " ")), or no region0 size; namespaces: $(ls /sys/bus/nd/devices | tr "\n" " ")"; return 0; }
	# struct-page bytes of this namespace: nr_memmap_pages across a bind
	echo "$holder" >"$drv/unbind"
	before=$(vmstat nr_memmap_pages)
	echo "$holder" >"$drv/bind"
	after=$(vmstat nr_memmap_pages)
	[ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ] ||
		{ err "bind-$name" "nr_memmap_pages did not grow across the bind ($before -> $after)"; return 0; }
	local mbytes=$(( (after - before) * $(getconf PAGESIZE) ))
	meta "$name-namespace-bytes" "$ns_bytes"
	meta "$name-memmap-bytes" "$mbytes"
	# ns -> ms per GiB of namespace
	f=$(awk -v b="$ns_bytes" 'BEGIN {printf "%.9g", 1e6 * b / 2^30}')
	local msg
	msg=$(probes_on) || { probes_off; err "memmap-init-$name" "$msg"; return 0; }
	local bind="" remap="" init=""
	for i in $(seq "$REPS"); do
		d=$("$BIN/daxbench" bind "$drv" "$holder" 1 2>"$W/stderr" | awk '$1 == "sample" {print $2}')
		[ -n "$d" ] || { probes_off; err "bind-$name" "$(cat "$W/stderr")"; return 0; }
		bind+=" $d"
		# one call of each per bind: more would be summed into one figure
		probe_durations >"$W/probes"
		for p in $PROBED; do
			[ "$(grep -c "^$p " "$W/probes")" = 1 ] ||
				{ probes_off; err "memmap-init-$name" "bind $i: $(grep -c "^$p " "$W/probes") completed calls of $p, not 1 (kprobes missed?)"; return 0; }
		done
		remap+=" $(awk '$1 == "memremap_pages" {print $2}' "$W/probes")"
		init+=" $(awk '$1 == "memmap_init_zone_device" {print $2}' "$W/probes")"
	done
	probes_off
	for p in "bind:$bind" "memremap:$remap" "memmap-init:$init"; do
		echo "row ${p%%:*}-$name ms/GiB$(for v in ${p#*:}; do awk -v v="$v" -v f="$f" 'BEGIN {printf " %.4f", v / f}'; done)" >>"$RES"
	done
	local vals
	vals=$("$BIN/daxbench" memset "$mbytes" "$REPS" 2>"$W/stderr" |
		awk -v f="$f" '$1 == "sample" {printf " %.4f", $2 / f}')
	[ -n "$vals" ] || { err "memset-floor-$name" "$(cat "$W/stderr")"; return 0; }
	echo "row memset-floor-$name ms/GiB$vals" >>"$RES"
}

mkfs_mount() { # fs: 2 MiB-aligned extents, so that PMD faults can happen
	umount "$MNT" 2>/dev/null
	case $1 in
	ext4) mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 /dev/pmem0 1G ;;
	xfs) mkfs.xfs -q -f -b size=4096 -m reflink=0 -d size=1g,su=2m,sw=1 /dev/pmem0 ;;
	esac >"$W/mkfs.log" 2>&1 || { err "setup-$1" "mkfs: $(cat "$W/mkfs.log")"; return 1; }
	mount -o dax=always /dev/pmem0 "$MNT" 2>"$W/mount.log" ||
		{ err "setup-$1" "mount -o dax=always: $(cat "$W/mount.log")"; return 1; }
	[ "$1" = xfs ] && xfs_io -c "extsize 2m" "$MNT" 2>/dev/null
	return 0
}

odirect_dev() { # a block device for O_DIRECT reads: a loop device on tmpfs
	[ -s $W/loopdev ] && { cat $W/loopdev; return 0; }
	truncate -s 16M $W/odirect.img && losetup -f --show $W/odirect.img >$W/loopdev 2>/dev/null &&
		cat $W/loopdev
}

mount -t debugfs none /sys/kernel/debug 2>/dev/null
meta kernel "$(uname -r)"
meta clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
meta cpus "$(nproc)"
meta size "$SIZE"
meta reps "$REPS"
[ -b /dev/pmem0 ] || [ -e /sys/bus/nd/devices/namespace0.0 ] ||
	{ err setup "no pmem namespace: is memmap=! on the command line?"; exit 0; }

# 1. memmap init: fsdax and devdax namespaces of the whole region
if ns_create fsdax 2M; then
	memmap fsdax /sys/bus/nd/drivers/nd_pmem
fi
if ns_create devdax 2M; then
	memmap devdax-2m /sys/bus/nd/drivers/dax_pmem
	# 2. device-dax workloads (every fault is a PMD at 2M alignment)
	if [ -c /dev/dax0.0 ]; then
		row fault-2m-read/devdax ns/fault "$BIN/daxbench" devfault /dev/dax0.0 "$SIZE" read "$REPS"
		row fault-2m-write/devdax ns/fault "$BIN/daxbench" devfault /dev/dax0.0 "$SIZE" write "$REPS"
		row munmap-2m/devdax ns/4K-page "$BIN/daxbench" devzap /dev/dax0.0 "$SIZE" "$REPS"
		for n in 1 512; do
			gup gup-fast-n$n/devdax -u $n /dev/dax0.0
			gup pin-fast-n$n/devdax -a $n /dev/dax0.0
		done
	else
		err setup-devdax "no /dev/dax0.0 after create-namespace"
	fi
fi

# 3. fsdax workloads on ext4 and xfs
if ns_create fsdax 2M; then
	for fs in ext4 xfs; do
		mkfs_mount $fs || continue
		f=$MNT/bench
		for m in read write; do
			row fault-4k-$m/$fs ns/fault "$BIN/daxbench" fault "$f" "$SIZE" pte $m "$REPS"
			row fault-2m-$m/$fs ns/fault "$BIN/daxbench" fault "$f" "$SIZE" pmd $m "$REPS"
		done
		for op in munmap truncate punch; do
			row $op-4k/$fs ns/4K-page "$BIN/daxbench" zap "$f" "$SIZE" pte $op "$REPS"
		done
		row munmap-2m/$fs ns/4K-page "$BIN/daxbench" zap "$f" "$SIZE" pmd munmap "$REPS"
		row evict/$fs ns/4K-page "$BIN/daxbench" evict "$MNT" "$SIZE" "$REPS"
		if want "(gup|pin)-fast-n[0-9]*/$fs"; then
			"$BIN/daxbench" mkfile "$f" "$SIZE" 2>"$W/stderr" ||
				err "gup/$fs" "$(cat "$W/stderr")"
			for n in 1 512; do
				gup gup-fast-n$n/$fs -u $n "$f"
				gup pin-fast-n$n/$fs -a $n "$f"
			done
			rm -f "$f"
		fi
		if want "odirect/$fs"; then
			dev=$(odirect_dev)
			if [ -b "$dev" ]; then
				row odirect/$fs ns/4K-page "$BIN/daxbench" odirect "$f" "$SIZE" "$dev" "$REPS"
			else
				err odirect/$fs "no loop device on tmpfs (BLK_DEV_LOOP?)"
			fi
		fi
		umount "$MNT"
	done
fi
echo "end" >>"$RES"
rm -rf "$W"
