// SPDX-License-Identifier: GPL-2.0-only
/*
 * Format-independent part of the generic page table library: table memory
 * (through iommu-pages) and cache maintenance for incoherent walkers.
 */
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/generic_pt.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#ifdef CONFIG_X86
#include <asm/cacheflush.h>
#endif

#include "pt_common.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "generic_pt."

static bool keep_tables;
module_param(keep_tables, bool, 0644);
MODULE_PARM_DESC(keep_tables,
		 "Keep the tables that unmaps empty, as 6.12 did, in every page table set up from then on");

/**
 * pt_keep_tables() - Whether generic_pt.keep_tables asks to keep tables
 *
 * Return: true if page tables set up now get PT_FLAG_KEEP_TABLES whatever
 * their driver asked for.
 */
bool pt_keep_tables(void)
{
	return READ_ONCE(keep_tables);
}
EXPORT_SYMBOL_IF_KUNIT(pt_keep_tables);

/*
 * An incoherent walker on x86 is served by clflush (VT-d without coherent
 * page walks); elsewhere every table is mapped for DMA once, and each write
 * is followed by a sync, as io-pgtable-arm does. The IOMMU uses physical
 * addresses, so a DMA address that differs from it cannot be used.
 */
static bool pt_use_dma_api(struct pt_iommu *pt)
{
	return !IS_ENABLED(CONFIG_X86) && (pt->flags & PT_FLAG_INCOHERENT);
}

/**
 * pt_table_alloc() - Allocate a zeroed table for @pt
 * @pt: the page table
 * @size: bytes, a power of two
 * @gfp: allocation flags
 *
 * Return: the table, visible to an incoherent walker, or NULL.
 */
