// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU page-table memory: allocation, accounting and freeing.
 *
 * An allocation larger than PAGE_SIZE / 2 is a zeroed folio; its head page
 * is a struct ioptdesc.  A smaller one is a fragment of a page that holds
 * fragments of one size only, tracked by a struct iommu_frag_page.
 * NR_IOMMU_PAGES (per node) and NR_SECONDARY_PAGETABLE (through the lruvec,
 * so a memcg charged with __GFP_ACCOUNT sees it) follow every folio, and
 * every page of fragments, from allocation to free.  __GFP_ACCOUNT charges
 * fragments too, a page at a time: a charged page of fragments serves one
 * memcg.
 *
 * With CONFIG_IOMMU_PAGES_SEPARATE_DESC the descriptor is not the head page
 * but an object of its own, allocated before the folio and freed after it;
 * the head page's private word leads to it.
 */
#define pr_fmt(fmt) "iommu-pages: " fmt

#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/bitops.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/hash.h>
#include <linux/init.h>
#include <linux/kasan.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include "iommu-pages.h"
#include "iommu-pages-internal.h"

/* Both counters; the caller has interrupts disabled. */
static void __iommu_pages_account(struct folio *folio, long npages)
{
	__mod_node_page_state(folio_pgdat(folio), NR_IOMMU_PAGES, npages);
	__lruvec_stat_mod_folio(folio, NR_SECONDARY_PAGETABLE, npages);
}

/*
 * Both counters for one allocation, through their interrupt-safe updates:
 * with a local cmpxchg (x86, arm64) the node counter needs no interrupt
 * toggling, and the lruvec one needs it only when memcg is built in.  That
 * is cheaper than one interrupt-disabled section around both.
 */
static void iommu_pages_account(struct folio *folio, long npages)
{
	mod_node_page_state(folio_pgdat(folio), NR_IOMMU_PAGES, npages);
	lruvec_stat_mod_folio(folio, NR_SECONDARY_PAGETABLE, npages);
}

#if IS_ENABLED(CONFIG_IOMMU_PAGES_KUNIT_BENCH)
/* The longest of each, in ns, for the benchmark; it resets them. */
u64 iommu_pages_bench_max_ns[IOMMU_PAGES_BENCH_TIMES];
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_bench_max_ns);
#endif

static u64 iommu_pages_bench_start(void)
{
	return IS_ENABLED(CONFIG_IOMMU_PAGES_KUNIT_BENCH) ? ktime_get_ns() : 0;
}

static void iommu_pages_bench_end(u64 t0, unsigned int what)
{
#if IS_ENABLED(CONFIG_IOMMU_PAGES_KUNIT_BENCH)
	u64 ns = ktime_get_ns() - t0;

	if (ns > READ_ONCE(iommu_pages_bench_max_ns[what]))
		WRITE_ONCE(iommu_pages_bench_max_ns[what], ns);
#endif
}

/* The one call into the page allocator; KUnit injects failures here. */
VISIBLE_IF_KUNIT struct folio *
iommu_pages_alloc_folio(gfp_t gfp, unsigned int order, int nid)
{
	struct page *page;

	KUNIT_STATIC_STUB_REDIRECT(iommu_pages_alloc_folio, gfp, order, nid);
	/*
	 * The page entry points, not __folio_alloc_node() and folio_put():
	 * a compound page is a folio, and they skip the checks for file,
	 * anonymous and hugetlb folios that page tables never are.
	 */
	page = alloc_pages_node(nid, gfp | __GFP_COMP, order);
	return page ? page_folio(page) : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_alloc_folio);

/* The one return to the page allocator; KUnit checks the poison here. */
VISIBLE_IF_KUNIT void iommu_pages_put_folio(struct folio *folio)
{
	/* before the stubs: they hand the folio to the page allocator too */
	__folio_clear_pgtable(folio);
	KUNIT_STATIC_STUB_REDIRECT(iommu_pages_put_folio, folio);
	if (IS_ENABLED(CONFIG_IOMMU_PAGES_SEPARATE_DESC))
		folio->private = NULL;
	__free_pages(&folio->page, folio_order(folio));
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_put_folio);

/*
 * Misuse is reported here, and the offending call changes nothing.  KUnit
 * redirects this to count reports instead of printing them.
 */
VISIBLE_IF_KUNIT void iommu_pages_report(enum iommu_pages_misuse what,
					 const void *virt)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_pages_report, what, virt);
	switch (what) {
	case IOMMU_PAGES_BAD_GFP:
		WARN_ONCE(1, "iommu-pages: __GFP_HIGHMEM refused: tables need a kernel mapping\n");
		break;
	case IOMMU_PAGES_DOUBLE_FREE:
		pr_err("BUG: double free of %p, ignored\n", virt);
		dump_stack();
		break;
	case IOMMU_PAGES_FOREIGN_FREE:
		pr_err("BUG: free of %p, which iommu-pages did not allocate, ignored\n",
		       virt);
		dump_stack();
		break;
	}
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_report);

#ifdef CONFIG_IOMMU_PAGES_SEPARATE_DESC
/*
 * Separate descriptors.  They come from their own cache once it exists (an
 * early initcall); the few tables allocated before, during early interrupt
 * remapping setup, get theirs from kmalloc, marked in the page word so that
 * their size is known when they go.  kfree() frees both kinds.
 */
#define IOPTDESC_MEMDESC_KMALLOC 0x4UL

static struct kmem_cache *iommu_desc_cache;

/* Live descriptors of each kind, for the memory they cost. */
VISIBLE_IF_KUNIT atomic_long_t iommu_pages_descs[IOMMU_PAGES_DESC_KINDS];
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_descs);

/**
 * iommu_pages_desc_bytes() - memory taken by the separate descriptors
 *
 * Return: the bytes the live descriptors take: the cache's object size
 * each, and the kmalloc bucket size for those allocated before the cache.
 */
VISIBLE_IF_KUNIT __maybe_unused long iommu_pages_desc_bytes(void)
{
	/* pairs with the smp_store_release() in iommu_pages_desc_init() */
	struct kmem_cache *cache = smp_load_acquire(&iommu_desc_cache);

	return atomic_long_read(&iommu_pages_descs[IOMMU_PAGES_DESC_CACHE]) *
	       (cache ? kmem_cache_size(cache) : 0) +
	       atomic_long_read(&iommu_pages_descs[IOMMU_PAGES_DESC_KMALLOC]) *
	       kmalloc_size_roundup(sizeof(struct ioptdesc));
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_desc_bytes);

static int __init iommu_pages_desc_init(void)
{
	struct kmem_cache *cache;

	/* the page word's tag bits need this alignment of both kinds */
	BUILD_BUG_ON(ARCH_KMALLOC_MINALIGN <= IOPTDESC_MEMDESC_MASK);
	/* not merged with other caches, so that /proc/slabinfo shows it */
	cache = kmem_cache_create("iommu_ioptdesc", sizeof(struct ioptdesc),
				  IOPTDESC_MEMDESC_MASK + 1, SLAB_NO_MERGE,
				  NULL);
	if (!cache)
		return -ENOMEM;
	/* pairs with the smp_load_acquire()s: the cache is set up */
	smp_store_release(&iommu_desc_cache, cache);
	pr_info("descriptors apart from struct page, %u bytes each\n",
		kmem_cache_size(cache));
	return 0;
}
early_initcall(iommu_pages_desc_init);

