// SPDX-License-Identifier: GPL-2.0
/*
 * daxbench - the guest side of ci/bench: one workload per call, timed with
 * CLOCK_MONOTONIC inside the guest. Under QEMU "-icount shift=0,sleep=off"
 * the guest clock advances one nanosecond per executed instruction, so the
 * same numbers are then instruction counts; without -icount they are TCG
 * wall-clock time.
 *
 * Every workload repeats REPS times and prints one line per repetition
 *
 *   sample <ns per unit> <units> <total ns>
 *
 * and the host takes the median. A precondition the guest cannot meet
 * (no DAX, no PMD faults where PMD faults were asked for) is an error
 * ("error: ..." on stderr, exit 2), never a number.
 *
 *   daxbench fault    FILE SIZE pte|pmd read|write REPS   per first-touch fault
 *   daxbench zap      FILE SIZE pte|pmd munmap|truncate|punch REPS  per 4K page
 *   daxbench evict    DIR SIZE REPS                       per 4K page
 *   daxbench odirect  FILE SIZE BLKDEV REPS               per 4K page
 *   daxbench devfault DEV SIZE read|write REPS            per fault (device-dax)
 *   daxbench devzap   DEV SIZE REPS                       per 4K page (device-dax munmap)
 *   daxbench bind     DRIVERDIR DEVICE REPS               per bind (ns)
 *   daxbench memset   BYTES REPS                          per call (ns): 8-byte stores
 *   daxbench mkfile   FILE SIZE                           (a written DAX file, untimed)
 *
 * SIZE is in bytes (suffix k, m, g accepted).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096UL
#define PMD	(2UL << 20)

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || !v)
		fail("bad size '%s'", s);
	return v;
}

static int parse_reps(const char *s)
{
	int r = atoi(s);

	if (r < 1)
		fail("bad repetition count '%s'", s);
	return r;
}

static void sample(double per_unit, unsigned long units, long long total)
{
	printf("sample %.1f %lu %lld\n", per_unit, units, total);
	fflush(stdout);
}

static void need_dax(int fd, const char *what)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) ||
	    !(stx.stx_attributes & STATX_ATTR_DAX))
		fail("%s is not accessed through DAX (mount -o dax=always?)", what);
}

/*
 * A shared mapping of @len bytes at file offset 0. For "pmd" the address is
 * 2 MiB aligned, so faults can map PMDs; for "pte" it is 2 MiB aligned plus
 * 4 KiB, so no PMD can ever map it and every fault is a 4K fault.
 */
