/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommu-pages internals shared with its KUnit test only.
 */
#ifndef __IOMMU_PAGES_INTERNAL_H
#define __IOMMU_PAGES_INTERNAL_H

#include <linux/bits.h>
#include <linux/cache.h>
#include <linux/gfp_types.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/spinlock_types.h>

struct folio;

/*
 * Fragments: from IOMMU_FRAG_MIN bytes (64, or more on pages so large that
 * a page would hold more than BITS_PER_LONG of them) to PAGE_SIZE / 2, in
 * powers of two.
 */
#define IOMMU_FRAG_MIN_SHIFT \
	(PAGE_SHIFT - (BITS_PER_LONG == 64 ? 6 : 5) > 6 ? \
	 PAGE_SHIFT - (BITS_PER_LONG == 64 ? 6 : 5) : 6)
#define IOMMU_FRAG_MIN BIT(IOMMU_FRAG_MIN_SHIFT)
#define IOMMU_FRAG_CLASSES (PAGE_SHIFT - IOMMU_FRAG_MIN_SHIFT)

enum {
	IOMMU_FRAG_ZONE_NORMAL,
	IOMMU_FRAG_ZONE_DMA32,
	IOMMU_FRAG_ZONE_DMA,
	IOMMU_FRAG_ZONES,
};

/*
 * A page charged to a memcg (by __GFP_ACCOUNT) holds fragments of that
 * memcg only.  A pool keeps such pages with a free fragment on lists hashed
 * by obj_cgroup, and an allocation looks at no more than
 * IOMMU_FRAG_MEMCG_SCAN pages of other memcgs before it takes a new page.
 */
#define IOMMU_FRAG_MEMCG_HASH_BITS 4
#define IOMMU_FRAG_MEMCG_BUCKETS BIT(IOMMU_FRAG_MEMCG_HASH_BITS)
#define IOMMU_FRAG_MEMCG_SCAN 16

/*
 * The pages of one node, zone and fragment size that have a free fragment,
 * and the count of all its pages and of their fragments not free (for the
 * report).  iommu-pages has one per combination; KUnit makes private ones.
 * Each is on cache lines of its own, so that CPUs allocating from two
 * pools do not share one.
 */
struct iommu_frag_pool {
	spinlock_t lock;		/* the lists, and their pages' bitmaps */
	struct list_head partial;	/* uncharged pages */
#ifdef CONFIG_MEMCG
	/* charged pages, hashed by their obj_cgroup */
	struct list_head charged[IOMMU_FRAG_MEMCG_BUCKETS];
#endif
	int nid;
	gfp_t zone_gfp;
	unsigned int shift;
	unsigned long pages;		/* pages of fragments, under @lock */
	unsigned long used;		/* their fragments not free, under @lock */
} ____cacheline_aligned_in_smp;

/*
 * Lists are freed in batches of this many folios: one batch is uncounted
 * with interrupts off at a time, and one RCU callback frees one batch, so
 * neither grows with the list (a 1 TiB domain mapped with 4 KiB pages
 * frees half a million tables at its end).
 */
#define IOMMU_PAGES_BATCH 256

/* What the benchmark times the longest of (iommu_pages_bench_max_ns). */
enum {
	IOMMU_PAGES_BENCH_IRQ_OFF,	/* uncounting a batch of a list put */
	IOMMU_PAGES_BENCH_RCU_CB,	/* one RCU callback of a list */
	IOMMU_PAGES_BENCH_TIMES,
};

/* Defined only with CONFIG_IOMMU_PAGES_KUNIT_BENCH, which alone uses it. */
extern u64 iommu_pages_bench_max_ns[IOMMU_PAGES_BENCH_TIMES];

/* Byte written over freed memory with CONFIG_IOMMU_PAGES_DEBUG. */
#define IOMMU_PAGES_POISON 0x6d
/* Mixed into the address of a live allocation to tag its descriptor. */
#define IOMMU_PAGES_LIVE_TAG 0x10a7de5cUL

enum iommu_pages_misuse {
	IOMMU_PAGES_BAD_GFP,
	IOMMU_PAGES_DOUBLE_FREE,
	IOMMU_PAGES_FOREIGN_FREE,
};