/*
 * The one allocation of a descriptor, from @cache or, while it is NULL,
 * kmalloc; KUnit injects failures here.  The descriptor is charged to the
 * memcg that the table is charged to.
 */
VISIBLE_IF_KUNIT struct ioptdesc *
iommu_pages_alloc_desc(struct kmem_cache *cache, gfp_t gfp, int nid)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_pages_alloc_desc, cache, gfp, nid);
	gfp &= ~(GFP_ZONEMASK | __GFP_COMP | __GFP_ZERO);
	if (likely(cache))
		return kmem_cache_alloc_node(cache, gfp, nid);
	if (!slab_is_available())
		return NULL;
	return kmalloc_node(sizeof(struct ioptdesc), gfp, nid);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_alloc_desc);

/* The one free of a descriptor; KUnit counts the frees here. */
VISIBLE_IF_KUNIT void iommu_pages_put_desc(struct ioptdesc *iopt)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_pages_put_desc, iopt);
	kfree(iopt);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_put_desc);

/*
 * A descriptor for a new table; @tag receives the type bits of its page
 * word, which say where it came from (the cache is looked up once, so the
 * two cannot disagree).
 */
static struct ioptdesc *iommu_pages_new_desc(gfp_t gfp, int nid,
					     unsigned long *tag)
{
	/* pairs with the smp_store_release() in iommu_pages_desc_init() */
	struct kmem_cache *cache = smp_load_acquire(&iommu_desc_cache);

	*tag = IOPTDESC_MEMDESC_TYPE | (cache ? 0 : IOPTDESC_MEMDESC_KMALLOC);
	return iommu_pages_alloc_desc(cache, gfp, nid);
}

static unsigned int iommu_pages_desc_kind(unsigned long word)
{
	return word & IOPTDESC_MEMDESC_KMALLOC ? IOMMU_PAGES_DESC_KMALLOC :
						 IOMMU_PAGES_DESC_CACHE;
}

/* Join a new folio and its descriptor: the page word and the back link. */
static void iommu_pages_attach_desc(struct folio *folio, struct ioptdesc *iopt,
				    unsigned long tag)
{
	memset(iopt, 0, sizeof(*iopt));
	iopt->iopt_folio = folio;
	folio->private = (void *)((unsigned long)iopt | tag);
	atomic_long_inc(&iommu_pages_descs[iommu_pages_desc_kind(tag)]);
}

/*
 * Free the descriptor of a folio already back in the page allocator; @word
 * is the page word it had.  NULL (an allocation that failed) is ignored.
 */
static void iommu_pages_free_desc(struct ioptdesc *iopt, unsigned long word)
{
	if (!iopt)
		return;
	if (word)
		atomic_long_dec(&iommu_pages_descs[iommu_pages_desc_kind(word)]);
	iommu_pages_put_desc(iopt);
}

/* The page word of a folio, for iommu_pages_free_desc() after the put. */
static unsigned long iommu_pages_desc_word(struct folio *folio)
{
	return (unsigned long)folio->private;
}

/*
 * The descriptor of memory about to be freed.  With the debug checks the
 * page word is checked first (it is anything on a foreign page); NULL if
 * it leads to no descriptor of this folio (reported).
 */
static struct ioptdesc *iommu_pages_desc_to_free(void *virt)
{
	struct folio *folio = virt_to_folio(virt);
	unsigned long word = (unsigned long)folio->private;
	struct ioptdesc *iopt = (struct ioptdesc *)(word & ~IOPTDESC_MEMDESC_MASK);
	struct folio *back;

