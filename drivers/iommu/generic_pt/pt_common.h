/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Format-independent helpers of the generic page table library, shared by
 * every instantiation (pt_core.h) and the tests.
 */
#ifndef __GENERIC_PT_COMMON_H
#define __GENERIC_PT_COMMON_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/generic_pt.h>
#include <linux/iommu.h>
#include <linux/rcupdate.h>

#include "../iommu-pages.h"

/* Every IOMMU_* protection bit a caller may pass. */
#define PT_PROT_KNOWN	(IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | \
			 IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV)

bool pt_keep_tables(void);
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

/*
 * Tables that unmaps empty are freed (Documentation/iommu/generic_pt.rst):
 * a table of a whole allocation counts its entries in use in its
 * descriptor (iommu_pages_live()). A map reserves the entries it is about
 * to write before it writes them; the thread whose unmap takes the count
 * to 0 claims the table by setting it to PT_LIVE_DEAD, after which no map
 * can reserve an entry there and walks again from the top.
 */
#define PT_LIVE_DEAD	INT_MIN

/*
 * What a table's parent entry holds while the table is unlinked, between
 * the claim and the end of the walk-cache flush: not present for every
 * format's walker (the low bits, among which each format has its present
 * or valid bits, are clear), and for the library neither a table nor a
 * leaf: walks take it for a hole and maps walk again, so that no new table
 * or leaf goes where the IOMMU may still hold the old table in its walk
 * cache (and ARM's break-before-make holds).
 */
#define PT_ENTRY_UNLINKING	0x5e00000000000080ULL

/*
 * The live-entry count of a table of @size bytes, or NULL where none is
 * kept: with PT_FLAG_KEEP_TABLES, and for a table of at most half a page
 * (a fragment, whose descriptor is its page's).
 */
static __always_inline atomic_t *pt_live(const struct pt_iommu *pt,
					 void *table, size_t size)
{
	if (size <= PAGE_SIZE / 2 || (pt->flags & PT_FLAG_KEEP_TABLES))
		return NULL;
	return iommu_pages_live(table);
}

/* Reserve @n entries; false if the table was claimed for freeing. */
static __always_inline bool pt_live_add(atomic_t *live, int n)
{
	return !live ||
	       atomic_fetch_add_unless(live, n, PT_LIVE_DEAD) != PT_LIVE_DEAD;
}

/* Give back @n entries; true if that left the table with none. */
static __always_inline bool pt_live_sub(atomic_t *live, int n)
{
	int left;

	if (!live || !n)
		return false;
	left = atomic_sub_return(n, live);
	WARN_ON_ONCE(left < 0);
	return !left;
}

/*
 * A map found a table claimed: let the thread that claimed it unlink it
 * (it holds no lock a map waits for), then walk again.
 */
static inline void pt_rewalk_wait(void)
	__must_hold(RCU)
{
	rcu_read_unlock();
	cpu_relax();
	rcu_read_lock();
}

/* Claim an empty table; false if a map reserved an entry since. */
static inline bool pt_live_claim(atomic_t *live)
{
	return live && atomic_cmpxchg(live, 0, PT_LIVE_DEAD) == 0;
}

#endif