/* The two kinds of separate descriptor (CONFIG_IOMMU_PAGES_SEPARATE_DESC). */
enum {
	IOMMU_PAGES_DESC_CACHE,		/* from the descriptor cache */
	IOMMU_PAGES_DESC_KMALLOC,	/* from kmalloc, before the cache exists */
	IOMMU_PAGES_DESC_KINDS,
};

#if IS_ENABLED(CONFIG_KUNIT) && IS_ENABLED(CONFIG_IOMMU_PAGES_SEPARATE_DESC)
struct ioptdesc;
struct kmem_cache;
struct ioptdesc *iommu_pages_alloc_desc(struct kmem_cache *cache, gfp_t gfp,
					int nid);
void iommu_pages_put_desc(struct ioptdesc *iopt);
long iommu_pages_desc_bytes(void);
extern atomic_long_t iommu_pages_descs[IOMMU_PAGES_DESC_KINDS];
#endif

#if IS_ENABLED(CONFIG_KUNIT)
struct folio *iommu_pages_alloc_folio(gfp_t gfp, unsigned int order, int nid);
void iommu_pages_put_folio(struct folio *folio);
void iommu_pages_report(enum iommu_pages_misuse what, const void *virt);
void iommu_frag_pool_init(struct iommu_frag_pool *pool, int nid,
			  unsigned int zone, unsigned int shift);
void *iommu_frag_alloc(struct iommu_frag_pool *pool, gfp_t gfp);
struct iommu_frag_pool *iommu_frag_node_pool(int nid, unsigned int zone,
					     unsigned int shift);
void iommu_frag_pool_counts(struct iommu_frag_pool *pool, unsigned long *pages,
			    unsigned long *used);
struct seq_file;
int iommu_pages_show(struct seq_file *m, void *unused);
extern bool iommu_pages_whole_only;
#endif

/*
 * For tests: the pending per-CPU diffs of a node's counter, and a second
 * sum weighted by CPU number, so that a fold of one CPU's diff changes it
 * even when another fold of the opposite sign cancels it in the plain sum.
 */
static inline void iommu_pages_stat_diffs(int nid, enum node_stat_item item,
					  long *sum, long *weighted)
{
	struct pglist_data *pgdat = NODE_DATA(nid);
	int cpu;

	*sum = 0;
	*weighted = 0;
	for_each_online_cpu(cpu) {
		struct per_cpu_nodestat *p = per_cpu_ptr(pgdat->per_cpu_nodestats,
							 cpu);
		long v = READ_ONCE(p->vm_node_stat_diff[item]);

		*sum += v;
		*weighted += v * (cpu + 1);
	}
}

/*
 * For tests and the report: a node's counter with every CPU's pending diff
 * (an allocation on one CPU and its free on another leave the node's value
 * off until the diffs are folded).  A CPU folds its diff into the value
 * (vmstat_update(), or a diff past its threshold) in two stores, so a
 * reader that sums the two while a fold runs can count it twice or not at
 * all.  Read the diffs before and after the value and read again if they
 * moved, a few times at most: what is left is a fold caught between its
 * two stores, which a quiet counter, what the tests read, does not see.
 * Exact for a quiet counter; a snapshot otherwise.
 */
static inline long iommu_pages_node_stat_exact(int nid,
					       enum node_stat_item item)
{
	long sum, weighted, sum2, weighted2, value;
	int tries = 8;

	do {
		iommu_pages_stat_diffs(nid, item, &sum, &weighted);
		/* Order the diffs before the value, and it before them. */
		smp_rmb();
		value = atomic_long_read(&NODE_DATA(nid)->vm_stat[item]);
		/* As above: the value before the second look. */
		smp_rmb();
		iommu_pages_stat_diffs(nid, item, &sum2, &weighted2);
	} while ((sum != sum2 || weighted != weighted2) && --tries);
	return value + sum;
}

/* For tests: iommu_pages_node_stat_exact() summed over online nodes. */
static inline long iommu_pages_stat_exact(enum node_stat_item item)
{
	long x = 0;
	int nid;

	for_each_online_node(nid)
		x += iommu_pages_node_stat_exact(nid, item);
	return x;
}

#endif /* __IOMMU_PAGES_INTERNAL_H */