	if (!IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		return iopt;
	if (!folio_ref_count(folio)) {
		iommu_pages_report(IOMMU_PAGES_DOUBLE_FREE, virt);
		return NULL;
	}
	/*
	 * The word of a foreign page is anything: follow it only to a slab
	 * object, and read that without trusting it.
	 */
	if ((word & IOPTDESC_MEMDESC_MASK & ~IOPTDESC_MEMDESC_KMALLOC) !=
	    IOPTDESC_MEMDESC_TYPE || !virt_addr_valid(iopt) ||
	    !folio_test_slab(virt_to_folio(iopt)) ||
	    copy_from_kernel_nofault(&back, &iopt->iopt_folio, sizeof(back)) ||
	    back != folio) {
		iommu_pages_report(IOMMU_PAGES_FOREIGN_FREE, virt);
		return NULL;
	}
	return iopt;
}
#else
static inline struct ioptdesc *iommu_pages_new_desc(gfp_t gfp, int nid,
						    unsigned long *tag)
{
	return NULL;
}

static inline void iommu_pages_attach_desc(struct folio *folio,
					   struct ioptdesc *iopt,
					   unsigned long tag)
{
}

static inline void iommu_pages_free_desc(struct ioptdesc *iopt,
					 unsigned long word)
{
}

static inline unsigned long iommu_pages_desc_word(struct folio *folio)
{
	return 0;
}

static inline struct ioptdesc *iommu_pages_desc_to_free(void *virt)
{
	return virt_to_ioptdesc(virt);
}
#endif /* CONFIG_IOMMU_PAGES_SEPARATE_DESC */

static void iommu_pages_poison(void *virt, size_t len)
{
	if (IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		memset(virt, IOMMU_PAGES_POISON, len);
}

#ifdef CONFIG_IOMMU_PAGES_DEBUG
/*
 * A live allocation carries a tag derived from its address in its
 * descriptor; the tag is cleared when the allocation is freed.  No memory
 * is allocated and no lock is taken, so the checks work in any context.
 * The tag is even, so it never looks like a page of fragments.
 */
static unsigned long iommu_pages_tag(const void *virt)
{
	return (unsigned long)virt ^ IOMMU_PAGES_LIVE_TAG;
}

static void iommu_pages_debug_alloc(struct folio *folio)
{
	folio_ioptdesc(folio)->iopt_private =
		iommu_pages_tag(folio_address(folio));
}

/*
 * Returns true if @virt is the start of a live folio allocation; reports
 * and returns false if not.  Memory already back in the page allocator (no
 * references) is a double free; memory without the tag of a live
 * allocation at @virt (never allocated here, or freed, also while it waits
 * for a grace period) is foreign.
 */
static bool iommu_pages_debug_check(void *virt)
{
	struct ioptdesc *iopt;
	struct folio *folio;

	if (offset_in_page(virt)) {
		iommu_pages_report(IOMMU_PAGES_FOREIGN_FREE, virt);
		return false;
	}
	folio = virt_to_folio(virt);
	if (!folio_ref_count(folio)) {
		iommu_pages_report(IOMMU_PAGES_DOUBLE_FREE, virt);
		return false;
	}
	iopt = folio_ioptdesc(folio);
	if (folio_address(folio) != virt ||
	    iopt->iopt_private != iommu_pages_tag(virt)) {
		iommu_pages_report(IOMMU_PAGES_FOREIGN_FREE, virt);
		return false;
	}
	return true;
}

/* As iommu_pages_debug_check(); a live allocation's tag is cleared. */
static bool iommu_pages_debug_free(void *virt)
{
	if (!iommu_pages_debug_check(virt))
		return false;
	virt_to_ioptdesc(virt)->iopt_private = 0;
	return true;
}
#else
static inline void iommu_pages_debug_alloc(struct folio *folio)
{
}

static inline bool iommu_pages_debug_free(void *virt)
{
	return true;
}
#endif

/* Uncount, poison (debug) and free a folio allocation and its descriptor. */
static void iommu_pages_free_folio(struct folio *folio)
{
	struct ioptdesc *iopt = folio_ioptdesc(folio);
	unsigned long word = iommu_pages_desc_word(folio);

	iommu_pages_poison(folio_address(folio), folio_size(folio));
	iommu_pages_account(folio, -folio_nr_pages(folio));
	atomic_set(&iopt->iopt_live, 0);
	iommu_pages_put_folio(folio);
	iommu_pages_free_desc(iopt, word);
}

static void *iommu_pages_alloc_whole(int nid, gfp_t gfp, unsigned int order)
{
	struct ioptdesc *iopt = NULL;
	unsigned long tag = 0;
	struct folio *folio;

	if (IS_ENABLED(CONFIG_IOMMU_PAGES_SEPARATE_DESC)) {
		iopt = iommu_pages_new_desc(gfp, nid, &tag);
		if (unlikely(!iopt))
			return NULL;
	}
	folio = iommu_pages_alloc_folio((gfp & ~__GFP_COMP) | __GFP_ZERO,
					order, nid);
	if (unlikely(!folio)) {
		iommu_pages_free_desc(iopt, 0);
		return NULL;
	}
	iommu_pages_attach_desc(folio, iopt, tag);
	/* as for CPU page tables: kpageflags, dump_page(), unpoison read it */
	__folio_set_pgtable(folio);
	atomic_set(&folio_ioptdesc(folio)->iopt_live, 0);
	iommu_pages_debug_alloc(folio);
	iommu_pages_account(folio, 1L << order);
	return folio_address(folio);
}

/*
 * Fragments.
 *
 * A page of fragments holds PAGE_SIZE >> shift fragments of 1 << shift
 * bytes, at most BITS_PER_LONG, so one word tracks them.  Its descriptor
 * points to a struct iommu_frag_page (allocated with the page, so that no
 * free needs memory), which carries the bitmaps, the one rcu_head of the
 * page and a successor slot per fragment for iommu_pages_list chains: the
 * memory of a fragment cannot hold a link, since the IOMMU or a lockless
 * walker may still read it while it waits on a list.
 *
 * Pools hold the pages that have free fragments, per node, per zone (a
 * GFP_DMA32 caller never gets a fragment of a page outside ZONE_DMA32) and
 * per size; the page goes back to the page allocator as soon as its last
 * fragment is freed.  Pool locks are per pool and interrupt-safe, so
 * allocation and free work in any context.
 *
 * A fragment allocated with __GFP_ACCOUNT in a memcg comes from a page
 * charged to that memcg, whose fragments all belong to it: the page, its
 * tracking and its NR_SECONDARY_PAGETABLE count are the memcg's, as whole
 * tables are, and the memcg's limit bounds them.  The cost is the free
 * space of a memcg's partially used pages, which is charged to it.
 */

/**
 * struct iommu_frag_page - a page cut into fragments of one size
 * @partial: link on @pool's list while the page has a free fragment
 * @rcu: the page's one rcu_head, for fragments freed after a grace period
 * @pool: the pool that hands out the fragments
 * @objcg: the obj_cgroup the page is charged to, or NULL; the page holds
 *	the reference
 * @base: the page
 * @used: fragments allocated, including those waiting for a grace period
 * @rcu_wait: fragments whose grace period is running (@rcu is queued)
 * @rcu_next: fragments freed since, waiting for the next grace period
 * @next: per fragment, its successor on an &struct iommu_pages_list
 */
struct iommu_frag_page {
	struct list_head partial;
	struct rcu_head rcu;
	struct iommu_frag_pool *pool;
	struct obj_cgroup *objcg;
	void *base;
	unsigned long used;
	unsigned long rcu_wait;
	unsigned long rcu_next;
	void *next[];
};

/* Each node's pools, IOMMU_FRAG_NODE_POOLS of them, or another node's. */
static struct iommu_frag_pool **iommu_frag_node_pools __ro_after_init;

#define IOMMU_FRAG_NODE_POOLS (IOMMU_FRAG_ZONES * IOMMU_FRAG_CLASSES)

/* The pool of a zone and fragment size among a node's pools. */
static unsigned int iommu_frag_pool_idx(unsigned int zone, unsigned int shift)
{
	return zone * IOMMU_FRAG_CLASSES + shift - IOMMU_FRAG_MIN_SHIFT;
}

/* KUnit's memory report measures the 6.12 layout (whole pages) with this. */
VISIBLE_IF_KUNIT bool iommu_pages_whole_only;
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_whole_only);

/* Flags for the allocator's own bookkeeping (slab): no zone, no charge. */
static gfp_t iommu_frag_meta_gfp(gfp_t gfp)
{
	return gfp & ~(GFP_ZONEMASK | __GFP_ACCOUNT | __GFP_COMP | __GFP_ZERO);
}

static unsigned int iommu_frag_zone(gfp_t gfp)
{
	if (gfp & __GFP_DMA)
		return IOMMU_FRAG_ZONE_DMA;
	if (gfp & __GFP_DMA32)
		return IOMMU_FRAG_ZONE_DMA32;
	return IOMMU_FRAG_ZONE_NORMAL;
}

static const gfp_t iommu_frag_zone_gfp[IOMMU_FRAG_ZONES] = {
	[IOMMU_FRAG_ZONE_NORMAL] = 0,
	[IOMMU_FRAG_ZONE_DMA32] = __GFP_DMA32,
	[IOMMU_FRAG_ZONE_DMA] = __GFP_DMA,
};

/**
 * iommu_frag_pool_init() - set up an empty pool of fragments
 * @pool: the pool
 * @nid: the node its pages come from
 * @zone: IOMMU_FRAG_ZONE_NORMAL, _DMA32 or _DMA
 * @shift: log2 of the fragment size, IOMMU_FRAG_MIN_SHIFT to PAGE_SHIFT - 1
 */
VISIBLE_IF_KUNIT void iommu_frag_pool_init(struct iommu_frag_pool *pool,
					   int nid, unsigned int zone,
					   unsigned int shift)
{
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->partial);
#ifdef CONFIG_MEMCG
	for (unsigned int i = 0; i < IOMMU_FRAG_MEMCG_BUCKETS; i++)
		INIT_LIST_HEAD(&pool->charged[i]);
#endif
	pool->nid = nid;
	pool->zone_gfp = iommu_frag_zone_gfp[zone];
	pool->shift = shift;
	pool->pages = 0;
	pool->used = 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_frag_pool_init);

/*
 * The node whose pools serve @nid: @nid itself if it has normal memory;
 * for an online node without, the first node with normal memory that its
 * allocations fall back to (as local_memory_node() finds for memoryless
 * nodes); for a node not online at boot, the first node with normal
 * memory.  Fixed at boot: a node that gains memory later (hot-add) keeps
 * allocating its fragments from its home node's pools.
 */
