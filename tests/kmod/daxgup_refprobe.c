// SPDX-License-Identifier: GPL-2.0
/*
 * Test instrument (not part of the series): report the refcount of the
 * struct page behind a pfn, so the VM scenarios can observe the DAX page
 * lifetime (T-ref). /proc/kpagecount cannot: it skips ZONE_DEVICE pfns and
 * reports mapcounts. Built out of tree against each test kernel.
 *
 *   echo <pfn> > /sys/kernel/debug/daxgup_refprobe/pfn
 *   cat /sys/kernel/debug/daxgup_refprobe/pfn   ->  "<pfn> refcount <n> zone_device <0|1>"
 *
 * For the harness's own tests (planted faults, DAXGUP_PLANT) it can also
 * provoke what the harness must notice:
 *
 *   echo warn > /sys/kernel/debug/daxgup_refprobe/trigger          a WARNING
 *   echo lockdep-off > /sys/kernel/debug/daxgup_refprobe/trigger   debug_locks_off()
 *
 * And, for the scenarios that check that the kernel warns about a truncate
 * whose layouts were not broken (T-warn-*), a deliberately wrong truncate:
 *
 *   echo <fd> > /sys/kernel/debug/daxgup_refprobe/drop-dax-entries
 *
 * drops the page cache (the DAX entries) of the writer's open DAX file <fd>
 * as truncate_pagecache_range() does, without breaking its layouts first,
 * under the invalidate lock. The file keeps its size and its blocks; the
 * entries come back on the next fault.
 *
 * For T-trunc-locked, the entry lock as fsync's dax_writeback_one() holds it
 * across the write-protect walk and dax_flush(), for a known time:
 *
 *   echo "<fd> <ms>" > /sys/kernel/debug/daxgup_refprobe/lock-dax-entry
 *
 * sets DAX_LOCKED in the entry at index 0 of <fd>'s file, sleeps <ms>,
 * clears it and tags the entry dirty, then writes the file back: the
 * writeback locks and unlocks the entry through fs/dax.c, which wakes the
 * tasks that wait for it (they sleep on fs/dax.c's own wait table).
 */
#include <linux/dax.h>
#include <linux/debug_locks.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

/* fs/dax.c's lock bit: 6.12 keeps it private, the series moves it to dax.h */
#ifndef DAX_LOCKED
#define DAX_LOCKED (1UL << 0)
#endif

static struct dentry *dir;
static DEFINE_MUTEX(lock);
static unsigned long cur_pfn = ULONG_MAX;

static ssize_t pfn_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	unsigned long pfn;
	int ret = kstrtoul_from_user(ubuf, len, 0, &pfn);

	if (ret)
		return ret;
	if (!pfn_valid(pfn))
		return -ENXIO;
	mutex_lock(&lock);
	cur_pfn = pfn;
	mutex_unlock(&lock);
	return len;
}

static ssize_t pfn_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	char buf[96];
	struct page *page;
	int n;

	mutex_lock(&lock);
	if (cur_pfn == ULONG_MAX) {
		mutex_unlock(&lock);
		return -ENODATA;
	}
	page = pfn_to_page(cur_pfn);
	n = scnprintf(buf, sizeof(buf), "%lu refcount %d zone_device %d\n", cur_pfn,
		      page_ref_count(page), is_zone_device_page(page));
	mutex_unlock(&lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static ssize_t trigger_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char cmd[16];

	if (len == 0 || len >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = 0;
	strim(cmd);
	if (!strcmp(cmd, "warn"))
		WARN(1, "daxgup_refprobe: planted warning (harness self-test)\n");
	else if (!strcmp(cmd, "lockdep-off"))
		debug_locks_off();
	else
		return -EINVAL;
	return len;
}

/* The open file @fd of the calling process, if it is a DAX file. */
static struct file *dax_fget(unsigned int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (!dax_mapping(file->f_mapping)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file;
}

static ssize_t drop_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct address_space *mapping;
	struct file *file;
	unsigned int fd;
	int ret = kstrtouint_from_user(ubuf, len, 0, &fd);

	if (ret)
		return ret;
	file = dax_fget(fd);
	if (IS_ERR(file))
		return PTR_ERR(file);
	mapping = file->f_mapping;
	filemap_invalidate_lock(mapping);
	truncate_pagecache_range(mapping->host, 0, -1);
	filemap_invalidate_unlock(mapping);
	fput(file);
	return len;
}

static ssize_t lock_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	struct address_space *mapping;
	struct file *file;
	unsigned int fd, ms;
	char buf[32];
	void *entry;
	XA_STATE(xas, NULL, 0);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%u %u", &fd, &ms) != 2 || ms > 10000)
		return -EINVAL;
	file = dax_fget(fd);
	if (IS_ERR(file))
		return PTR_ERR(file);
	mapping = file->f_mapping;
	xas.xa = &mapping->i_pages;
	xas_lock_irq(&xas);
	entry = xas_load(&xas);
	if (!xa_is_value(entry) || (xa_to_value(entry) & DAX_LOCKED)) {
		xas_unlock_irq(&xas);
		fput(file);
		return -EBUSY;
	}
	xas_store(&xas, xa_mk_value(xa_to_value(entry) | DAX_LOCKED));
	xas_unlock_irq(&xas);
	msleep(ms);
	xas_reset(&xas);
	xas_lock_irq(&xas);
	entry = xas_load(&xas);
	xas_store(&xas, xa_mk_value(xa_to_value(entry) & ~DAX_LOCKED));
	xas_set_mark(&xas, PAGECACHE_TAG_DIRTY);
	xas_unlock_irq(&xas);
	filemap_fdatawrite(mapping);
	fput(file);
	return len;
}

static const struct file_operations lock_fops = {
	.owner = THIS_MODULE,
	.write = lock_write,
	.llseek = noop_llseek,
};

static const struct file_operations drop_fops = {
	.owner = THIS_MODULE,
	.write = drop_write,
	.llseek = noop_llseek,
};

static const struct file_operations trigger_fops = {
	.owner = THIS_MODULE,
	.write = trigger_write,
	.llseek = noop_llseek,
};

static const struct file_operations pfn_fops = {
	.owner = THIS_MODULE,
	.read = pfn_read,
	.write = pfn_write,
	.llseek = default_llseek,
};

static int __init refprobe_init(void)
{
	dir = debugfs_create_dir("daxgup_refprobe", NULL);
	debugfs_create_file("pfn", 0600, dir, NULL, &pfn_fops);
	debugfs_create_file("trigger", 0200, dir, NULL, &trigger_fops);
	debugfs_create_file("drop-dax-entries", 0200, dir, NULL, &drop_fops);
	debugfs_create_file("lock-dax-entry", 0200, dir, NULL, &lock_fops);
	return 0;
}

static void __exit refprobe_exit(void)
{
	debugfs_remove(dir);
}

module_init(refprobe_init);
module_exit(refprobe_exit);
MODULE_DESCRIPTION("DAX-gup test instrument: struct page refcount by pfn");
MODULE_LICENSE("GPL");
