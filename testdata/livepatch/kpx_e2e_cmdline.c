// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_e2e_cmdline: kpx's own kernel live patch for its real-kernel end-to-end tests.
 *
 * It replaces cmdline_proc_show (fs/proc/cmdline.c), so that while the patch is enabled
 * /proc/cmdline prints MARKER instead of the kernel's command line. Disabling and
 * unloading the patch brings the original function back. Modelled on the kernel's
 * samples/livepatch/livepatch-sample.c.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#define MARKER "kpx-livepatch-e2e: cmdline_proc_show replaced by kpx_e2e_cmdline"

static int kpx_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", MARKER);
	return 0;
}

static struct klp_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = kpx_cmdline_proc_show,
	},
	{}
};

static struct klp_object objs[] = {
	{
		/* name NULL: the function is in vmlinux */
		.funcs = funcs,
	},
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int kpx_e2e_cmdline_init(void)
{
	return klp_enable_patch(&patch);
}

static void kpx_e2e_cmdline_exit(void)
{
}

module_init(kpx_e2e_cmdline_init);
module_exit(kpx_e2e_cmdline_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpx end-to-end test live patch: /proc/cmdline prints a marker");
MODULE_INFO(livepatch, "Y");