static int __init iommu_frag_home_node(int nid)
{
	struct zoneref *z;

	if (node_state(nid, N_NORMAL_MEMORY))
		return nid;
	if (node_online(nid)) {
		z = first_zones_zonelist(node_zonelist(nid, GFP_KERNEL),
					 ZONE_NORMAL, NULL);
		if (z->zone)
			return zone_to_nid(z->zone);
	}
	return first_node(node_states[N_NORMAL_MEMORY]);
}

/*
 * The pools, set up before the other CPUs start: per node with normal
 * memory, on that node, each pool on cache lines of its own (the struct is
 * cache-line aligned and the block's size a power of two, which kmalloc
 * aligns to its size); a node without normal memory shares its home
 * node's.  Sub-page requests made earlier in boot, or on a node whose
 * pools could not be allocated, get whole pages.
 */
static int __init iommu_frag_pools_init(void)
{
	size_t size = roundup_pow_of_two(IOMMU_FRAG_NODE_POOLS *
					 sizeof(struct iommu_frag_pool));
	struct iommu_frag_pool **node_pools;
	unsigned int z, shift;
	int nid;

	node_pools = kcalloc(nr_node_ids, sizeof(*node_pools), GFP_KERNEL);
	if (!node_pools)
		return -ENOMEM;
	for_each_node_state(nid, N_NORMAL_MEMORY) {
		struct iommu_frag_pool *pools = kzalloc_node(size, GFP_KERNEL,
							     nid);

		if (!pools)
			continue;
		for (z = 0; z < IOMMU_FRAG_ZONES; z++)
			for (shift = IOMMU_FRAG_MIN_SHIFT; shift < PAGE_SHIFT;
			     shift++)
				iommu_frag_pool_init(&pools[iommu_frag_pool_idx(z, shift)],
						     nid, z, shift);
		node_pools[nid] = pools;
	}
	for_each_node(nid)
		if (!node_pools[nid])
			node_pools[nid] = node_pools[iommu_frag_home_node(nid)];
	/* pairs with the READ_ONCE()s: the pools are initialised */
	smp_store_release(&iommu_frag_node_pools, node_pools);
	return 0;
}
early_initcall(iommu_frag_pools_init);

/**
 * iommu_frag_node_pool() - the shared pool of a node, zone and size
 * @nid: a possible node
 * @zone: IOMMU_FRAG_ZONE_NORMAL, _DMA32 or _DMA
 * @shift: log2 of the fragment size, IOMMU_FRAG_MIN_SHIFT to PAGE_SHIFT - 1
 *
 * Return: the pool, or NULL before the pools are set up (or if @nid's
 * could not be allocated).
 */
VISIBLE_IF_KUNIT struct iommu_frag_pool *
iommu_frag_node_pool(int nid, unsigned int zone, unsigned int shift)
{
	/* an address dependency orders the reads of the pools */
	struct iommu_frag_pool **node_pools = READ_ONCE(iommu_frag_node_pools);
	struct iommu_frag_pool *pools;

	if (unlikely(!node_pools))
		return NULL;
	pools = READ_ONCE(node_pools[nid]);
	return pools ? &pools[iommu_frag_pool_idx(zone, shift)] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_frag_node_pool);

static unsigned int iommu_frag_count(struct iommu_frag_pool *pool)
{
	return PAGE_SIZE >> pool->shift;
}

static unsigned long iommu_frag_full(struct iommu_frag_pool *pool)
{
	return GENMASK(iommu_frag_count(pool) - 1, 0);
}

/*
 * Is this the descriptor of a page of fragments?  Foreign memory (a slab
 * page, say) may have the bit set in that word: the debug checks, which
 * must report such frees, also want the magic.
 */
static bool iommu_pages_is_frag(struct ioptdesc *iopt)
{
	if (!(iopt->iopt_private & IOPTDESC_FRAG))
		return false;
	return !IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG) ||
	       iopt->iopt_frag_magic == IOPTDESC_FRAG_MAGIC;
}

static struct iommu_frag_page *iommu_frag_page_of(struct ioptdesc *iopt)
{
	return (struct iommu_frag_page *)(iopt->iopt_private & ~IOPTDESC_FRAG);
}

static unsigned int iommu_frag_index(struct iommu_frag_page *fp, void *virt)
{
	return (virt - fp->base) >> fp->pool->shift;
}

/*
 * The obj_cgroup that @gfp charges in the calling context, the one the page
 * allocator would charge: none without __GFP_ACCOUNT, in the root cgroup,
 * in an interrupt outside set_active_memcg(), or with kmem accounting off.
 */
static struct obj_cgroup *iommu_frag_objcg(gfp_t gfp)
{
#ifdef CONFIG_MEMCG
	if ((gfp & __GFP_ACCOUNT) && memcg_kmem_online())
		return current_obj_cgroup();
#endif
	return NULL;
}

/* The obj_cgroup a new page of fragments was charged to, or NULL. */
static struct obj_cgroup *iommu_frag_page_objcg(void *base)
{
#ifdef CONFIG_MEMCG
	struct folio *folio = virt_to_folio(base);

	if (folio_memcg_kmem(folio))
		return __folio_objcg(folio);
#endif
	return NULL;
}

/* The list of @pool's pages charged to @objcg that have a free fragment. */
static struct list_head *iommu_frag_partial(struct iommu_frag_pool *pool,
					    struct obj_cgroup *objcg)
{
#ifdef CONFIG_MEMCG
	if (objcg)
		return &pool->charged[hash_ptr(objcg,
					       IOMMU_FRAG_MEMCG_HASH_BITS)];
#endif
	return &pool->partial;
}

/*
 * The first page of @pool with a free fragment for @objcg, or NULL; it is
 * moved to the front of its list, for the memcg's next allocation.  Called
 * with the pool lock held.  The search stops after IOMMU_FRAG_MEMCG_SCAN
 * pages of other memcgs that share the list, so the time under the lock
 * stays bounded; a miss costs a new page, charged to the memcg that
 * missed.
 */
static struct iommu_frag_page *
iommu_frag_charged_locked(struct iommu_frag_pool *pool,
			  struct obj_cgroup *objcg)
{
	struct list_head *head = iommu_frag_partial(pool, objcg);
	struct iommu_frag_page *fp;
	unsigned int seen = 0;

	list_for_each_entry(fp, head, partial) {
		if (fp->objcg == objcg) {
			if (seen)
				list_move(&fp->partial, head);
			return fp;
		}
		if (++seen == IOMMU_FRAG_MEMCG_SCAN)
			break;
	}
	return NULL;
}

/*
 * A new page of fragments whose fragment 0 is taken; NULL if memory is
 * short or, for a charged one (@objcg), if the memcg is at its limit.  The
 * page and its tracking are charged together.
 */
static struct iommu_frag_page *iommu_frag_new_page(struct iommu_frag_pool *pool,
						   gfp_t gfp,
						   struct obj_cgroup *objcg)
{
	gfp_t charge = objcg ? __GFP_ACCOUNT : 0;
	unsigned int n = iommu_frag_count(pool);
	struct iommu_frag_page *fp;
	struct ioptdesc *iopt;
	unsigned long flags;
	void *base;

