// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke checks: mmap read/write/msync round trips on a DAX file or on a
 * device-dax character device.
 *
 *   smoke file <path> <bytes>    file on a dax=always mount
 *   smoke dev  <dev>  <bytes>    /dev/daxX.Y, bytes a multiple of its align
 *
 * Exit: 0 pass, 1 fail, 2 setup.
 */
#include "common.h"

static int failed;

static int round_trip(int fd, size_t len, int is_file)
{
	unsigned char *a = map_file(fd, len), *b;

	fill(a, len, 0x5a);
	/* device-dax has no fsync: its stores are durable without msync() */
	if (is_file)
		CHECK(msync(a, len, MS_SYNC) == 0, "msync: %s", strerror(errno));
	munmap(a, len);
	if (is_file) {
		unsigned char *buf = malloc(len);

		CHECK(buf && pread(fd, buf, len, 0) == (ssize_t)len, "pread: %s", strerror(errno));
		CHECK(buf && check_fill(buf, len, 0x5a), "read() does not see the mmap stores");
		fill(buf, len, 0xa5);
		CHECK(pwrite(fd, buf, len, 0) == (ssize_t)len, "pwrite: %s", strerror(errno));
		free(buf);
	}
	b = map_file(fd, len);
	CHECK(check_fill(b, len, is_file ? 0xa5 : 0x5a), "a new mapping does not see the data");
	munmap(b, len);
	return VERDICT();
}

int main(int argc, char **argv)
{
	size_t len;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4)
		SETUP_FAIL("usage: %s file|dev PATH BYTES", argv[0]);
	len = strtoul(argv[3], NULL, 0);
	if (!strcmp(argv[1], "file")) {
		fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, len))
			SETUP_FAIL("%s: %s", argv[2], strerror(errno));
		if (!is_dax(fd))
			SETUP_FAIL("%s is not accessed through DAX", argv[2]);
		round_trip(fd, len, 1);
		close(fd);
		unlink(argv[2]);
	} else {
		fd = open(argv[2], O_RDWR);
		if (fd < 0)
			SETUP_FAIL("%s: %s", argv[2], strerror(errno));
		round_trip(fd, len, 0);
		close(fd);
	}
	return VERDICT();
}
