// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU page-table memory: allocation, accounting and freeing.
 *
 * Every allocation is a zeroed folio; its head page is a struct ioptdesc.
 * NR_IOMMU_PAGES (per node) and NR_SECONDARY_PAGETABLE (through the lruvec,
 * so a memcg charged with __GFP_ACCOUNT sees it) follow every folio from
 * allocation to free.
 */
#define pr_fmt(fmt) "iommu-pages: " fmt

#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/gfp.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
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

/* The one call into the page allocator; KUnit injects failures here. */
VISIBLE_IF_KUNIT struct folio *
iommu_pages_alloc_folio(gfp_t gfp, unsigned int order, int nid)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_pages_alloc_folio, gfp, order, nid);
	return __folio_alloc_node(gfp, order, nid);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_pages_alloc_folio);

/* The one return to the page allocator; KUnit checks the poison here. */
VISIBLE_IF_KUNIT void iommu_pages_put_folio(struct folio *folio)
{
	KUNIT_STATIC_STUB_REDIRECT(iommu_pages_put_folio, folio);
	folio_put(folio);
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

#ifdef CONFIG_IOMMU_PAGES_DEBUG
/*
 * A live allocation carries a tag derived from its address in its
 * descriptor; the tag is cleared when the allocation is freed.  No memory
 * is allocated and no lock is taken, so the checks work in any context.
 */
static unsigned long iommu_pages_tag(const void *virt)
{
	return (unsigned long)virt ^ IOMMU_PAGES_LIVE_TAG;
}

static void iommu_pages_debug_alloc(struct folio *folio)
{
	folio_ioptdesc(folio)->iopt_debug = iommu_pages_tag(folio_address(folio));
}

/*
 * Returns true if @virt may be freed; reports and returns false if not.
 * Memory already back in the page allocator (no references) is a double
 * free; memory without the tag of a live allocation at @virt is foreign.
 */
static bool iommu_pages_debug_free(void *virt)
{
	struct ioptdesc *iopt;
	struct folio *folio;

	if (offset_in_page(virt) || !virt_addr_valid(virt)) {
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
	    iopt->iopt_debug != iommu_pages_tag(virt)) {
		iommu_pages_report(IOMMU_PAGES_FOREIGN_FREE, virt);
		return false;
	}
	iopt->iopt_debug = 0;
	memset(virt, IOMMU_PAGES_POISON, folio_size(folio));
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

/**
 * iommu_alloc_pages_node_sz() - allocate zeroed page-table memory
 * @nid: memory node, or NUMA_NO_NODE for the node of the calling CPU
 * @gfp: allocation flags; __GFP_HIGHMEM is refused, __GFP_ACCOUNT charges
 *	the caller's memcg, __GFP_DMA32 and GFP_ATOMIC work as usual
 * @size: bytes wanted, from 1 to PAGE_SIZE << MAX_PAGE_ORDER
 *
 * The memory is physically contiguous, zeroed and aligned to @size rounded
 * up to a power of two (at least PAGE_SIZE).  It is counted in
 * NR_IOMMU_PAGES and NR_SECONDARY_PAGETABLE until it is freed with
 * iommu_free_pages() or through an &struct iommu_pages_list; neither needs
 * the size again.
 *
 * Return: the virtual address of the memory, or NULL if @size or @gfp is
 * invalid or memory is short.
 */
void *iommu_alloc_pages_node_sz(int nid, gfp_t gfp, size_t size)
{
	struct folio *folio;
	unsigned int order;

	if (unlikely(gfp & __GFP_HIGHMEM)) {
		iommu_pages_report(IOMMU_PAGES_BAD_GFP, NULL);
		return NULL;
	}
	if (unlikely(!size || size > (PAGE_SIZE << MAX_PAGE_ORDER)))
		return NULL;
	order = get_order(size);
	if (nid == NUMA_NO_NODE)
		nid = numa_mem_id();

	folio = iommu_pages_alloc_folio((gfp & ~__GFP_COMP) | __GFP_ZERO,
					order, nid);
	if (unlikely(!folio))
		return NULL;
	iommu_pages_debug_alloc(folio);
	iommu_pages_account(folio, 1L << order);
	return folio_address(folio);
}
EXPORT_SYMBOL_GPL(iommu_alloc_pages_node_sz);

/**
 * iommu_free_pages() - free page-table memory
 * @virt: what iommu_alloc_pages_node_sz() returned, or NULL (nothing done)
 *
 * Frees the whole allocation and uncounts it.  The caller must make sure
 * the IOMMU no longer walks it (unlink and flush the IOTLB first, or
 * collect it on an &struct iommu_pages_list and free that after the flush).
 */
void iommu_free_pages(void *virt)
{
	struct folio *folio;

	if (!virt || !iommu_pages_debug_free(virt))
		return;
	folio = virt_to_folio(virt);
	iommu_pages_account(folio, -folio_nr_pages(folio));
	iommu_pages_put_folio(folio);
}
EXPORT_SYMBOL_GPL(iommu_free_pages);

/**
 * iommu_put_pages_list() - free every allocation on a list
 * @list: allocations added with iommu_pages_list_add(), of any sizes
 *
 * The list is empty afterwards.  As with iommu_free_pages(), the IOMMU must
 * no longer walk any of the memory.
 */
void iommu_put_pages_list(struct iommu_pages_list *list)
{
	struct ioptdesc *iopt, *tmp;
	struct folio *run = NULL;
	unsigned long flags;
	long pages = 0;

	/* Misuse is dropped from the list, with interrupts still enabled. */
	if (IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		list_for_each_entry_safe(iopt, tmp, &list->pages,
					 iopt_freelist_elm)
			if (!iommu_pages_debug_free(ioptdesc_address(iopt)))
				list_del(&iopt->iopt_freelist_elm);

	/*
	 * Uncount, while every folio is still alive, each run of folios that
	 * share a node and a memcg in one update; then free.  A charged
	 * folio's memcg is looked up under RCU.
	 */
	local_irq_save(flags);
	rcu_read_lock();
	list_for_each_entry(iopt, &list->pages, iopt_freelist_elm) {
		struct folio *folio = ioptdesc_folio(iopt);

		if (run && (folio_pgdat(folio) != folio_pgdat(run) ||
			    folio_memcg(folio) != folio_memcg(run))) {
			__iommu_pages_account(run, -pages);
			pages = 0;
		}
		run = folio;
		pages += folio_nr_pages(folio);
	}
	if (run)
		__iommu_pages_account(run, -pages);
	rcu_read_unlock();
	local_irq_restore(flags);

	list_for_each_entry_safe(iopt, tmp, &list->pages, iopt_freelist_elm) {
		list_del(&iopt->iopt_freelist_elm);
		iommu_pages_put_folio(ioptdesc_folio(iopt));
	}
}
EXPORT_SYMBOL_GPL(iommu_put_pages_list);
