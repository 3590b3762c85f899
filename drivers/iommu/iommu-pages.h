/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IOMMU page-table memory: allocation, accounting and freeing.
 *
 * Drivers see only virtual addresses and sizes in bytes; the descriptor
 * below is private to the allocator and to these helpers.
 */

#ifndef __IOMMU_PAGES_H
#define __IOMMU_PAGES_H

#include <linux/iommu.h>
#include <linux/mm.h>

/**
 * struct ioptdesc - descriptor of one IOMMU page-table allocation
 * @__page_flags: overlays &struct page.flags; owned by the page allocator.
 * @iopt_freelist_elm: link on a &struct iommu_pages_list; overlays
 *	&struct page.lru.  A list link is always even, so on a head page it
 *	never looks like a tail page's compound_head.
 * @iopt_rcu: the rcu_head of an allocation freed after a grace period;
 *	shares &struct page.lru with @iopt_freelist_elm, as an allocation is
 *	never on a list and waiting for a grace period at once.
 * @__page_mapping: overlays &struct page.mapping; must stay NULL.
 * @__page_index: overlays &struct page.index; unused but for the next two.
 * @iopt_live: on a whole allocation (larger than PAGE_SIZE / 2), a counter
 *	that belongs to the allocation's user (iommu_pages_live()): 0 when
 *	the memory is allocated, then left alone by iommu-pages until the
 *	memory goes back to the page allocator, also while it waits on a
 *	list or for a grace period.
 * @iopt_frag_magic: IOPTDESC_FRAG_MAGIC on a page of fragments.
 * @iopt_private: overlays &struct page.private (the folio's private word;
 *	with CONFIG_IOMMU_PAGES_SEPARATE_DESC a field of its own).
 *	On a page of fragments: the address of its tracking structure with
 *	IOPTDESC_FRAG set.  Otherwise 0, or with CONFIG_IOMMU_PAGES_DEBUG a
 *	tag of the live allocation (always even), cleared when it is freed.
 * @iopt_rcu_rest: while the allocation waits for a grace period on behalf
 *	of a whole list, the other allocations of that list.  It shares the
 *	private word, whose tag the free has cleared, and not @iopt_live,
 *	which a lockless user may still read and update then.
 * @__page_type: overlays &struct page.page_type; PGTY_table while the folio
 *	is allocated here (set and cleared through the page-flags helpers).
 * @__page_refcount: overlays &struct page._refcount; owned by the folio.
 * @__memcg_data: overlays &struct page.memcg_data; set by __GFP_ACCOUNT.
 * @iopt_folio: with CONFIG_IOMMU_PAGES_SEPARATE_DESC only: the folio the
 *	descriptor describes.
 *
 * An allocation larger than PAGE_SIZE / 2 is one folio (one page or a
 * compound page), and its head page is its &struct ioptdesc: the size is
 * folio_size(), so frees and lists need no size or order from the caller.
 * An allocation of at most PAGE_SIZE / 2 is a fragment of a page whose
 * descriptor points to the tracking of its fragments (iommu-pages.c).
 * Only the fields not owned by the page or folio code are the allocator's
 * (the list link or rcu_head, the private word and the index word), and
 * the page type, which iommu-pages sets to PGTY_table as ptdesc does; in the
 * overlay (the default) each overlaid field is pinned to the offset of the
 * &struct page field it shares by a static_assert, and the descriptor may
 * be no larger than &struct page.
 * Nothing outside drivers/iommu/iommu-pages.[ch] may look at a table's
 * &struct page or &struct folio.
 *
 * The memdesc path: when &struct page shrinks to a typed pointer to a
 * separately allocated descriptor, &struct ioptdesc stops overlaying it
 * and is allocated together with its pages (a memdesc_alloc_pages()-like
 * call in iommu_alloc_pages_node_sz()); virt_to_ioptdesc() then follows
 * the page's memdesc pointer instead of casting.  Callers use only virtual
 * addresses, sizes in bytes and &struct iommu_pages_list, so they need no
 * change; only this header and iommu-pages.c do.
 *
 * CONFIG_IOMMU_PAGES_SEPARATE_DESC builds that path today: the descriptor
 * keeps only the allocator's fields and @iopt_folio, and comes from a slab
 * cache with its memory; the head page keeps what the page allocator owns
 * plus one word, &struct page.private, which leads to the descriptor
 * (tagged with IOPTDESC_MEMDESC_TYPE in its low bits, as a memdesc pointer
 * carries its type).  Nothing outside iommu-pages tests for the option.
 */