void *pt_table_alloc(struct pt_iommu *pt, size_t size, gfp_t gfp)
{
	void *table;
	dma_addr_t dma;

	KUNIT_STATIC_STUB_REDIRECT(pt_table_alloc, pt, size, gfp);
	table = iommu_alloc_pages_node_sz(pt->nid, gfp, size);
	if (!table || !(pt->flags & PT_FLAG_INCOHERENT))
		return table;

	if (!pt_use_dma_api(pt)) {
		pt_table_sync(pt, table, size);
		return table;
	}

	dma = dma_map_single(pt->iommu_device, table, size, DMA_TO_DEVICE);
	if (dma_mapping_error(pt->iommu_device, dma))
		goto err_free;
	if (dma != virt_to_phys(table)) {
		dev_err(pt->iommu_device,
			"page table memory is not DMA-addressable 1:1\n");
		dma_unmap_single(pt->iommu_device, dma, size, DMA_TO_DEVICE);
		goto err_free;
	}
	return table;

err_free:
	iommu_free_pages(table);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(pt_table_alloc);

/**
 * pt_table_release() - Undo pt_table_alloc()'s DMA mapping
 * @pt: the page table
 * @table: a table unlinked from @pt
 * @size: its size
 *
 * After this the table may go on a free list.
 */
void pt_table_release(struct pt_iommu *pt, void *table, size_t size)
{
	if (pt_use_dma_api(pt))
		dma_unmap_single(pt->iommu_device, virt_to_phys(table), size,
				 DMA_TO_DEVICE);
}

/**
 * pt_table_free() - Release and free a table no walker can reach
 * @pt: the page table
 * @table: the table
 * @size: its size
 */
void pt_table_free(struct pt_iommu *pt, void *table, size_t size)
{
	pt_table_release(pt, table, size);
	iommu_free_pages(table);
}

/**
 * pt_table_sync() - Make CPU writes to a table visible to the walker
 * @pt: a page table with PT_FLAG_INCOHERENT
 * @start: first byte written
 * @len: bytes written
 */
void pt_table_sync(struct pt_iommu *pt, void *start, size_t len)
{
#ifdef CONFIG_X86
	clflush_cache_range(start, len);
#else
	dma_sync_single_for_device(pt->iommu_device, virt_to_phys(start), len,
				   DMA_TO_DEVICE);
#endif
}

/**
 * pt_iommu_top_pa() - Physical address of the top table
 * @pt: the page table
 *
 * Return: the address to program into the IOMMU.
 */
phys_addr_t pt_iommu_top_pa(struct pt_iommu *pt)
{
	return virt_to_phys(pt_top_table(READ_ONCE(pt->top)));
}
EXPORT_SYMBOL_GPL(pt_iommu_top_pa);

/**
 * pt_stats_add_table() - Count one table in a walk's statistics
 * @st: the statistics
 * @table: a table the walk reached
 * @level: its level
 */
void pt_stats_add_table(struct pt_iommu_stats *st, void *table,
			unsigned int level)
{
	unsigned long pages;
	size_t bytes = iommu_pages_footprint(table, &pages);

	if (level < PT_STATS_LEVELS) {
		st->tables[level]++;
		st->table_bytes[level] += bytes;
	}
	if (pages)
		st->whole_pages += pages;
	else
		st->frag_bytes += bytes;
}

/**
 * pt_stats_add_leaf() - Count one leaf entry in a walk's statistics
 * @st: the statistics
 * @idx: the entry's index in its table
 * @shift: log2 of what one entry of the table maps
 * @lg2: log2 of the leaf's size; a leaf larger than one entry is made of
 *	replicas, counted once, at the first
 */
void pt_stats_add_leaf(struct pt_iommu_stats *st, unsigned int idx,
		       unsigned int shift, unsigned int lg2)
{
	/* an entry seen while another CPU rewrote it may be anything */
	if (lg2 < shift || lg2 >= ARRAY_SIZE(st->leaves) ||
	    lg2 - shift >= 32)
		return;
	st->mapped += 1ULL << shift;
	if (!(idx & ((1U << (lg2 - shift)) - 1)))
		st->leaves[lg2]++;
}

#ifdef CONFIG_IOMMU_DEBUGFS
/*
 * Every page table from init to deinit, for the debugfs report. The report
 * holds the mutex, so no table it walks can reach deinit meanwhile.
 */
static DEFINE_MUTEX(pt_debug_lock);
static LIST_HEAD(pt_debug_list);
static unsigned int pt_debug_next_id;

/**
 * pt_debug_add() - List a new page table in the debugfs report
 * @pt: a page table whose init has allocated its top
 *
 * Context: may sleep.
 */
void pt_debug_add(struct pt_iommu *pt)
{
	mutex_lock(&pt_debug_lock);
	pt->debug_id = ++pt_debug_next_id;
	list_add_tail(&pt->debug_node, &pt_debug_list);
	mutex_unlock(&pt_debug_lock);
}

/**
 * pt_debug_del() - Take a page table out of the debugfs report
 * @pt: the page table, listed or not (a second deinit)
 *
 * Waits for a report in progress to finish.
 *
 * Context: may sleep.
 */
void pt_debug_del(struct pt_iommu *pt)
{
	mutex_lock(&pt_debug_lock);
	if (pt->debug_node.next && !list_empty(&pt->debug_node))
		list_del_init(&pt->debug_node);
	mutex_unlock(&pt_debug_lock);
}

/* The totals of the tables one IOMMU instance walks, or of all tables. */
struct pt_debug_sum {
	struct device *dev;
	char name[64];
	u64 tables;
	unsigned int domains;
	u64 whole_pages;
	u64 frag_bytes;
	u64 mapped;
};

static void pt_debug_sum_add(struct pt_debug_sum *sum,
			     const struct pt_iommu_stats *st)
{
	unsigned int level;

	sum->domains++;
	for (level = 0; level < PT_STATS_LEVELS; level++)
		sum->tables += st->tables[level];
	sum->whole_pages += st->whole_pages;
	sum->frag_bytes += st->frag_bytes;
	sum->mapped += st->mapped;
}

/* Table memory per mapped memory, in hundredths of a percent. */
static u64 pt_debug_ratio(u64 table_bytes, u64 mapped)
{
	return mapped ? div64_u64(table_bytes * 10000, mapped) : 0;
}

static void pt_debug_print_sum(struct seq_file *m, const char *what,
			       const struct pt_debug_sum *sum)
{
	u64 bytes = (sum->whole_pages << PAGE_SHIFT) + sum->frag_bytes;
	u64 r = pt_debug_ratio(bytes, sum->mapped);

	seq_printf(m, "%s domains %u tables %llu whole_pages %llu frag_bytes %llu table_bytes %llu mapped %llu table/mapped %llu.%02llu%%\n",
		   what, sum->domains, sum->tables, sum->whole_pages,
		   sum->frag_bytes, bytes, sum->mapped, div_u64(r, 100),
		   r % 100);
}

static void pt_debug_print_one(struct seq_file *m, struct pt_iommu *pt,
			       unsigned int id, const struct pt_iommu_stats *st)
{
	u64 bytes = (st->whole_pages << PAGE_SHIFT) + st->frag_bytes;
	u64 r = pt_debug_ratio(bytes, st->mapped);
	unsigned int level, lg2;

	seq_printf(m, "domain %u iommu %s format %s levels %u va %u oa %u\n",
		   id, pt->iommu_device ? dev_name(pt->iommu_device) : "-",
		   pt->ops->name, st->levels, pt->va_lg2, pt->oa_lg2);
	for (level = st->levels; level--; )
		seq_printf(m, "  level %u tables %llu bytes %llu\n", level,
			   st->tables[level], st->table_bytes[level]);
	seq_puts(m, "  leaves");
	for (lg2 = 0; lg2 < ARRAY_SIZE(st->leaves); lg2++) {
		static const char unit[] = "BKMGTPE";
		unsigned int u = min(lg2 / 10, 6U);

		if (st->leaves[lg2])
			seq_printf(m, " %llu%c %llu", 1ULL << (lg2 - 10 * u),
				   unit[u], st->leaves[lg2]);
	}
	if (!st->mapped)
		seq_puts(m, " none");
	seq_printf(m, "\n  whole_pages %llu frag_bytes %llu table_bytes %llu mapped %llu table/mapped %llu.%02llu%%\n",
		   st->whole_pages, st->frag_bytes, bytes, st->mapped,
		   div_u64(r, 100), r % 100);
}

/* The instance @dev's totals in @sums[0..*n), added if new. */
static struct pt_debug_sum *pt_debug_sum_of(struct pt_debug_sum *sums,
					    unsigned int *n, struct device *dev)
{
	unsigned int i;

	for (i = 0; i < *n; i++)
		if (sums[i].dev == dev)
			return &sums[i];
	/* the device may go once the lock is dropped: keep its name */
	sums[*n].dev = dev;
	strscpy(sums[*n].name, dev ? dev_name(dev) : "-",
		sizeof(sums[*n].name));
	return &sums[(*n)++];
}

/**
 * pt_debug_show() - The report of /sys/kernel/debug/iommu/generic_pt
 * @m: where it goes
 * @unused: unused
 *
 * Every page table from init to deinit, in the order they were made: its
 * IOMMU, format and levels, tables and their memory per level, leaves per
 * size, bytes mapped, table memory per mapped memory; then the totals per
 * IOMMU instance and of all. Each table is walked in pieces under RCU
 * while maps and unmaps go on, so its figures are exact only for a table
 * nobody changes meanwhile. The list's mutex is held for the whole report:
 * an init or deinit waits for a report in progress.
 *
 * Return: 0, or -ENOMEM.
 */
VISIBLE_IF_KUNIT int pt_debug_show(struct seq_file *m, void *unused)
{
	struct pt_debug_sum *sums, all = {};
	struct pt_iommu_stats *st;
	unsigned int n = 0, count = 0, i;
	struct pt_iommu *pt;

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	mutex_lock(&pt_debug_lock);
	list_for_each_entry(pt, &pt_debug_list, debug_node)
		count++;
	sums = kcalloc(max(count, 1U), sizeof(*sums), GFP_KERNEL);
	if (!sums) {
		mutex_unlock(&pt_debug_lock);
		kfree(st);
		return -ENOMEM;
	}
	list_for_each_entry(pt, &pt_debug_list, debug_node) {
		memset(st, 0, sizeof(*st));
		pt->ops->stats(pt, st);
		pt_debug_print_one(m, pt, pt->debug_id, st);
		pt_debug_sum_add(pt_debug_sum_of(sums, &n, pt->iommu_device),
				 st);
		pt_debug_sum_add(&all, st);
	}
	mutex_unlock(&pt_debug_lock);
	seq_puts(m, "\n");
	for (i = 0; i < n; i++) {
		char what[72];

		snprintf(what, sizeof(what), "iommu %s", sums[i].name);
		pt_debug_print_sum(m, what, &sums[i]);
	}
	pt_debug_print_sum(m, "all", &all);
	seq_puts(m, "note: nr_iommu_pages counts these whole_pages, the fragment pools' pages (iommu/pages) and other iommu-pages users: interrupt remapping tables, queues, context and PASID tables, page tables not built by generic_pt\n");
	kfree(sums);
	kfree(st);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(pt_debug_show);

DEFINE_SHOW_ATTRIBUTE(pt_debug);

static int __init pt_debugfs_init(void)
{
	debugfs_create_file("generic_pt", 0444, iommu_debugfs_dir, NULL,
			    &pt_debug_fops);
	return 0;
}

/* after iommu_init() made iommu_debugfs_dir, a core_initcall */
late_initcall(pt_debugfs_init);
#endif
