// SPDX-License-Identifier: GPL-2.0
/*
 * The VM suite's kernel log reader: copies every /dev/kmsg record, from the
 * oldest one the ring buffer still has, to stdout, one line per record as
 * "prio,seq,usec,flags;message" (the record's dictionary lines are dropped).
 *
 * Unlike cat(1) it survives a ring-buffer overrun: read() then fails with
 * EPIPE and the next read() returns the oldest record still there; a line
 * "daxgup-kmsg-reader: EPIPE" is written so the harness sees the loss (the
 * sequence numbers show the gap too). Any other error ends it with status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int put(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(1, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

int main(void)
{
	static char rec[16384];
	int fd = open("/dev/kmsg", O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "kmsg-reader: /dev/kmsg: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			static const char lost[] = "daxgup-kmsg-reader: EPIPE\n";

			if (put(lost, sizeof(lost) - 1))
				return 1;
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "kmsg-reader: read: %s\n", n ? strerror(errno) : "EOF");
			return 1;
		}
		rec[n] = 0;
		nl = strchr(rec, '\n');
		n = nl ? nl - rec + 1 : n;
		if (!nl)
			rec[n++] = '\n';
		if (put(rec, n))
			return 1;
	}
}