struct ioptdesc {
#ifndef CONFIG_IOMMU_PAGES_SEPARATE_DESC
	unsigned long __page_flags;
#endif
	union {
		struct list_head iopt_freelist_elm;
		struct rcu_head iopt_rcu;
	};
#ifndef CONFIG_IOMMU_PAGES_SEPARATE_DESC
	unsigned long __page_mapping;
#endif
	union {
#ifndef CONFIG_IOMMU_PAGES_SEPARATE_DESC
		pgoff_t __page_index;
#endif
		atomic_t iopt_live;
		unsigned long iopt_frag_magic;
	};
	union {
		unsigned long iopt_private;
		struct list_head *iopt_rcu_rest;
	};
#ifndef CONFIG_IOMMU_PAGES_SEPARATE_DESC
	unsigned int __page_type;
	atomic_t __page_refcount;
#ifdef CONFIG_MEMCG
	unsigned long __memcg_data;
#endif
#else
	struct folio *iopt_folio;
#endif
};

/* In @iopt_private: the page holds fragments. */
#define IOPTDESC_FRAG 1UL
/* In @iopt_frag_magic of a page of fragments, for the debug checks. */
#define IOPTDESC_FRAG_MAGIC 0x10f7a95eUL

#ifdef CONFIG_IOMMU_PAGES_SEPARATE_DESC
/*
 * In &struct page.private of a table's head page: the descriptor's address
 * with this type in the bits its alignment leaves free.
 */
#define IOPTDESC_MEMDESC_TYPE 0x2UL
#define IOPTDESC_MEMDESC_MASK 0x7UL

/* folio_ioptdesc() and ioptdesc_folio(), as documented below. */
static inline struct ioptdesc *folio_ioptdesc(struct folio *folio)
{
	return (struct ioptdesc *)((unsigned long)folio->private &
				   ~IOPTDESC_MEMDESC_MASK);
}

static inline struct folio *ioptdesc_folio(struct ioptdesc *iopt)
{
	return iopt->iopt_folio;
}
#else
#define IOPTDESC_MATCH(pg, iopt)                                        \
	static_assert(offsetof(struct page, pg) ==                      \
		      offsetof(struct ioptdesc, iopt))
IOPTDESC_MATCH(flags, __page_flags);
IOPTDESC_MATCH(lru, iopt_freelist_elm);
/*
 * The list link and the rcu_head start where a tail page keeps
 * compound_head, whose bit 0 says "tail": both hold aligned pointers
 * there, so a head page never looks like a tail, as with ptdesc.
 */
IOPTDESC_MATCH(compound_head, iopt_freelist_elm);
IOPTDESC_MATCH(rcu_head, iopt_rcu);
IOPTDESC_MATCH(mapping, __page_mapping);
IOPTDESC_MATCH(index, __page_index);
IOPTDESC_MATCH(private, iopt_private);
IOPTDESC_MATCH(page_type, __page_type);
IOPTDESC_MATCH(_refcount, __page_refcount);
#ifdef CONFIG_MEMCG
IOPTDESC_MATCH(memcg_data, __memcg_data);
#endif
#undef IOPTDESC_MATCH
static_assert(sizeof(struct ioptdesc) <= sizeof(struct page));

/**
 * folio_ioptdesc() - the descriptor of an IOMMU page-table folio
 * @folio: a folio allocated by iommu-pages
 *
 * Return: its &struct ioptdesc.
 */
static inline struct ioptdesc *folio_ioptdesc(struct folio *folio)
{
	return (struct ioptdesc *)folio;
}

/**
 * ioptdesc_folio() - the folio behind a descriptor
 * @iopt: an iommu-pages descriptor
 *
 * Return: the folio that holds the allocation.
 */
static inline struct folio *ioptdesc_folio(struct ioptdesc *iopt)
{
	return (struct folio *)iopt;
}
#endif /* CONFIG_IOMMU_PAGES_SEPARATE_DESC */

/**
 * virt_to_ioptdesc() - the descriptor of an allocation
 * @virt: an address inside memory returned by iommu_alloc_pages_node_sz()
 *
 * Return: the &struct ioptdesc of the allocation that holds @virt.
 */
