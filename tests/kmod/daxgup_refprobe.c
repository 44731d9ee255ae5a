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
 */
#include <linux/debug_locks.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>

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