	fp = kmalloc_node(struct_size(fp, next, n),
			  iommu_frag_meta_gfp(gfp) | charge, pool->nid);
	if (!fp)
		return NULL;
	base = iommu_pages_alloc_whole(pool->nid, (gfp & ~GFP_ZONEMASK &
						   ~__GFP_ACCOUNT) |
				       pool->zone_gfp | charge, 0);
	if (!base) {
		kfree(fp);
		return NULL;
	}
	fp->pool = pool;
	/* the page allocator's charge, which a task's migration can change */
	fp->objcg = objcg ? iommu_frag_page_objcg(base) : NULL;
	fp->base = base;
	fp->used = BIT(0);
	fp->rcu_wait = 0;
	fp->rcu_next = 0;
	INIT_LIST_HEAD(&fp->partial);
	/* for KASAN the free fragments are freed memory */
	kasan_poison_range(base + BIT(pool->shift),
			   PAGE_SIZE - BIT(pool->shift));
	iopt = virt_to_ioptdesc(base);
	iopt->iopt_frag_magic = IOPTDESC_FRAG_MAGIC;
	iopt->iopt_private = (unsigned long)fp | IOPTDESC_FRAG;
	spin_lock_irqsave(&pool->lock, flags);
	pool->pages++;
	pool->used++;
	if (n > 1)
		list_add(&fp->partial, iommu_frag_partial(pool, fp->objcg));
	spin_unlock_irqrestore(&pool->lock, flags);
	return fp;
}

/**
 * iommu_frag_alloc() - allocate a zeroed fragment from a pool
 * @pool: the pool; its fragment size is the allocation's size and alignment
 * @gfp: allocation flags for a new page; the zone is the pool's, and
 *	__GFP_ACCOUNT takes the fragment from a page charged to the caller's
 *	memcg
 *
 * Return: the fragment, or NULL if memory is short or the memcg is at its
 * limit.
 */
VISIBLE_IF_KUNIT void *iommu_frag_alloc(struct iommu_frag_pool *pool,
					gfp_t gfp)
{
	struct obj_cgroup *objcg = iommu_frag_objcg(gfp);
	struct iommu_frag_page *fp;
	unsigned long flags;
	unsigned int i;
	void *virt;

	spin_lock_irqsave(&pool->lock, flags);
	/* the uncharged list holds uncharged pages only */
	if (likely(!objcg))
		fp = list_first_entry_or_null(&pool->partial,
					      struct iommu_frag_page, partial);
	else
		fp = iommu_frag_charged_locked(pool, objcg);
	if (fp) {
		i = ffz(fp->used);
		__set_bit(i, &fp->used);
		pool->used++;
		if (fp->used == iommu_frag_full(pool))
			list_del_init(&fp->partial);
	}
	spin_unlock_irqrestore(&pool->lock, flags);

	if (!fp) {
		fp = iommu_frag_new_page(pool, gfp, objcg);
		/* a new page comes zeroed from the page allocator */
		return fp ? fp->base : NULL;
	}
	virt = fp->base + (i << pool->shift);
	kasan_unpoison_range(virt, BIT(pool->shift));
	memset(virt, 0, BIT(pool->shift));
	return virt;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_frag_alloc);

#if IS_ENABLED(CONFIG_IOMMU_DEBUGFS) || IS_ENABLED(CONFIG_KUNIT)
/**
 * iommu_frag_pool_counts() - what a pool holds, at one instant
 * @pool: the pool
 * @pages: set to the pages of fragments it holds
 * @used: set to their fragments that are not free (allocated, or freed and
 *	waiting for a grace period)
 */
VISIBLE_IF_KUNIT void iommu_frag_pool_counts(struct iommu_frag_pool *pool,
					     unsigned long *pages,
					     unsigned long *used)
{
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	*pages = pool->pages;
	*used = pool->used;
	spin_unlock_irqrestore(&pool->lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_frag_pool_counts);
#endif

/* The page has no fragment left: free it and its tracking. */
static void iommu_frag_release(struct iommu_frag_page *fp)
{
	struct folio *folio = virt_to_folio(fp->base);

	folio_ioptdesc(folio)->iopt_private = 0;
	folio_ioptdesc(folio)->iopt_frag_magic = 0;
	/* the page allocator takes the page back whole */
	kasan_unpoison_range(fp->base, PAGE_SIZE);
	iommu_pages_free_folio(folio);
	kfree(fp);
}

/*
 * Fragments @bits are free again: poisoned (debug), and freed memory for
 * KASAN, so that an access before the next allocation is reported.  Called
 * with the pool lock held; returns true if the page is now empty and the
 * caller must release it.
 */
static bool iommu_frag_put_locked(struct iommu_frag_page *fp,
				  unsigned long bits)
{
	size_t size = BIT(fp->pool->shift);
	unsigned int i;

	if (IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG) || IS_ENABLED(CONFIG_KASAN))
		for_each_set_bit(i, &bits, BITS_PER_LONG) {
			iommu_pages_poison(fp->base + i * size, size);
			kasan_poison_range(fp->base + i * size, size);
		}
	fp->used &= ~bits;
	fp->pool->used -= hweight_long(bits);
	if (!fp->used && !fp->rcu_wait) {
		list_del_init(&fp->partial);
		fp->pool->pages--;
		return true;
	}
	if (list_empty(&fp->partial))
		list_add(&fp->partial, iommu_frag_partial(fp->pool, fp->objcg));
	return false;
}

/*
 * Check a fragment before it is freed: the address must be the start of a
 * live fragment that is not already waiting for a grace period.  Called
 * with the pool lock held; returns the fragment's bit, or 0 with @what set
 * to the misuse, which the caller reports once the lock is dropped (a
 * report prints a stack and must not hold up the pool's other users).
 */
static unsigned long iommu_frag_check_locked(struct iommu_frag_page *fp,
					     void *virt,
					     enum iommu_pages_misuse *what)
{
	unsigned long bit = BIT(iommu_frag_index(fp, virt));

	if (!IS_ALIGNED((unsigned long)virt, BIT(fp->pool->shift))) {
		*what = IOMMU_PAGES_FOREIGN_FREE;
		return 0;
	}
	if (!(fp->used & bit) || ((fp->rcu_wait | fp->rcu_next) & bit)) {
		*what = IOMMU_PAGES_DOUBLE_FREE;
		return 0;
	}
	return bit;
}

static void iommu_frag_rcu_cb(struct rcu_head *head)
{
	struct iommu_frag_page *fp = container_of(head, struct iommu_frag_page,
						  rcu);
	struct iommu_frag_pool *pool = fp->pool;
	unsigned long flags, done;
	bool release, again;

	spin_lock_irqsave(&pool->lock, flags);
	done = fp->rcu_wait;
	fp->rcu_wait = fp->rcu_next;
	fp->rcu_next = 0;
	again = fp->rcu_wait;
	release = iommu_frag_put_locked(fp, done);
	spin_unlock_irqrestore(&pool->lock, flags);
	if (again)
		call_rcu(&fp->rcu, iommu_frag_rcu_cb);
	else if (release)
		iommu_frag_release(fp);
}

/*
 * Free a fragment, at once or (@rcu) after a grace period.  The page's one
 * rcu_head serves every fragment: fragments freed while its callback is
 * queued wait for the next grace period, which the callback then starts.
 */
