/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VM test programs: diagnostics in KTAP comment form,
 * a monotonic clock, and a page pin held by another process.
 *
 * The pin (scenario "T-pin" of the series map) is a vmsplice() of a mapped
 * page into a pipe without SPLICE_F_GIFT: the pipe buffer holds a gup
 * reference on the page until the pipe is drained. A child process owns the
 * read end and drains it after a hold time, or earlier when told to.
 */
#ifndef DAXGUP_COMMON_H
#define DAXGUP_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

/*
 * Exit codes of every test program. T_BUG: every check passed except the
 * ones that make up the bug's own signature (BUG_CHECK), whose evidence was
 * printed as "# bug: ..." lines. The harness counts that as XFAIL only on a
 * kernel that lacks the fix, and only if the declared evidence and no other
 * kernel message came with it (tests/expectations).
 */
enum { T_PASS = 0, T_FAIL = 1, T_SETUP = 2, T_BUG = 3 };

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A precondition the guest could not provide: never a silent skip. */
#define SETUP_FAIL(...) do { diag("setup: " __VA_ARGS__); exit(T_SETUP); } while (0)
#define CHECK(cond, ...) do { if (!(cond)) { diag("FAIL: " __VA_ARGS__); failed = 1; } } while (0)
/* A check whose failure is the bug the scenario demonstrates. */
#define BUG_CHECK(cond, ...) do { if (!(cond)) { diag("bug: " __VA_ARGS__); bug_seen = 1; } } while (0)
static int bug_seen;
/* The exit code: any other failure wins over the bug's signature. */
#define VERDICT() (failed ? T_FAIL : bug_seen ? T_BUG : T_PASS)

__attribute__((constructor)) static void ignore_sigpipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif

/* Is this open file accessed through DAX (statx attribute)? */
static inline int is_dax(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))
		return 0;
	return !!(stx.stx_attributes & STATX_ATTR_DAX);
}

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static inline void fill(void *p, size_t len, unsigned char seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		c[i] = (unsigned char)(seed + i * 7 + (i >> 12));
}

static inline int check_fill(const void *p, size_t len, unsigned char seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < len; i++)
		if (c[i] != (unsigned char)(seed + i * 7 + (i >> 12)))
			return 0;
	return 1;
}

/* Which fill pattern does this page hold? -1 if none of the candidates. */
static inline int which_fill(const void *p, size_t len, const unsigned char *seeds, int n)
{
	for (int i = 0; i < n; i++)
		if (check_fill(p, len, seeds[i]))
			return seeds[i];
	return -1;
}

struct pin {
	pid_t child;
	int go_fd;	/* parent -> child: drain now */
	int res_fd;	/* child -> parent: drain time, then the page bytes */
	long long drained_at;	/* when the child started to drain, or -1 */
	unsigned char data[PAGE];
	int have_data;
	char stack[2048];	/* the parent's kernel stack just before the drain */
};

/*
 * Pin the page at @addr by vmsplice()ing it into a pipe whose read end a child
 * owns. The child drains the pipe after @hold_ms, or as soon as pin_release()
 * asks. If @sig_after_ms >= 0 the child first sends SIGUSR1 to the parent at
 * that time.
 */
