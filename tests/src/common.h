/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VM test programs: diagnostics in KTAP comment form,
 * a monotonic clock, and a page pin held by another process.
 *
 * The pin (scenario "T-pin" of the series map) is a vmsplice() of a mapped
 * page into a pipe without SPLICE_F_GIFT: the pipe buffer holds a gup
 * reference on the page until the pipe is drained. A child process owns the
 * read end and drains it when told to, or once it sees the operation under
 * test waiting for the page, or after a time limit.
 */
#ifndef DAXGUP_COMMON_H
#define DAXGUP_COMMON_H

#define _GNU_SOURCE
#include <dirent.h>
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
#include <sys/prctl.h>
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

/* The longest a pin is held: every scenario releases it before that. */
#define PIN_LIMIT_MS 10000
/* How often a PIN_UNTIL_WAITER holder looks for a waiting task. */
#define PIN_POLL_MS 50

enum pin_mode {
	PIN_HOLD,		/* until pin_release(), or PIN_LIMIT_MS */
	PIN_UNTIL_WAITER,	/* also: as soon as a task is seen waiting for the page */
};

/* Why the holder drained the pipe. */
enum pin_why {
	PIN_RELEASED = 'g',	/* pin_release() asked */
	PIN_WAITER = 'w',	/* a task of the test was waiting for the page */
	PIN_LIMIT = 't',	/* PIN_LIMIT_MS ran out */
};

struct pin {
	pid_t child;
	int go_fd;	/* parent -> child: drain now */
	int res_fd;	/* child -> parent: why, waiter, stack, drain time, page bytes */
	long long drained_at;	/* when the child started to drain, or -1 */
	char why;	/* enum pin_why, 0 if the child died first */
	unsigned char data[PAGE];
	int have_data;
	char waiter[96];	/* PIN_WAITER: "pid comm frame" of the waiting task */
	char stack[2048];	/* the parent's kernel stack just before the drain */
};

/*
 * The frames that mean "asleep until a DAX page is idle" when they are the
 * first one in /proc/PID/stack (see pin_waiter_seen()): the filesystems' wait
 * callbacks (ext2/ext4/xfs/fuse_wait_dax_page), the series' waits
 * (dax_wait_page_idle*, and fs/dax_wait.rs's wait_page_idle in a Rust
 * symbol), and 6.12's own waits, where ___wait_var_event() and the callback
 * are inlined into ext4_break_layouts() and xfs_break_dax_layouts().
 * Sleeping for an entry lock, I/O or a timer is not among them.
 */
static const char *const pin_wait_frames[] = {
	"wait_dax_page", "wait_page_idle", "break_layouts", "break_dax_layouts",
};

/*
 * Is a task of the test @root (@root itself or a descendant, not the caller)
 * asleep in one of pin_wait_frames? If so, describe it in @who.
 */
static inline int pin_waiter_seen(pid_t root, char *who, size_t len)
{
	enum { MAX = 2048 };
	static pid_t pid[MAX], ppid[MAX];
	static char state[MAX], mark[MAX], comm[MAX][17];
	char name[64], buf[512];
	int n = 0, grew = 1, found = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < MAX) {
		char *c;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(name, sizeof(name), "/proc/%d/stat", atoi(de->d_name));
		f = fopen(name, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (c = strrchr(buf, ')')) &&
		    sscanf(c + 1, " %c %d", &state[n], &ppid[n]) == 2) {
			char *o = strchr(buf, '(');

			*c = 0;
			snprintf(comm[n], sizeof(comm[n]), "%s", o ? o + 1 : "?");
			pid[n] = atoi(de->d_name);
			mark[n] = pid[n] == root;
			n++;
		}
		fclose(f);
	}
	closedir(d);
	while (grew) {	/* the descendants of @root */
		grew = 0;
		for (int i = 0; i < n; i++)
			for (int j = 0; !mark[i] && j < n; j++)
				if (mark[j] && ppid[i] == pid[j])
					mark[i] = grew = 1;
	}
	for (int i = 0; i < n && !found; i++) {
		FILE *f;

		if (!mark[i] || pid[i] == getpid() || (state[i] != 'S' && state[i] != 'D'))
			continue;
		snprintf(name, sizeof(name), "/proc/%d/stack", pid[i]);
		f = fopen(name, "r");
		if (!f)
			continue;
		/*
		 * "[<0>] xfs_wait_dax_page+0x21/0x30". The scheduler's own
		 * frames are not listed (stack_trace_save_tsk() leaves out
		 * __sched functions); skip an address at the very end of a
		 * function ("+0x20/0x20"), which the unwinder gives for a
		 * sleeping task's first frame: it names the function before
		 * the one the task is in.
		 */
		while (fgets(buf, sizeof(buf), f)) {
			char *fn = strchr(buf, ']'), *at;
			unsigned long off, size;

			if (!fn)
				break;
			fn += strspn(fn + 1, " ") + 1;
			at = strchr(fn, '+');
			if (at && sscanf(at, "+%lx/%lx", &off, &size) == 2 && off == size)
				continue;
			fn[strcspn(fn, "+\n")] = 0;
			for (size_t k = 0; k < sizeof(pin_wait_frames) / sizeof(pin_wait_frames[0]); k++)
				if (strstr(fn, pin_wait_frames[k]))
					found = 1;
			if (found)
				snprintf(who, len, "%d %s in %.60s", pid[i], comm[i], fn);
			break;
		}
		fclose(f);
	}
	return found;
}