static void iommu_frag_free(struct iommu_frag_page *fp, void *virt, bool rcu)
{
	struct iommu_frag_pool *pool = fp->pool;
	bool release = false, queue = false;
	enum iommu_pages_misuse what;
	unsigned long flags, bit;

	spin_lock_irqsave(&pool->lock, flags);
	bit = iommu_frag_check_locked(fp, virt, &what);
	if (bit && !rcu) {
		release = iommu_frag_put_locked(fp, bit);
	} else if (bit && !fp->rcu_wait) {
		fp->rcu_wait = bit;
		queue = true;
	} else if (bit) {
		fp->rcu_next |= bit;
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	if (!bit)
		iommu_pages_report(what, virt);
	if (queue)
		call_rcu(&fp->rcu, iommu_frag_rcu_cb);
	if (release)
		iommu_frag_release(fp);
}

/* The successor slot of a fragment on a list. */
static void **iommu_frag_slot(void *virt)
{
	struct iommu_frag_page *fp = iommu_frag_page_of(virt_to_ioptdesc(virt));

	return &fp->next[iommu_frag_index(fp, virt)];
}

/* Chain the fragments @first..@last at the tail of @list. */
static void iommu_frag_chain_append(struct iommu_pages_list *list,
				    void *first, void *last)
{
	if (list->frags_tail)
		*iommu_frag_slot(list->frags_tail) = first;
	else
		list->frags = first;
	list->frags_tail = last;
}

/**
 * iommu_pages_list_add_frag() - put a fragment on a list
 * @list: the list
 * @virt: a fragment from iommu_alloc_pages_node_sz()
 *
 * The out-of-line part of iommu_pages_list_add(): the fragment is chained
 * through its slot in the page's tracking, never through its own memory.
 */
void iommu_pages_list_add_frag(struct iommu_pages_list *list, void *virt)
{
	*iommu_frag_slot(virt) = NULL;
	iommu_frag_chain_append(list, virt, virt);
}
EXPORT_SYMBOL_GPL(iommu_pages_list_add_frag);

/**
 * iommu_pages_list_splice_frags() - move the fragments of one list to another
 * @from: the list whose fragment chain moves; left without fragments
 * @to: the list that receives them at its tail
 *
 * The out-of-line part of iommu_pages_list_splice().
 */
void iommu_pages_list_splice_frags(struct iommu_pages_list *from,
				   struct iommu_pages_list *to)
{
	if (!from->frags)
		return;
	iommu_frag_chain_append(to, from->frags, from->frags_tail);
	from->frags = NULL;
	from->frags_tail = NULL;
}
EXPORT_SYMBOL_GPL(iommu_pages_list_splice_frags);

static struct iommu_frag_pool *iommu_frag_pool_for(int nid, gfp_t gfp,
						   size_t size)
{
	unsigned int shift = max_t(unsigned int, IOMMU_FRAG_MIN_SHIFT,
				   order_base_2(size));

	return iommu_frag_node_pool(nid, iommu_frag_zone(gfp), shift);
}

/**
 * iommu_alloc_pages_node_sz() - allocate zeroed page-table memory
 * @nid: a possible memory node, or NUMA_NO_NODE for the node of the
 *	calling CPU
 * @gfp: allocation flags; __GFP_HIGHMEM is refused, __GFP_ACCOUNT charges
 *	the caller's memcg (for fragments, see below), __GFP_DMA,
 *	__GFP_DMA32 and GFP_ATOMIC work as usual
 * @size: bytes wanted, from 1 to PAGE_SIZE << MAX_PAGE_ORDER
 *
 * The memory is physically contiguous, zeroed and aligned to @size rounded
 * up to a power of two.  Up to PAGE_SIZE / 2 it is a fragment of a page
 * shared with allocations of the same rounded size, node and zone, at
 * least IOMMU_FRAG_MIN bytes (64 with 4 KiB pages); such a page is counted
 * while it holds a fragment.  With __GFP_ACCOUNT the page is charged to the
 * caller's memcg and shared only with that memcg's fragments.  Everything
 * is counted in NR_IOMMU_PAGES and NR_SECONDARY_PAGETABLE until it is freed
 * with iommu_free_pages(), iommu_free_pages_rcu() or through an &struct
 * iommu_pages_list; none needs the size again.
 *
 * Return: the virtual address of the memory, or NULL if @nid, @size or
 * @gfp is invalid or memory is short.
 */
void *iommu_alloc_pages_node_sz(int nid, gfp_t gfp, size_t size)
{
	if (unlikely(gfp & __GFP_HIGHMEM)) {
		iommu_pages_report(IOMMU_PAGES_BAD_GFP, NULL);
		return NULL;
	}
	if (unlikely(!size || size > (PAGE_SIZE << MAX_PAGE_ORDER)))
		return NULL;
	if (nid == NUMA_NO_NODE)
		nid = numa_mem_id();
	else if (unlikely((unsigned int)nid >= nr_node_ids ||
			  !node_possible(nid)))
		return NULL;
	if (size <= PAGE_SIZE / 2 && !iommu_pages_whole_only) {
		struct iommu_frag_pool *pool = iommu_frag_pool_for(nid, gfp,
								   size);

		if (likely(pool))
			return iommu_frag_alloc(pool, gfp);
	}
	return iommu_pages_alloc_whole(nid, gfp, get_order(size));
}
EXPORT_SYMBOL_GPL(iommu_alloc_pages_node_sz);

/*
 * After a grace period: free a folio allocation, and with it the ring of
 * others that iommu_put_pages_list_rcu() hung on it.
 */
static void iommu_pages_rcu_cb(struct rcu_head *head)
{
	struct ioptdesc *iopt = container_of(head, struct ioptdesc, iopt_rcu);
	struct list_head *first = iopt->iopt_rcu_rest, *p, *next;
	u64 t0 = iommu_pages_bench_start();

	iopt->iopt_rcu_rest = NULL;
	iommu_pages_free_folio(ioptdesc_folio(iopt));
	if (first) {
		p = first;
		do {
			struct ioptdesc *d = list_entry(p, struct ioptdesc,
							iopt_freelist_elm);

			next = p->next;
			iommu_pages_free_folio(ioptdesc_folio(d));
			p = next;
		} while (p != first);
	}
	iommu_pages_bench_end(t0, IOMMU_PAGES_BENCH_RCU_CB);
}

#ifdef CONFIG_IOMMU_PAGES_DEBUG
/**
 * iommu_pages_list_add_check() - debug check of memory put on a list
 * @virt: what iommu_pages_list_add() was given
 *
 * With CONFIG_IOMMU_PAGES_DEBUG iommu_pages_list_add() asks this first, as
 * a free would: memory that is not a live iommu-pages allocation is
 * reported and stays off the list.  That includes a table freed with
 * iommu_free_pages_rcu() whose grace period is still running, whose
 * rcu_head the list link would overwrite.  A fragment passes: its link is
 * a slot of its page's tracking, and its free checks it.
 *
 * Return: true if @virt may go on a list.
 */
bool iommu_pages_list_add_check(void *virt)
{
	struct ioptdesc *iopt;

	if (!virt_addr_valid(virt)) {
		iommu_pages_report(IOMMU_PAGES_FOREIGN_FREE, virt);
		return false;
	}
	iopt = iommu_pages_desc_to_free(virt);
	/* a separate descriptor's word was checked, and may lead nowhere */
	if (IS_ENABLED(CONFIG_IOMMU_PAGES_SEPARATE_DESC) && !iopt)
		return false;
	return iommu_pages_is_frag(iopt) || iommu_pages_debug_check(virt);
}
EXPORT_SYMBOL_GPL(iommu_pages_list_add_check);
#endif

/* Both frees: the checks, then at once or (@rcu) after a grace period. */
static void __iommu_free_pages(void *virt, bool rcu)
{
	struct ioptdesc *iopt;

	if (!virt)
		return;
	if (IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG) && !virt_addr_valid(virt)) {
		iommu_pages_report(IOMMU_PAGES_FOREIGN_FREE, virt);
		return;
	}
	iopt = iommu_pages_desc_to_free(virt);
	/* only the debug checks of separate descriptors find none */
	if (IS_ENABLED(CONFIG_IOMMU_PAGES_SEPARATE_DESC) &&
	    IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG) && !iopt)
		return;
	if (iommu_pages_is_frag(iopt)) {
		iommu_frag_free(iommu_frag_page_of(iopt), virt, rcu);
		return;
	}
	if (!iommu_pages_debug_free(virt))
		return;
	if (rcu) {
		iopt->iopt_rcu_rest = NULL;
		call_rcu(&iopt->iopt_rcu, iommu_pages_rcu_cb);
	} else {
		iommu_pages_free_folio(ioptdesc_folio(iopt));
	}
}

