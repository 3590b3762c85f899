/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Format-independent helpers of the generic page table library, shared by
 * every instantiation (pt_core.h) and the tests.
 */
#ifndef __GENERIC_PT_COMMON_H
#define __GENERIC_PT_COMMON_H

#include <linux/bitops.h>
#include <linux/generic_pt.h>
#include <linux/iommu.h>

#include "../iommu-pages.h"

/* Every IOMMU_* protection bit a caller may pass. */
#define PT_PROT_KNOWN	(IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | \
			 IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV)

void *pt_table_alloc(struct pt_iommu *pt, size_t size, gfp_t gfp);
void pt_table_release(struct pt_iommu *pt, void *table, size_t size);
void pt_table_free(struct pt_iommu *pt, void *table, size_t size);
void pt_table_sync(struct pt_iommu *pt, void *start, size_t len);
void pt_stats_add_table(struct pt_iommu_stats *st, void *table,
			unsigned int level);
void pt_stats_add_leaf(struct pt_iommu_stats *st, unsigned int idx,
		       unsigned int shift, unsigned int lg2);

#ifdef CONFIG_IOMMU_DEBUGFS
void pt_debug_add(struct pt_iommu *pt);
void pt_debug_del(struct pt_iommu *pt);
#else
static inline void pt_debug_add(struct pt_iommu *pt)
{
}

static inline void pt_debug_del(struct pt_iommu *pt)
{
}
#endif

#if IS_ENABLED(CONFIG_IOMMU_DEBUGFS) && IS_ENABLED(CONFIG_KUNIT)
struct seq_file;
int pt_debug_show(struct seq_file *m, void *unused);
#endif

/* Cache maintenance after CPU writes to [start, start + len) of a table. */
static inline void pt_sync(struct pt_iommu *pt, void *start, size_t len)
{
	if (unlikely(pt->flags & PT_FLAG_INCOHERENT) && len)
		pt_table_sync(pt, start, len);
}

static inline u64 *pt_top_table(unsigned long top)
{
	return (u64 *)(top & ~PT_TOP_LEVEL_MASK);
}

static inline unsigned int pt_top_level(unsigned long top)
{
	return top & PT_TOP_LEVEL_MASK;
}

/* Lowest set bit of @v as log2, 63 for 0 (no alignment limit). */
static inline unsigned int pt_align_lg2(u64 v)
{
	return v ? __ffs64(v) : 63;
}

#endif