static inline struct ioptdesc *virt_to_ioptdesc(void *virt)
{
	return folio_ioptdesc(virt_to_folio(virt));
}

/**
 * ioptdesc_address() - the virtual address of an allocation
 * @iopt: an iommu-pages descriptor
 *
 * Return: the start of the allocation, as iommu_alloc_pages_node_sz()
 * returned it.
 */
static inline void *ioptdesc_address(struct ioptdesc *iopt)
{
	return folio_address(ioptdesc_folio(iopt));
}

/**
 * iommu_pages_live() - the user's counter of a whole allocation
 * @virt: the start of memory that iommu_alloc_pages_node_sz() returned for
 *	more than PAGE_SIZE / 2 bytes (a fragment has no counter of its own)
 *
 * generic_pt counts a table's entries in use here.  The counter is 0 when
 * the memory is allocated; iommu-pages does not touch it again until the
 * memory is really freed, so a lockless user that may still reach memory
 * waiting for a grace period (iommu_put_pages_list_rcu()) finds the value
 * its last user left.
 *
 * Return: the counter.
 */
static inline atomic_t *iommu_pages_live(void *virt)
{
	return &virt_to_ioptdesc(virt)->iopt_live;
}

void *iommu_alloc_pages_node_sz(int nid, gfp_t gfp, size_t size);
void iommu_free_pages(void *virt);
void iommu_free_pages_rcu(void *virt);
void iommu_put_pages_list(struct iommu_pages_list *list);
void iommu_put_pages_list_rcu(struct iommu_pages_list *list);
void iommu_pages_list_add_frag(struct iommu_pages_list *list, void *virt);
bool iommu_pages_list_add_check(void *virt);
size_t iommu_pages_footprint(void *virt, unsigned long *pages);
void iommu_pages_list_splice_frags(struct iommu_pages_list *from,
				   struct iommu_pages_list *to);

/**
 * iommu_alloc_pages_sz() - allocate zeroed page-table memory on this node
 * @gfp: allocation flags (no __GFP_HIGHMEM)
 * @size: bytes wanted
 *
 * As iommu_alloc_pages_node_sz() with NUMA_NO_NODE.
 *
 * Return: the virtual address of the memory, or NULL.
 */
static inline void *iommu_alloc_pages_sz(gfp_t gfp, size_t size)
{
	return iommu_alloc_pages_node_sz(NUMA_NO_NODE, gfp, size);
}

/**
 * iommu_pages_list_add() - put an allocation on a list for freeing later
 * @list: the list
 * @virt: the start of an allocation from iommu_alloc_pages_node_sz()
 *
 * Links the allocation through its descriptor (a fragment through the
 * tracking of its page), never through the memory itself, which the IOMMU
 * may still walk until the flush: never allocates, safe in atomic context.
 * An allocation may be on one list at a time.  With CONFIG_IOMMU_PAGES_DEBUG,
 * memory that is not a live allocation is reported and not added.
 */
static inline void iommu_pages_list_add(struct iommu_pages_list *list,
					void *virt)
{
	struct ioptdesc *iopt;

	if (IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG) &&
	    !iommu_pages_list_add_check(virt))
		return;
	iopt = virt_to_ioptdesc(virt);

	if (unlikely(iopt->iopt_private & IOPTDESC_FRAG))
		iommu_pages_list_add_frag(list, virt);
	else
		list_add_tail(&iopt->iopt_freelist_elm, &list->pages);
}

/**
 * iommu_pages_list_splice() - move every allocation of one list to another
 * @from: the list emptied; re-initialised
 * @to: the list that receives @from's allocations at its tail
 */
static inline void iommu_pages_list_splice(struct iommu_pages_list *from,
					   struct iommu_pages_list *to)
{
	list_splice_tail_init(&from->pages, &to->pages);
	if (unlikely(from->frags))
		iommu_pages_list_splice_frags(from, to);
}

/**
 * iommu_pages_list_empty() - does a list hold no allocation?
 * @list: the list
 *
 * Return: true if @list is empty.
 */
static inline bool iommu_pages_list_empty(struct iommu_pages_list *list)
{
	return list_empty(&list->pages) && !list->frags;
}

#endif /* __IOMMU_PAGES_H */