/**
 * iommu_free_pages() - free page-table memory
 * @virt: what iommu_alloc_pages_node_sz() returned, or NULL (nothing done)
 *
 * Frees the whole allocation and uncounts it.  The caller must make sure
 * the IOMMU no longer walks it (unlink and flush the IOTLB first, or
 * collect it on an &struct iommu_pages_list and free that after the flush).
 * A CPU walking the table without a lock needs iommu_free_pages_rcu().
 */
void iommu_free_pages(void *virt)
{
	__iommu_free_pages(virt, false);
}
EXPORT_SYMBOL_GPL(iommu_free_pages);

/**
 * iommu_free_pages_rcu() - free page-table memory after an RCU grace period
 * @virt: what iommu_alloc_pages_node_sz() returned, or NULL (nothing done)
 *
 * As iommu_free_pages(), but the memory stays readable until every CPU
 * that was inside rcu_read_lock() when this was called has left it: for
 * tables that CPU code walks without the table lock (iova_to_phys, debugfs
 * dumps).  The counters drop when the memory is really freed.  Never
 * allocates; safe in atomic context.
 */
void iommu_free_pages_rcu(void *virt)
{
	__iommu_free_pages(virt, true);
}
EXPORT_SYMBOL_GPL(iommu_free_pages_rcu);

/**
 * iommu_pages_footprint() - the memory one live allocation takes
 * @virt: what iommu_alloc_pages_node_sz() returned, not freed yet (or
 *	freed with iommu_free_pages_rcu() or an RCU list put while the caller
 *	has been inside rcu_read_lock() since before the free)
 * @pages: set to the pages of a whole allocation, 0 for a fragment
 *
 * For reports: a whole allocation takes its folio, a fragment its size of a
 * page shared with others (the fragment pools count those pages).
 *
 * Return: the bytes @virt's allocation takes.
 */
size_t iommu_pages_footprint(void *virt, unsigned long *pages)
{
	struct ioptdesc *iopt = virt_to_ioptdesc(virt);

	if (iommu_pages_is_frag(iopt)) {
		*pages = 0;
		return BIT(iommu_frag_page_of(iopt)->pool->shift);
	}
	*pages = folio_nr_pages(ioptdesc_folio(iopt));
	return *pages << PAGE_SHIFT;
}
EXPORT_SYMBOL_GPL(iommu_pages_footprint);

#ifdef CONFIG_IOMMU_PAGES_DEBUG
/*
 * Debug: a fragment freed from a list must still be in a page of
 * fragments.  If it was freed on its own before, its page may have gone
 * back with it, and with the page's tracking the rest of the chain: that
 * is reported, and the caller follows the chain no further (what is
 * behind it leaks rather than being read from freed memory).
 */
static bool iommu_frag_list_check(void *frag)
{
	struct ioptdesc *iopt;

	if (!virt_addr_valid(frag)) {
		iommu_pages_report(IOMMU_PAGES_FOREIGN_FREE, frag);
		return false;
	}
	if (!folio_ref_count(virt_to_folio(frag))) {
		iommu_pages_report(IOMMU_PAGES_DOUBLE_FREE, frag);
		return false;
	}
	iopt = iommu_pages_desc_to_free(frag);
	/* a separate descriptor's word was checked, and may lead nowhere */
	if (IS_ENABLED(CONFIG_IOMMU_PAGES_SEPARATE_DESC) && !iopt)
		return false;
	if (!iommu_pages_is_frag(iopt)) {
		iommu_pages_report(IOMMU_PAGES_DOUBLE_FREE, frag);
		return false;
	}
	return true;
}
#else
static inline bool iommu_frag_list_check(void *frag)
{
	return true;
}
#endif

/* Free every fragment chained on @list, at once or (@rcu) later. */
static void iommu_pages_list_free_frags(struct iommu_pages_list *list,
					bool rcu)
{
	void *frag, *next;

	for (frag = list->frags; frag; frag = next) {
		if (!iommu_frag_list_check(frag))
			break;
		next = *iommu_frag_slot(frag);
		__iommu_free_pages(frag, rcu);
	}
	list->frags = NULL;
	list->frags_tail = NULL;
}