static inline void pin_page(struct pin *p, void *addr, int hold_ms, int sig_after_ms)
{
	int data[2], go[2], res[2];
	struct iovec iov = { .iov_base = addr, .iov_len = PAGE };
	pid_t parent = getpid();

	memset(p, 0, sizeof(*p));
	/*
	 * The child must not inherit the mapping: it would keep the file
	 * mapped (and referenced) after the parent's munmap(). Device-dax
	 * mappings cannot be split to 4K; for those it does not matter.
	 */
	madvise(addr, PAGE, MADV_DONTFORK);
	if (pipe(data) || pipe(go) || pipe(res))
		SETUP_FAIL("pipe: %s", strerror(errno));
	if (vmsplice(data[1], &iov, 1, 0) != (ssize_t)PAGE)
		SETUP_FAIL("vmsplice of the DAX page: %s", strerror(errno));
	p->child = fork();
	if (p->child < 0)
		SETUP_FAIL("fork: %s", strerror(errno));
	if (p->child == 0) {
		unsigned char buf[PAGE];
		long long t0 = now_ms(), t;
		struct pollfd pfd = { .fd = go[0], .events = POLLIN };
		ssize_t got = 0, r;

		/*
		 * Hold nothing but the pipes: an inherited descriptor of the
		 * DAX file would keep it open after the parent closes it.
		 */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != data[0] && fd != go[0] && fd != res[1])
				close(fd);
		/*
		 * Tell the parent it may go on: had it dropped the last
		 * reference to the file before this close, the close here
		 * would evict the inode and wait for the pin this task holds.
		 */
		if (write(res[1], "r", 1) != 1)
			_exit(1);
		if (sig_after_ms >= 0) {
			poll(&pfd, 1, sig_after_ms);
			if (!(pfd.revents & POLLIN))
				kill(parent, SIGUSR1);
		}
		for (;;) {
			long long left = hold_ms - (now_ms() - t0);

			if (left <= 0 || (pfd.revents & (POLLIN | POLLHUP)))
				break;
			pfd.revents = 0;
			poll(&pfd, 1, (int)left);
		}
		{
			/* where the parent is blocked, if it is */
			char path[64], stack[2048] = "";
			int sfd;
			ssize_t n = 0;

			snprintf(path, sizeof(path), "/proc/%d/stack", parent);
			sfd = open(path, O_RDONLY);
			if (sfd >= 0) {
				n = read(sfd, stack, sizeof(stack) - 1);
				close(sfd);
			}
			stack[n > 0 ? n : 0] = 0;
			if (write(res[1], stack, sizeof(stack)) != sizeof(stack))
				_exit(1);
		}
		/*
		 * The time the drain starts: the page can become idle during
		 * the read below, and a waiter may run before this task does.
		 */
		t = now_ms();
		while (got < (ssize_t)PAGE && (r = read(data[0], buf + got, PAGE - got)) > 0)
			got += r;
		close(data[0]);	/* the pin is gone from here on */
		if (write(res[1], &t, sizeof(t)) != sizeof(t) ||
		    write(res[1], buf, got) != got)
			_exit(1);
		_exit(got == (ssize_t)PAGE ? 0 : 1);
	}
	close(data[0]); close(data[1]); close(go[0]); close(res[1]);
	p->go_fd = go[1];
	p->res_fd = res[0];
	{
		char ready;

		if (read(p->res_fd, &ready, 1) != 1 || ready != 'r')
			SETUP_FAIL("the pin holder did not start");
	}
}

/* Has the child started draining the pipe yet? Non-blocking. */
static inline int pin_drained(struct pin *p)
{
	struct pollfd pfd = { .fd = p->res_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* Tell the child to drain now (if it has not), and collect what it read. */
static inline void pin_release(struct pin *p)
{
	ssize_t got = 0, r;
	int status;

	if (p->go_fd >= 0) {
		if (write(p->go_fd, "g", 1) != 1) { /* child gone: fine */ }
		close(p->go_fd);
		p->go_fd = -1;
	}
	p->drained_at = -1;	/* never, if the child died before draining */
	p->stack[0] = 0;
	if (read(p->res_fd, p->stack, sizeof(p->stack)) == sizeof(p->stack) &&
	    read(p->res_fd, &p->drained_at, sizeof(p->drained_at)) == sizeof(p->drained_at))
		while (got < (ssize_t)PAGE && (r = read(p->res_fd, p->data + got, PAGE - got)) > 0)
			got += r;
	p->have_data = got == (ssize_t)PAGE;
	for (char *c = p->stack; *c; c++)
		if (*c == '\n')
			*c = ' ';
	close(p->res_fd);
	waitpid(p->child, &status, 0);
}

static inline void *map_file(int fd, size_t len)
{
	void *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (a == MAP_FAILED)
		SETUP_FAIL("mmap: %s", strerror(errno));
	return a;
}

#endif