static char *map_at(int fd, size_t len, int pmd, int prot)
{
	char *r = mmap(NULL, len + 2 * PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (r == MAP_FAILED)
		fail("mmap reserve: %s", strerror(errno));
	a = (char *)(((uintptr_t)r + PMD - 1) & ~(PMD - 1));
	if (!pmd)
		a += PAGE;
	if (mmap(a, len, prot, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	if (a > r)
		munmap(r, a - r);
	munmap(a + len, r + len + 2 * PMD - (a + len));
	return a;
}

/* Touch one byte per 4K page; returns the number of faults it took. */
static long touch(char *a, size_t len, int write)
{
	volatile char *p = a;
	long f0 = minflt();
	size_t off;
	char sum = 0;

	for (off = 0; off < len; off += PAGE) {
		if (write)
			p[off] = (char)off;
		else
			sum += p[off];
	}
	(void)sum;
	return minflt() - f0;
}

/*
 * The faults a fully touched mapping must have taken, or fail: one per 4K
 * page, or one per 2 MiB (a few more for what else the loop touches). A PMD
 * fault that falls back would take 512 times as many.
 */
static void check_faults(long faults, size_t len, int pmd)
{
	long want = pmd ? len / PMD : len / PAGE;

	if (faults < want || faults > want + 4)
		fail("%ld faults for %zu bytes, %s faults would be %ld: %s", faults, len,
		     pmd ? "PMD" : "PTE", want,
		     pmd ? "the file's blocks are not 2 MiB aligned or PMD faults fall back" :
			   "pages were mapped before the first touch");
}

/* Create @path as @len bytes of written (not unwritten, not hole) blocks. */
static int make_file(const char *path, size_t len)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	size_t off;

	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	need_dax(fd, path);
	/* one allocation request, so the filesystem can align the extent */
	if (fallocate(fd, 0, 0, len))
		fail("fallocate %s: %s", path, strerror(errno));
	memset(buf, 0x5a, sizeof(buf));
	for (off = 0; off < len; off += sizeof(buf))
		if (pwrite(fd, buf, sizeof(buf) < len - off ? sizeof(buf) : len - off, off) < 0)
			fail("write %s: %s", path, strerror(errno));
	if (fsync(fd))
		fail("fsync %s: %s", path, strerror(errno));
	return fd;
}

/*
 * First-touch faults: every repetition maps a new file (written, so every
 * block is allocated), so each fault also creates and associates the DAX
 * entry; a file mapped before would keep its entries across munmap().
 */
static int cmd_fault(char **av)
{
	size_t len = parse_size(av[1]);
	int pmd = !strcmp(av[2], "pmd"), write = !strcmp(av[3], "write");
	int reps = parse_reps(av[4]), i;

	for (i = 0; i < reps; i++) {
		int fd = make_file(av[0], len);
		char *a = map_at(fd, len, pmd, PROT_READ | PROT_WRITE);
		long long t0 = now_ns(), t1;
		long faults = touch(a, len, write);

		t1 = now_ns();
		check_faults(faults, len, pmd);
		sample((double)(t1 - t0) / faults, faults, t1 - t0);
		munmap(a, len);
		close(fd);
		if (unlink(av[0]))
			fail("unlink %s: %s", av[0], strerror(errno));
	}
	return 0;
}

static int cmd_zap(char **av)
{
	size_t len = parse_size(av[1]);
	int pmd = !strcmp(av[2], "pmd"), reps = parse_reps(av[4]), i;
	const char *op = av[3];
	int fd = make_file(av[0], len);

	if (strcmp(op, "munmap") && strcmp(op, "truncate") && strcmp(op, "punch"))
		fail("unknown zap operation '%s'", op);
	for (i = 0; i < reps; i++) {
		char *a = map_at(fd, len, pmd, PROT_READ | PROT_WRITE);
		long long t0, t1;
		int r = 0;

		check_faults(touch(a, len, 1), len, pmd);
		t0 = now_ns();
		if (!strcmp(op, "munmap"))
			r = munmap(a, len);
		else if (!strcmp(op, "truncate"))
			r = ftruncate(fd, 0);
		else
			r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, len);
		t1 = now_ns();
		if (r)
			fail("%s: %s", op, strerror(errno));
		sample((double)(t1 - t0) / (len / PAGE), len / PAGE, t1 - t0);
		if (strcmp(op, "munmap")) {
			munmap(a, len);
			close(fd);
			fd = make_file(av[0], len);
		}
	}
	close(fd);
	unlink(av[0]);
	return 0;
}

static int cmd_evict(char **av)
{
	size_t len = parse_size(av[1]);
	int reps = parse_reps(av[2]), i;
	char path[4096];

	snprintf(path, sizeof(path), "%s/evict", av[0]);
	for (i = 0; i < reps; i++) {
		int fd = make_file(path, len);
		char *a = map_at(fd, len, 0, PROT_READ | PROT_WRITE);
		long long t0, t1;

		check_faults(touch(a, len, 1), len, 0);
		munmap(a, len);
		/* The last reference goes at close(): eviction runs before it returns. */
		t0 = now_ns();
		if (unlink(path) || close(fd))
			fail("unlink/close %s: %s", path, strerror(errno));
		t1 = now_ns();
		sample((double)(t1 - t0) / (len / PAGE), len / PAGE, t1 - t0);
	}
	return 0;
}

/* O_DIRECT reads from a block device into a DAX mapping: gup's slow path. */
static int cmd_odirect(char **av)
{
	size_t len = parse_size(av[1]), chunk = 1UL << 20, off;
	int reps = parse_reps(av[3]), i;
	int fd = make_file(av[0], len);
	int bd = open(av[2], O_RDONLY | O_DIRECT);
	char *a;

	if (bd < 0)
		fail("open %s O_DIRECT: %s", av[2], strerror(errno));
	if (len % chunk)
		fail("size must be a multiple of 1 MiB");
	a = map_at(fd, len, 0, PROT_READ | PROT_WRITE);
	check_faults(touch(a, len, 1), len, 0);
	for (i = 0; i < reps; i++) {
		long long t0 = now_ns(), t1;

		for (off = 0; off < len; off += chunk) {
			ssize_t n = pread(bd, a + off, chunk, 0);

			if (n != (ssize_t)chunk)
				fail("O_DIRECT read into the DAX mapping: %s",
				     n < 0 ? strerror(errno) : "short read");
		}
		t1 = now_ns();
		sample((double)(t1 - t0) / (len / PAGE), len / PAGE, t1 - t0);
	}
	munmap(a, len);
	close(bd);
	close(fd);
	unlink(av[0]);
	return 0;
}

static int open_dev(const char *dev)
{
	int fd = open(dev, O_RDWR);

	if (fd < 0)
		fail("open %s: %s", dev, strerror(errno));
	return fd;
}

/* device-dax: the namespace's alignment (2M here) makes every fault a PMD. */
static int cmd_devfault(char **av)
{
	size_t len = parse_size(av[1]);
	int write = !strcmp(av[2], "write"), reps = parse_reps(av[3]), i;
	int fd = open_dev(av[0]);

	for (i = 0; i < reps; i++) {
		char *a = map_at(fd, len, 1, PROT_READ | PROT_WRITE);
		long long t0 = now_ns(), t1;
		long faults = touch(a, len, write);

		t1 = now_ns();
		check_faults(faults, len, 1);
		sample((double)(t1 - t0) / faults, faults, t1 - t0);
		munmap(a, len);
	}
	close(fd);
	return 0;
}

static int cmd_devzap(char **av)
{
	size_t len = parse_size(av[1]);
	int reps = parse_reps(av[2]), i;
	int fd = open_dev(av[0]);

	for (i = 0; i < reps; i++) {
		char *a = map_at(fd, len, 1, PROT_READ | PROT_WRITE);
		long long t0, t1;

		check_faults(touch(a, len, 1), len, 1);
		t0 = now_ns();
		if (munmap(a, len))
			fail("munmap: %s", strerror(errno));
		t1 = now_ns();
		sample((double)(t1 - t0) / (len / PAGE), len / PAGE, t1 - t0);
	}
	close(fd);
	return 0;
}

static void sysfs_write(const char *dir, const char *file, const char *val)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		fail("write '%s' to %s: %s", val, path, strerror(errno));
	close(fd);
}