/* Debug: drop from @list what may not be freed (reported). */
static void iommu_pages_list_check(struct iommu_pages_list *list)
{
	struct ioptdesc *iopt, *tmp;

	if (!IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		return;
	list_for_each_entry_safe(iopt, tmp, &list->pages, iopt_freelist_elm)
		if (!iommu_pages_debug_free(ioptdesc_address(iopt)))
			list_del(&iopt->iopt_freelist_elm);
}

/*
 * Free up to IOMMU_PAGES_BATCH folios from the head of @pages.  Uncount,
 * while every folio is still alive, each run of folios that share a node
 * and a memcg in one update, with interrupts off (a charged folio's memcg
 * is looked up under RCU); then free them with interrupts on.
 */
static void iommu_pages_put_batch(struct list_head *pages)
{
	struct ioptdesc *iopt, *tmp;
	struct folio *run = NULL;
	unsigned int n = 0;
	unsigned long flags;
	long count = 0;
	u64 t0;

	local_irq_save(flags);
	t0 = iommu_pages_bench_start();
	rcu_read_lock();
	list_for_each_entry(iopt, pages, iopt_freelist_elm) {
		struct folio *folio = ioptdesc_folio(iopt);

		if (n == IOMMU_PAGES_BATCH)
			break;
		n++;
		if (run && (folio_pgdat(folio) != folio_pgdat(run) ||
			    folio_memcg(folio) != folio_memcg(run))) {
			__iommu_pages_account(run, -count);
			count = 0;
		}
		run = folio;
		count += folio_nr_pages(folio);
	}
	if (run)
		__iommu_pages_account(run, -count);
	rcu_read_unlock();
	iommu_pages_bench_end(t0, IOMMU_PAGES_BENCH_IRQ_OFF);
	local_irq_restore(flags);

	list_for_each_entry_safe(iopt, tmp, pages, iopt_freelist_elm) {
		struct folio *folio;
		unsigned long word;

		if (!n--)
			break;
		folio = ioptdesc_folio(iopt);
		word = iommu_pages_desc_word(folio);
		list_del(&iopt->iopt_freelist_elm);
		iommu_pages_poison(folio_address(folio), folio_size(folio));
		atomic_set(&iopt->iopt_live, 0);
		iommu_pages_put_folio(folio);
		iommu_pages_free_desc(iopt, word);
	}
}

/**
 * iommu_put_pages_list() - free every allocation on a list
 * @list: allocations added with iommu_pages_list_add(), of any sizes
 *
 * The list is empty afterwards.  As with iommu_free_pages(), the IOMMU must
 * no longer walk any of the memory.  Interrupts are disabled for at most
 * one batch of IOMMU_PAGES_BATCH folios at a time, however long the list.
 */
void iommu_put_pages_list(struct iommu_pages_list *list)
{
	iommu_pages_list_free_frags(list, false);

	iommu_pages_list_check(list);
	while (!list_empty(&list->pages))
		iommu_pages_put_batch(&list->pages);
}
EXPORT_SYMBOL_GPL(iommu_put_pages_list);

/*
 * Queue up to IOMMU_PAGES_BATCH folios from the head of @pages for one RCU
 * callback: the first leads with its rcu_head, the others stay linked in a
 * ring without a head, which the callback frees with it.
 */
static void iommu_pages_queue_batch(struct list_head *pages)
{
	struct ioptdesc *leader = list_first_entry(pages, struct ioptdesc,
						   iopt_freelist_elm);
	struct list_head *last = &leader->iopt_freelist_elm;
	LIST_HEAD(ring);
	unsigned int n;

	for (n = 1; n < IOMMU_PAGES_BATCH && last->next != pages; n++)
		last = last->next;
	list_cut_position(&ring, pages, last);
	list_del(&leader->iopt_freelist_elm);
	leader->iopt_rcu_rest = list_empty(&ring) ? NULL : ring.next;
	list_del_init(&ring);
	call_rcu(&leader->iopt_rcu, iommu_pages_rcu_cb);
}

/**
 * iommu_put_pages_list_rcu() - free every allocation on a list after a
 *	grace period
 * @list: allocations added with iommu_pages_list_add(), of any sizes
 *
 * As iommu_put_pages_list(), with the guarantee of iommu_free_pages_rcu():
 * the list is empty afterwards, the memory is freed, and the counters
 * drop, only after an RCU grace period.  The folio allocations take one
 * rcu_head per IOMMU_PAGES_BATCH of them (that of the first of each
 * batch), so that no callback frees more than a batch; each page of
 * fragments uses its own.  Never allocates; safe in atomic context.
 */
void iommu_put_pages_list_rcu(struct iommu_pages_list *list)
{
	iommu_pages_list_free_frags(list, true);

	iommu_pages_list_check(list);
	while (!list_empty(&list->pages))
		iommu_pages_queue_batch(&list->pages);
}
EXPORT_SYMBOL_GPL(iommu_put_pages_list_rcu);

#if IS_ENABLED(CONFIG_IOMMU_DEBUGFS) || IS_ENABLED(CONFIG_KUNIT)
static const char * const iommu_frag_zone_name[IOMMU_FRAG_ZONES] = {
	[IOMMU_FRAG_ZONE_NORMAL] = "normal",
	[IOMMU_FRAG_ZONE_DMA32] = "dma32",
	[IOMMU_FRAG_ZONE_DMA] = "dma",
};

/*
 * One node's own pools (none for a node that shares another's), each read
 * under its lock, into @snap (pages, used per pool, in
 * iommu_frag_pool_idx() order); returns their pages in all.
 */
static unsigned long iommu_frag_node_snap(int nid, unsigned long (*snap)[2])
{
	struct iommu_frag_pool *pools = iommu_frag_node_pool(nid, 0,
							     IOMMU_FRAG_MIN_SHIFT);
	unsigned long total = 0;
	unsigned int i;

	if (pools && pools->nid != nid)
		pools = NULL;
	for (i = 0; i < IOMMU_FRAG_NODE_POOLS; i++) {
		snap[i][0] = 0;
		snap[i][1] = 0;
		if (pools)
			iommu_frag_pool_counts(&pools[i], &snap[i][0],
					       &snap[i][1]);
		total += snap[i][0];
	}
	return total;
}

/**
 * iommu_pages_show() - the report of /sys/kernel/debug/iommu/pages
 * @m: where it goes
 * @unused: unused
 *
 * Per node: NR_IOMMU_PAGES with every CPU's pending diff, how many of those
 * pages are cut into fragments and how many are whole allocations; then
 * per fragment pool (node, zone, fragment size) that holds a page: its
 * pages, their fragments in use (including those waiting for a grace
 * period) and free.  Both tables print one reading of each node's pools;
 * the counter is read apart from it, so under concurrent allocation the
 * two may differ by what changed in between.
 *
 * Return: 0, or -ENOMEM.
 */
VISIBLE_IF_KUNIT int iommu_pages_show(struct seq_file *m, void *unused)
{
	unsigned long (*snap)[IOMMU_FRAG_NODE_POOLS][2];
	unsigned int z, shift, i;
	int nid;

	snap = kcalloc(nr_node_ids, sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	seq_puts(m, "node  nr_iommu_pages  in_fragments      whole\n");
	for_each_online_node(nid) {
		long nr = iommu_pages_node_stat_exact(nid, NR_IOMMU_PAGES);
		unsigned long frag = iommu_frag_node_snap(nid, snap[nid]);

		seq_printf(m, "%4d  %14ld  %12lu  %9ld\n", nid, nr, frag,
			   nr - (long)frag);
	}
	seq_puts(m, "\nnode  zone     size  pages       used       free\n");
	for_each_online_node(nid) {
		for (z = 0; z < IOMMU_FRAG_ZONES; z++) {
			for (shift = IOMMU_FRAG_MIN_SHIFT; shift < PAGE_SHIFT;
			     shift++) {
				unsigned long pages, used;

				i = iommu_frag_pool_idx(z, shift);
				pages = snap[nid][i][0];
				used = snap[nid][i][1];
				if (!pages)
					continue;
				seq_printf(m, "%4d  %-6s  %5lu  %5lu  %9lu  %9lu\n",
					   nid, iommu_frag_zone_name[z],
					   BIT(shift), pages, used,
					   (pages << (PAGE_SHIFT - shift)) - used);
			}
		}
	}
	kfree(snap);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_show);
#endif

#ifdef CONFIG_IOMMU_DEBUGFS
DEFINE_SHOW_ATTRIBUTE(iommu_pages);

static int __init iommu_pages_debugfs_init(void)
{
	debugfs_create_file("pages", 0444, iommu_debugfs_dir, NULL,
			    &iommu_pages_fops);
	return 0;
}

/* after iommu_init() made iommu_debugfs_dir, a core_initcall */
late_initcall(iommu_pages_debugfs_init);
#endif