/*
 * Pin the page at @addr by vmsplice()ing it into a pipe whose read end a child
 * owns. The child drains the pipe when pin_release() asks, or after
 * PIN_LIMIT_MS. With PIN_UNTIL_WAITER it also drains it once it has seen, in
 * two looks PIN_POLL_MS apart, this process or one of its descendants asleep
 * waiting for a DAX page to become idle (pin_wait_frames): then the operation
 * under test waits for the pin whatever the time it takes, and a slow
 * operation that does not wait is never taken for one that does. If
 * @sig_after_ms >= 0 the child first sends SIGUSR1 to the parent at that time.
 */
static inline void pin_page(struct pin *p, void *addr, enum pin_mode mode, int sig_after_ms)
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
		char why, waiter[sizeof(p->waiter)] = "";
		ssize_t got = 0, r;
		int seen = 0;

		/*
		 * Die with the test: a test that exits early (a setup
		 * failure) must not leave its pin, and an operation blocked
		 * on it, to run into the next test's window. Its children
		 * (an operation in a child, system()) inherit the write end
		 * of "go", so the pipe alone does not tell.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
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
			long long left = PIN_LIMIT_MS - (now_ms() - t0);

			if (pfd.revents & (POLLIN | POLLHUP)) {
				why = PIN_RELEASED;
				break;
			}
			if (left <= 0) {
				why = PIN_LIMIT;
				break;
			}
			if (mode == PIN_UNTIL_WAITER) {
				seen = pin_waiter_seen(parent, waiter, sizeof(waiter)) ? seen + 1 : 0;
				if (seen >= 2) {
					why = PIN_WAITER;
					break;
				}
				if (left > PIN_POLL_MS)
					left = PIN_POLL_MS;
			}
			pfd.revents = 0;
			poll(&pfd, 1, (int)left);
		}
		{
			/* where the parent is blocked, if it is */
			char path[64], stack[sizeof(p->stack)] = "";
			int sfd;
			ssize_t n = 0;

			snprintf(path, sizeof(path), "/proc/%d/stack", parent);
			sfd = open(path, O_RDONLY);
			if (sfd >= 0) {
				n = read(sfd, stack, sizeof(stack) - 1);
				close(sfd);
			}
			stack[n > 0 ? n : 0] = 0;
			if (write(res[1], &why, 1) != 1 ||
			    write(res[1], waiter, sizeof(waiter)) != sizeof(waiter) ||
			    write(res[1], stack, sizeof(stack)) != sizeof(stack))
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
	p->why = 0;
	p->waiter[0] = p->stack[0] = 0;
	if (read(p->res_fd, &p->why, 1) == 1 &&
	    read(p->res_fd, p->waiter, sizeof(p->waiter)) == sizeof(p->waiter) &&
	    read(p->res_fd, p->stack, sizeof(p->stack)) == sizeof(p->stack) &&
	    read(p->res_fd, &p->drained_at, sizeof(p->drained_at)) == sizeof(p->drained_at))
		while (got < (ssize_t)PAGE && (r = read(p->res_fd, p->data + got, PAGE - got)) > 0)
			got += r;
	p->have_data = got == (ssize_t)PAGE;
	p->waiter[sizeof(p->waiter) - 1] = 0;
	p->stack[sizeof(p->stack) - 1] = 0;
	for (char *c = p->stack; *c; c++)
		if (*c == '\n')
			*c = ' ';
	close(p->res_fd);
	waitpid(p->child, &status, 0);
}

/* Why the pin was released, for a diagnostic. */
static inline const char *pin_why(const struct pin *p)
{
	static char buf[160];

	if (p->why && p->drained_at < 0)
		return "the holder died while it drained the pipe";
	switch (p->why) {
	case PIN_RELEASED:
		return "released by the test";
	case PIN_WAITER:
		snprintf(buf, sizeof(buf), "released when %s was seen waiting", p->waiter);
		return buf;
	case PIN_LIMIT:
		return "released at the holder's time limit";
	default:
		return "the holder died";
	}
}

/*
 * After an operation that ended at @t1 with the page pinned: did the pin's
 * release prove nothing? That is when the holder's time limit released it
 * while the operation was still running and no task had been seen waiting
 * for the page: a slow operation, or a wait that pin_wait_frames lacks.
 * Comparing @t1 with the drain time would then mean nothing either way.
 */
static inline int pin_inconclusive(const struct pin *p, long long t1)
{
	return p->why == PIN_LIMIT && p->drained_at <= t1;
}

#define CHECK_PIN_CONCLUSIVE(p, t1) do {					\
	CHECK(!pin_inconclusive(p, t1),						\
	      "inconclusive: after %d ms the operation had neither returned nor been seen waiting for the page, and the pin was released then", \
	      PIN_LIMIT_MS);							\
	if (pin_inconclusive(p, t1))						\
		diag("the test's stack at the time limit: %.600s",		\
		     (p)->stack[0] ? (p)->stack : "(unavailable)");		\
} while (0)

static inline void *map_file(int fd, size_t len)
{
	void *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (a == MAP_FAILED)
		SETUP_FAIL("mmap: %s", strerror(errno));
	return a;
}

#endif