/*
 * Unbind DEVICE from the driver (not timed), then time its bind: the probe
 * maps the namespace with devm_memremap_pages() and initialises its struct
 * pages (memmap_init_zone_device()).
 */
static int cmd_bind(char **av)
{
	int reps = parse_reps(av[2]), i;
	char link[4096];

	snprintf(link, sizeof(link), "%s/%s", av[0], av[1]);
	if (access(link, F_OK))
		fail("%s is not bound to %s", av[1], av[0]);
	for (i = 0; i < reps; i++) {
		long long t0, t1;

		sysfs_write(av[0], "unbind", av[1]);
		t0 = now_ns();
		sysfs_write(av[0], "bind", av[1]);
		t1 = now_ns();
		sample((double)(t1 - t0), 1, t1 - t0);
	}
	return 0;
}

/*
 * The physical floor of struct-page initialisation: storing the bytes the
 * memmap of the namespace occupies (measured by the caller from
 * nr_memmap_pages), into memory that is already mapped, with the stores
 * the kernel uses for it: mm_zero_struct_page() clears a struct page with
 * 8-byte stores. Not glibc's memset(), whose "rep stosb" and vector paths
 * QEMU's TCG emulates far more slowly than plain stores (it made the
 * "floor" slower than the kernel's own initialisation).
 */
static void store_words(volatile uint64_t *p, size_t len, uint64_t v)
{
	size_t i;

	for (i = 0; i < len / 8; i += 8) {
		p[i] = v;
		p[i + 1] = v;
		p[i + 2] = v;
		p[i + 3] = v;
		p[i + 4] = v;
		p[i + 5] = v;
		p[i + 6] = v;
		p[i + 7] = v;
	}
}

static int cmd_memset(char **av)
{
	size_t len = parse_size(av[0]);
	int reps = parse_reps(av[1]), i;
	uint64_t *b = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (b == MAP_FAILED)
		fail("mmap %zu bytes: %s", len, strerror(errno));
	if (len % 64)
		fail("%zu bytes is not a whole number of 64-byte lines", len);
	store_words(b, len, 1);
	for (i = 0; i < reps; i++) {
		long long t0 = now_ns(), t1;

		store_words(b, len, i);
		t1 = now_ns();
		sample((double)(t1 - t0), 1, t1 - t0);
	}
	munmap(b, len);
	return 0;
}

static int cmd_mkfile(char **av)
{
	close(make_file(av[0], parse_size(av[1])));
	return 0;
}

static const struct {
	const char *name;
	int argc;
	int (*fn)(char **av);
	const char *usage;
} cmds[] = {
	{ "fault", 5, cmd_fault, "FILE SIZE pte|pmd read|write REPS" },
	{ "zap", 5, cmd_zap, "FILE SIZE pte|pmd munmap|truncate|punch REPS" },
	{ "evict", 3, cmd_evict, "DIR SIZE REPS" },
	{ "odirect", 4, cmd_odirect, "FILE SIZE BLKDEV REPS" },
	{ "devfault", 4, cmd_devfault, "DEV SIZE read|write REPS" },
	{ "devzap", 3, cmd_devzap, "DEV SIZE REPS" },
	{ "bind", 3, cmd_bind, "DRIVERDIR DEVICE REPS" },
	{ "memset", 2, cmd_memset, "BYTES REPS" },
	{ "mkfile", 2, cmd_mkfile, "FILE SIZE" },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name)) {
			if (argc - 2 != cmds[i].argc)
				fail("usage: daxbench %s %s", cmds[i].name, cmds[i].usage);
			return cmds[i].fn(argv + 2);
		}
	fprintf(stderr, "usage:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  daxbench %s %s\n", cmds[i].name, cmds[i].usage);
	return 2;
}
