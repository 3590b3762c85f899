// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for iommu-pages: sizes, alignment, zeroing, nodes, exact
 * accounting, lists, atomic context, refusals, allocation failure and the
 * CONFIG_IOMMU_PAGES_DEBUG checks.
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kasan.h>
#include <linux/io-pgtable.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/memcontrol.h>
#include <linux/mmzone.h>
#include <linux/page_counter.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>

#include "iommu-pages.h"
#include "iommu-pages-internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define MAX_ALLOC_SIZE (PAGE_SIZE << MAX_PAGE_ORDER)

struct counters {
	long iommu;
	long secondary;
};

static struct counters snap(void)
{
	return (struct counters){
		.iommu = iommu_pages_stat_exact(NR_IOMMU_PAGES),
		.secondary = iommu_pages_stat_exact(NR_SECONDARY_PAGETABLE),
	};
}

static void expect_delta(struct kunit *test, struct counters before,
			 long pages, int line)
{
	struct counters now = snap();

	KUNIT_EXPECT_EQ_MSG(test, now.iommu - before.iommu, pages,
			    "NR_IOMMU_PAGES, line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, now.secondary - before.secondary, pages,
			    "NR_SECONDARY_PAGETABLE, line %d", line);
}

/* The counters moved by exactly @pages since @before. */
#define EXPECT_DELTA(test, before, pages) \
	expect_delta(test, before, pages, __LINE__)

static unsigned long pages_for(size_t size)
{
	return 1UL << get_order(size);
}

static const size_t test_sizes[] = {
	1, 2, 8, 100, 512, 2048, 4095, 4096, 4097, 8191, 8192, 12288, 16384,
	65535, 65536, 65537, 200000, SZ_1M, SZ_2M - 1, SZ_2M, SZ_2M + 1,
	SZ_4M,
};

/* One size: alignment, zeroing, descriptor, node and exact counters. */
static void check_one_size(struct kunit *test, size_t size)
{
	unsigned long npages = pages_for(size);
	size_t bytes = npages * PAGE_SIZE;
	struct counters before = snap();
	struct ioptdesc *iopt;
	void *virt;

	virt = iommu_alloc_pages_sz(GFP_KERNEL, size);
	KUNIT_ASSERT_NOT_NULL_MSG(test, virt, "size %zu", size);
	EXPECT_DELTA(test, before, npages);
	KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED((unsigned long)virt, bytes),
			      "size %zu at %p not aligned to %zu", size, virt,
			      bytes);
	KUNIT_EXPECT_NULL_MSG(test, memchr_inv(virt, 0, bytes),
			      "size %zu not zeroed", size);

	iopt = virt_to_ioptdesc(virt);
	KUNIT_EXPECT_EQ(test, folio_size(ioptdesc_folio(iopt)), bytes);
	KUNIT_EXPECT_PTR_EQ(test, ioptdesc_address(iopt), virt);
	KUNIT_EXPECT_PTR_EQ(test, virt_to_ioptdesc(virt + bytes - 1), iopt);
	KUNIT_EXPECT_PTR_EQ(test, folio_ioptdesc(ioptdesc_folio(iopt)), iopt);
	KUNIT_EXPECT_EQ(test, folio_nid(ioptdesc_folio(iopt)), numa_mem_id());

	/* Dirty it: the next round must get zeroed memory again. */
	memset(virt, 0xa5, bytes);
	iommu_free_pages(virt);
	EXPECT_DELTA(test, before, 0);
}

static void iommu_pages_test_sizes(struct kunit *test)
{
	unsigned long largest = min_t(unsigned long, MAX_ALLOC_SIZE, SZ_4M);
	unsigned int round, i;

	/* sizes up to PAGE_SIZE / 2 are fragments: iommu-pages-frag */
	for (round = 0; round < 2; round++)
		for (i = 0; i < ARRAY_SIZE(test_sizes); i++)
			if (test_sizes[i] > PAGE_SIZE / 2 &&
			    test_sizes[i] <= MAX_ALLOC_SIZE)
				check_one_size(test, test_sizes[i]);
	/*
	 * Every power of two up to 4 MiB (the largest table a driver asks
	 * for; with 64 KiB pages the largest allocation is 512 MiB, more than
	 * a test guest can be asked to find contiguous).
	 */
	for (i = 0; (PAGE_SIZE << i) <= largest; i++)
		check_one_size(test, PAGE_SIZE << i);
}

static void iommu_pages_test_node(struct kunit *test)
{
	struct counters before = snap();
	int nid;

	for_each_online_node(nid) {
		void *virt = iommu_alloc_pages_node_sz(nid, GFP_KERNEL,
						       2 * PAGE_SIZE);

		KUNIT_ASSERT_NOT_NULL(test, virt);
		KUNIT_EXPECT_EQ(test, folio_nid(virt_to_folio(virt)), nid);
		iommu_free_pages(virt);
	}
	EXPECT_DELTA(test, before, 0);
}

static void iommu_pages_test_lists(struct kunit *test)
{
	static const size_t sizes[] = { PAGE_SIZE, SZ_2M, 2 * PAGE_SIZE,
					PAGE_SIZE, SZ_64K, 3 * PAGE_SIZE };
	struct iommu_pages_list a = IOMMU_PAGES_LIST_INIT(a);
	struct iommu_pages_list b = IOMMU_PAGES_LIST_INIT(b);
	struct iommu_pages_list empty = IOMMU_PAGES_LIST_INIT(empty);
	struct counters before = snap();
	unsigned long total = 0;
	unsigned int i;

	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&a));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		void *virt = iommu_alloc_pages_sz(GFP_KERNEL, sizes[i]);

		KUNIT_ASSERT_NOT_NULL(test, virt);
		iommu_pages_list_add(i < 3 ? &a : &b, virt);
		total += pages_for(sizes[i]);
	}
	EXPECT_DELTA(test, before, total);
	KUNIT_EXPECT_FALSE(test, iommu_pages_list_empty(&a));
	KUNIT_EXPECT_FALSE(test, iommu_pages_list_empty(&b));

	iommu_pages_list_splice(&b, &a);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&b));
	KUNIT_EXPECT_EQ(test, list_count_nodes(&a.pages), ARRAY_SIZE(sizes));
	EXPECT_DELTA(test, before, total);

	/* Putting an empty list, and freeing NULL, change nothing. */
	iommu_put_pages_list(&b);
	iommu_put_pages_list(&empty);
	iommu_free_pages(NULL);
	EXPECT_DELTA(test, before, total);

	iommu_put_pages_list(&a);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&a));
	EXPECT_DELTA(test, before, 0);
}

static DEFINE_SPINLOCK(iommu_pages_test_lock);

static void iommu_pages_test_atomic(struct kunit *test)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct counters before = snap();
	spinlock_t *lock = &iommu_pages_test_lock;
	unsigned long flags;
	void *v1, *v2;

	spin_lock_irqsave(lock, flags);
	v1 = iommu_alloc_pages_sz(GFP_ATOMIC, PAGE_SIZE);
	v2 = iommu_alloc_pages_sz(GFP_ATOMIC, 4 * PAGE_SIZE);
	if (v1)
		iommu_pages_list_add(&list, v1);
	if (v2)
		iommu_pages_list_add(&list, v2);
	spin_unlock_irqrestore(lock, flags);

	KUNIT_ASSERT_NOT_NULL(test, v1);
	KUNIT_ASSERT_NOT_NULL(test, v2);
	EXPECT_DELTA(test, before, 5);
	spin_lock_irqsave(lock, flags);
	iommu_put_pages_list(&list);
	spin_unlock_irqrestore(lock, flags);
	EXPECT_DELTA(test, before, 0);
}

/* Reports of misuse, recorded instead of printed. */
struct report_log {
	unsigned int count[IOMMU_PAGES_FOREIGN_FREE + 1];
	const void *last;
	unsigned int irqs_off;	/* reports made with interrupts disabled */
};

/*
 * A static stub follows current, so it also fires in an interrupt that
 * lands on the test thread (a DMA completion freeing tables, say).  There
 * every stub below does what the real function does, and counts nothing.
 */
static void record_report(enum iommu_pages_misuse what, const void *virt)
{
	struct report_log *log = kunit_get_current_test()->priv;

	if (!in_task()) {
		/* not the test's misuse: a real one, which must fail the boot */
		pr_err("BUG: iommu-pages misuse %d of %p in an interrupt\n",
		       what, virt);
		return;
	}
	log->count[what]++;
	log->last = virt;
	/* in the test thread, only a held pool lock disables interrupts */
	if (irqs_disabled())
		log->irqs_off++;
}

static void iommu_pages_test_refusals(struct kunit *test)
{
	struct counters before = snap();
	struct report_log log = {};

	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_report, record_report);

	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL | __GFP_HIGHMEM,
						     PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_BAD_GFP], 1);
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, 0));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL,
						     MAX_ALLOC_SIZE + 1));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, SIZE_MAX));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_node_sz(NUMA_NO_NODE,
							  GFP_ATOMIC, 0));
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_BAD_GFP], 1);
	EXPECT_DELTA(test, before, 0);
}

static struct folio *fail_alloc(gfp_t gfp, unsigned int order, int nid)
{
	struct page *page;

	if (in_task())
		return NULL;
	page = alloc_pages_node(nid, gfp | __GFP_COMP, order);
	return page ? page_folio(page) : NULL;
}

static void iommu_pages_test_alloc_failure(struct kunit *test)
{
	struct counters before = snap();
	struct iommu_frag_pool pool;
	void *virt;

	/* a private pool: a shared one may have a free fragment already */
	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     IOMMU_FRAG_MIN_SHIFT);
	kunit_activate_static_stub(test, iommu_pages_alloc_folio, fail_alloc);
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, SZ_2M));
	KUNIT_EXPECT_NULL(test, iommu_frag_alloc(&pool, GFP_ATOMIC));
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
	EXPECT_DELTA(test, before, 0);

	/* and the allocator works again once the failure is gone */
	kunit_deactivate_static_stub(test, iommu_pages_alloc_folio);
	virt = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	EXPECT_DELTA(test, before, 1);
	iommu_free_pages(virt);
	EXPECT_DELTA(test, before, 0);
}

/* The folio that hold_put() kept from the page allocator. */
static struct folio *held_folio;

/*
 * A put that drops the last reference but keeps the memory: between a free
 * and the double free that follows, nobody else can be handed the pages
 * (a second free of someone else's live table would free it for real).
 */
static void hold_put(struct folio *folio)
{
	if (!in_task() || held_folio) {
		folio_put(folio);
		return;
	}
	held_folio = folio;
	folio_ref_dec(folio);
}

static void iommu_pages_test_debug_double_free(struct kunit *test)
{
	struct report_log log = {};
	struct counters before;
	void *virt;

	if (!IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		kunit_skip(test, "needs CONFIG_IOMMU_PAGES_DEBUG");
	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_report, record_report);

	before = snap();
	virt = iommu_alloc_pages_sz(GFP_KERNEL, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	held_folio = NULL;
	kunit_activate_static_stub(test, iommu_pages_put_folio, hold_put);
	iommu_free_pages(virt);
	kunit_deactivate_static_stub(test, iommu_pages_put_folio);
	KUNIT_ASSERT_PTR_EQ(test, held_folio, virt_to_folio(virt));
	KUNIT_EXPECT_EQ(test, folio_ref_count(held_folio), 0);
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 0);

	iommu_free_pages(virt);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 1);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 0);
	KUNIT_EXPECT_PTR_EQ(test, log.last, (const void *)virt);
	EXPECT_DELTA(test, before, 0);

	/* now give the pages back */
	folio_set_count(held_folio, 1);
	folio_put(held_folio);
	held_folio = NULL;
}

static void iommu_pages_test_debug_foreign_free(struct kunit *test)
{
	struct report_log log = {};
	struct counters before;
	struct page *page;
	void *virt, *kmem;

	if (!IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		kunit_skip(test, "needs CONFIG_IOMMU_PAGES_DEBUG");
	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_report, record_report);
	before = snap();

	/* a page from the page allocator directly */
	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	iommu_free_pages(page_address(page));
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 1);
	KUNIT_EXPECT_PTR_EQ(test, log.last, (const void *)page_address(page));
	EXPECT_DELTA(test, before, 0);
	__free_page(page);

	/* slab memory */
	kmem = kmalloc(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kmem);
	iommu_free_pages(kmem);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 2);
	kfree(kmem);

	/* the middle of a real allocation */
	virt = iommu_alloc_pages_sz(GFP_KERNEL, 4 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	iommu_free_pages(virt + PAGE_SIZE);
	iommu_free_pages(virt + 8);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 4);
	EXPECT_DELTA(test, before, 4);
	iommu_free_pages(virt);
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 0);
}

static void check_poison_and_put(struct folio *folio)
{
	struct kunit *test = kunit_get_current_test();

	if (!in_task()) {
		folio_put(folio);
		return;
	}
	KUNIT_EXPECT_NULL_MSG(test, memchr_inv(folio_address(folio),
					       IOMMU_PAGES_POISON,
					       folio_size(folio)),
			      "freed memory not poisoned");
	*(unsigned int *)test->priv += 1;
	folio_put(folio);
}

static void iommu_pages_test_debug_poison(struct kunit *test)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	unsigned int puts = 0;
	void *virt;

	if (!IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		kunit_skip(test, "needs CONFIG_IOMMU_PAGES_DEBUG");
	test->priv = &puts;
	kunit_activate_static_stub(test, iommu_pages_put_folio,
				   check_poison_and_put);
	virt = iommu_alloc_pages_sz(GFP_KERNEL, 3 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	memset(virt, 0x11, 4 * PAGE_SIZE);
	iommu_free_pages(virt);
	virt = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	iommu_pages_list_add(&list, virt);
	iommu_put_pages_list(&list);
	KUNIT_EXPECT_EQ(test, puts, 2);
}

static struct kunit_case iommu_pages_test_cases[] = {
	KUNIT_CASE(iommu_pages_test_sizes),
	KUNIT_CASE(iommu_pages_test_node),
	KUNIT_CASE(iommu_pages_test_lists),
	KUNIT_CASE(iommu_pages_test_atomic),
	KUNIT_CASE(iommu_pages_test_refusals),
	KUNIT_CASE(iommu_pages_test_alloc_failure),
	KUNIT_CASE(iommu_pages_test_debug_double_free),
	KUNIT_CASE(iommu_pages_test_debug_foreign_free),
	KUNIT_CASE(iommu_pages_test_debug_poison),
	{}
};

static struct kunit_suite iommu_pages_test_suite = {
	.name = "iommu-pages",
	.test_cases = iommu_pages_test_cases,
};

/* The folios the put stub saw, and how many still had the table type. */
struct type_log {
	unsigned int puts;
	unsigned int typed;
};

static void type_put(struct folio *folio)
{
	struct kunit *test = kunit_get_current_test();
	struct type_log *log = test->priv;

	if (in_task()) {
		log->puts++;
		if (folio->page.page_type != UINT_MAX)
			log->typed++;
	}
	folio_put(folio);
}

#ifdef CONFIG_KASAN_GENERIC
/* Is every granule of the range inaccessible to KASAN, or every one not? */
static bool kasan_range_is(const void *virt, size_t size, bool poisoned)
{
	const s8 *shadow = kasan_mem_to_shadow(virt);

	for (size_t i = 0; i < size >> KASAN_SHADOW_SCALE_SHIFT; i++)
		if ((READ_ONCE(shadow[i]) < 0) != poisoned)
			return false;
	return true;
}

struct kasan_put_log {
	unsigned int puts;
	unsigned int poisoned;
};

/* Count the folios handed back with a granule KASAN takes for freed. */
static void kasan_put(struct folio *folio)
{
	struct kunit *test = kunit_get_current_test();
	struct kasan_put_log *log = test->priv;

	if (in_task()) {
		log->puts++;
		if (!kasan_range_is(folio_address(folio), folio_size(folio),
				    false))
			log->poisoned++;
	}
	folio_put(folio);
}

/*
 * For KASAN a free fragment is freed memory: the rest of a new page, a
 * fragment freed while its page stays live, one freed after a grace period
 * once the grace period is over (not before), until it is allocated again.
 * A page goes back to the page allocator accessible: its free poisons it
 * whole, and the debug memset before would be a report where memset is
 * checked (not on x86 with GENERIC_ENTRY and a compiler without
 * __asan_memset).
 */
static void iommu_pages_test_frag_kasan(struct kunit *test)
{
	unsigned int shift = IOMMU_FRAG_MIN_SHIFT + 1;
	struct kasan_put_log log = {};
	size_t size = BIT(shift);
	struct iommu_frag_pool pool;
	void *a, *b, *k, *b2;

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	k = iommu_frag_alloc(&pool, GFP_KERNEL);
	a = iommu_frag_alloc(&pool, GFP_KERNEL);
	b = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_PTR_EQ(test, a, k + size);
	KUNIT_ASSERT_PTR_EQ(test, b, k + 2 * size);
	KUNIT_EXPECT_TRUE(test, kasan_range_is(k, 3 * size, false));
	KUNIT_EXPECT_TRUE(test, kasan_range_is(k + 3 * size,
					       PAGE_SIZE - 3 * size, true));

	iommu_free_pages(b);
	KUNIT_EXPECT_TRUE(test, kasan_range_is(b, size, true));
	KUNIT_EXPECT_TRUE(test, kasan_range_is(k, 2 * size, false));

	rcu_read_lock();
	iommu_free_pages_rcu(a);
	KUNIT_EXPECT_TRUE(test, kasan_range_is(a, size, false));
	rcu_read_unlock();
	rcu_barrier();
	KUNIT_EXPECT_TRUE(test, kasan_range_is(a, size, true));

	b2 = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b2);
	KUNIT_EXPECT_TRUE(test, kasan_range_is(b2, size, false));
	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_put_folio, kasan_put);
	iommu_free_pages(b2);
	iommu_free_pages(k);
	kunit_deactivate_static_stub(test, iommu_pages_put_folio);
	KUNIT_EXPECT_EQ(test, log.puts, 1);
	KUNIT_EXPECT_EQ(test, log.poisoned, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
}
#else
static void iommu_pages_test_frag_kasan(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_KASAN_GENERIC");
}
#endif

/*
 * Every folio, and every page of fragments, is typed as a page table
 * while it is allocated (/proc/kpageflags, dump_page() and unpoison read
 * that), and untyped before it goes back to the page allocator.
 */
static void iommu_pages_test_page_type(struct kunit *test)
{
	static const size_t sizes[] = { PAGE_SIZE, 2 * PAGE_SIZE, SZ_2M };
	struct type_log log = {};
	struct iommu_frag_pool pool;
	unsigned int i;
	void *virt;

	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_put_folio, type_put);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		virt = iommu_alloc_pages_sz(GFP_KERNEL, sizes[i]);
		KUNIT_ASSERT_NOT_NULL(test, virt);
		KUNIT_EXPECT_TRUE_MSG(test, folio_test_pgtable(virt_to_folio(virt)),
				      "size %zu", sizes[i]);
		iommu_free_pages(virt);
	}
	KUNIT_EXPECT_EQ(test, log.puts, ARRAY_SIZE(sizes));

	/* a private pool's page goes with its one fragment */
	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     PAGE_SHIFT - 1);
	virt = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	KUNIT_EXPECT_TRUE(test, folio_test_pgtable(virt_to_folio(virt)));
	iommu_free_pages(virt);
	kunit_deactivate_static_stub(test, iommu_pages_put_folio);
	KUNIT_EXPECT_EQ(test, log.puts, ARRAY_SIZE(sizes) + 1);
	KUNIT_EXPECT_EQ(test, log.typed, 0);
}

/* --- fragments and RCU freeing: suite iommu-pages-frag --------------- */

/* Pages handed back to the page allocator, counted through the stub. */
static void count_put(struct folio *folio)
{
	struct kunit *test = kunit_get_current_test();

	if (in_task())
		*(unsigned int *)test->priv += 1;
	folio_put(folio);
}

/* Until every callback, and every callback they queue, has run. */
static void rcu_drain(void)
{
	rcu_barrier();
	rcu_barrier();
}

static unsigned int frag_size_of(size_t size)
{
	return max_t(size_t, IOMMU_FRAG_MIN, roundup_pow_of_two(size));
}

static bool is_frag_page(void *virt)
{
	return virt_to_ioptdesc(virt)->iopt_private & IOPTDESC_FRAG;
}

/* Every size up to PAGE_SIZE / 2 through the shared pools. */
static void iommu_pages_test_frag_sizes(struct kunit *test)
{
	struct counters before = snap();
	size_t size;
	void *whole;

	for (size = 1; size <= PAGE_SIZE / 2;
	     size = size < SZ_4K ? size + 1 : size * 2) {
		unsigned int fs = frag_size_of(size);
		void *virt = iommu_alloc_pages_sz(GFP_KERNEL, size);

		KUNIT_ASSERT_NOT_NULL_MSG(test, virt, "size %zu", size);
		KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED((unsigned long)virt, fs),
				      "size %zu at %p not aligned to %u", size,
				      virt, fs);
		KUNIT_EXPECT_NULL_MSG(test, memchr_inv(virt, 0, fs),
				      "size %zu not zeroed", size);
		KUNIT_EXPECT_TRUE_MSG(test, is_frag_page(virt), "size %zu",
				      size);
		memset(virt, 0xa5, fs);
		iommu_free_pages(virt);
	}
	/* just above the largest fragment: a whole page again */
	whole = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE / 2 + 1);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_EXPECT_FALSE(test, is_frag_page(whole));
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(whole));
	iommu_free_pages(whole);
	EXPECT_DELTA(test, before, 0);
}

/*
 * The shared pools exist from boot for every possible node, on cache
 * lines of their own, each node's on that node; a node without normal
 * memory shares the pools of a node that has some.  A fragment comes
 * from its pool's node, and a node that does not exist gets nothing.
 */
static void iommu_pages_test_frag_node_pools(struct kunit *test)
{
	unsigned long pages, used, now;
	struct iommu_frag_pool *pool;
	unsigned int z, shift;
	struct counters before;
	void *virt;
	int nid;

	KUNIT_EXPECT_EQ(test, sizeof(*pool) % SMP_CACHE_BYTES, 0);
	for_each_node(nid) {
		for (z = 0; z < IOMMU_FRAG_ZONES; z++) {
			for (shift = IOMMU_FRAG_MIN_SHIFT; shift < PAGE_SHIFT;
			     shift++) {
				pool = iommu_frag_node_pool(nid, z, shift);
				KUNIT_ASSERT_NOT_NULL_MSG(test, pool,
							  "node %d zone %u shift %u",
							  nid, z, shift);
				KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)pool,
								   SMP_CACHE_BYTES));
				KUNIT_EXPECT_EQ(test, pool->shift, shift);
				KUNIT_EXPECT_TRUE(test, node_state(pool->nid,
								   N_NORMAL_MEMORY));
				KUNIT_EXPECT_EQ(test, page_to_nid(virt_to_page(pool)),
						pool->nid);
				if (node_state(nid, N_NORMAL_MEMORY))
					KUNIT_EXPECT_EQ(test, pool->nid, nid);
			}
		}
	}
	for_each_node_state(nid, N_NORMAL_MEMORY) {
		pool = iommu_frag_node_pool(nid, IOMMU_FRAG_ZONE_NORMAL,
					    IOMMU_FRAG_MIN_SHIFT);
		iommu_frag_pool_counts(pool, &pages, &used);
		virt = iommu_alloc_pages_node_sz(nid, GFP_KERNEL, IOMMU_FRAG_MIN);
		KUNIT_ASSERT_NOT_NULL(test, virt);
		iommu_frag_pool_counts(pool, &pages, &now);
		KUNIT_EXPECT_EQ(test, now, used + 1);
		KUNIT_EXPECT_EQ(test, folio_nid(virt_to_folio(virt)), nid);
		iommu_free_pages(virt);
	}

	before = snap();
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_node_sz(nr_node_ids,
							  GFP_KERNEL,
							  IOMMU_FRAG_MIN));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_node_sz(nr_node_ids,
							  GFP_KERNEL,
							  PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_node_sz(INT_MAX, GFP_KERNEL,
							  IOMMU_FRAG_MIN));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_node_sz(-2, GFP_KERNEL,
							  PAGE_SIZE));
	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (!node_possible(nid))
			KUNIT_EXPECT_NULL(test,
					  iommu_alloc_pages_node_sz(nid, GFP_KERNEL,
								    PAGE_SIZE));
	EXPECT_DELTA(test, before, 0);
}

/* A page fills, a second one starts, and each goes when its last goes. */
static void iommu_pages_test_frag_pages(struct kunit *test)
{
	unsigned int shift, n, i, puts = 0;
	struct iommu_frag_pool pool;
	struct counters before;
	void *frag[BITS_PER_LONG + 1];

	test->priv = &puts;
	kunit_activate_static_stub(test, iommu_pages_put_folio, count_put);
	for (shift = IOMMU_FRAG_MIN_SHIFT; shift < PAGE_SHIFT; shift++) {
		n = PAGE_SIZE >> shift;
		puts = 0;
		iommu_frag_pool_init(&pool, numa_mem_id(),
				     IOMMU_FRAG_ZONE_NORMAL, shift);
		before = snap();
		for (i = 0; i <= n; i++) {
			frag[i] = iommu_frag_alloc(&pool, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, frag[i]);
			KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)frag[i],
							   BIT(shift)));
			KUNIT_EXPECT_NULL(test, memchr_inv(frag[i], 0,
							   BIT(shift)));
			memset(frag[i], i, BIT(shift));
			/* one page for the first n, a second for the last */
			EXPECT_DELTA(test, before, i < n ? 1 : 2);
		}
		for (i = 1; i < n; i++)
			KUNIT_EXPECT_PTR_EQ(test, PTR_ALIGN_DOWN(frag[i], PAGE_SIZE),
					    frag[0]);
		KUNIT_EXPECT_PTR_NE(test, PTR_ALIGN_DOWN(frag[n], PAGE_SIZE),
				    frag[0]);
		/* nothing overlapped: every fragment still holds its byte */
		for (i = 0; i <= n; i++)
			KUNIT_EXPECT_NULL(test, memchr_inv(frag[i], (u8)i,
							   BIT(shift)));
		for (i = 0; i + 1 < n; i++)
			iommu_free_pages(frag[i]);
		EXPECT_DELTA(test, before, 2);
		KUNIT_EXPECT_EQ(test, puts, 0);
		iommu_free_pages(frag[n - 1]);
		EXPECT_DELTA(test, before, 1);
		KUNIT_EXPECT_EQ(test, puts, 1);
		iommu_free_pages(frag[n]);
		EXPECT_DELTA(test, before, 0);
		KUNIT_EXPECT_EQ(test, puts, 2);
		KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
	}
}

/* A freed fragment is handed out again, zeroed. */
static void iommu_pages_test_frag_reuse(struct kunit *test)
{
	struct iommu_frag_pool pool;
	struct counters before = snap();
	unsigned int shift = PAGE_SHIFT - 2;
	void *a, *b, *c;

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	a = iommu_frag_alloc(&pool, GFP_KERNEL);
	b = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	memset(a, 0x5a, BIT(shift));
	iommu_free_pages(a);
	c = iommu_frag_alloc(&pool, GFP_ATOMIC);
	KUNIT_EXPECT_PTR_EQ(test, c, a);
	KUNIT_EXPECT_NULL(test, memchr_inv(c, 0, BIT(shift)));
	EXPECT_DELTA(test, before, 1);
	iommu_free_pages(b);
	iommu_free_pages(c);
	EXPECT_DELTA(test, before, 0);
}

static void expect_pool(struct kunit *test, struct iommu_frag_pool *pool,
			unsigned long pages, unsigned long used, int line)
{
	unsigned long p, u;

	iommu_frag_pool_counts(pool, &p, &u);
	KUNIT_EXPECT_EQ_MSG(test, p, pages, "pool pages, line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, u, used, "pool fragments used, line %d",
			    line);
}

#define EXPECT_POOL(test, pool, pages, used) \
	expect_pool(test, pool, pages, used, __LINE__)

/* A pool counts its pages and used fragments, until a grace period ends. */
static void iommu_pages_test_frag_counts(struct kunit *test)
{
	unsigned int shift = PAGE_SHIFT - 1;
	struct iommu_frag_pool pool;
	void *a, *b, *c;

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	EXPECT_POOL(test, &pool, 0, 0);
	a = iommu_frag_alloc(&pool, GFP_KERNEL);
	b = iommu_frag_alloc(&pool, GFP_KERNEL);
	c = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);
	/* two fragments a page: a and b share one, c has the second */
	EXPECT_POOL(test, &pool, 2, 3);
	iommu_free_pages(b);
	EXPECT_POOL(test, &pool, 2, 2);
	iommu_free_pages(c);
	EXPECT_POOL(test, &pool, 1, 1);
	iommu_free_pages_rcu(a);
	/* waiting for its grace period: not free yet */
	EXPECT_POOL(test, &pool, 1, 1);
	rcu_drain();
	EXPECT_POOL(test, &pool, 0, 0);
}

struct report_node {
	long nr, whole;
	unsigned long frag, pages, used, free;
};

/*
 * iommu_pages_show() into a buffer, parsed: @nid's line of the node table
 * and its line for normal-zone fragments of @size (zeroes if the pool
 * holds no page, as the report then prints none).
 */
static struct report_node report_read(struct kunit *test, int nid,
				      unsigned long size)
{
	struct seq_file m = { .size = 4 * PAGE_SIZE };
	struct report_node r = {};
	bool node_seen = false;
	char *line, *next;

	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	KUNIT_ASSERT_EQ(test, iommu_pages_show(&m, NULL), 0);
	KUNIT_ASSERT_LT_MSG(test, m.count, m.size, "report overflowed");
	m.buf[m.count] = 0;
	KUNIT_ASSERT_EQ(test, strncmp(m.buf, "node  nr_iommu_pages", 20), 0);
	for (line = m.buf; line; line = next) {
		unsigned long sz, pages, used, free, frag;
		long nr, whole;
		char zone[8];
		int n;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (sscanf(line, "%d %7s %lu %lu %lu %lu", &n, zone, &sz,
			   &pages, &used, &free) == 6) {
			if (n == nid && !strcmp(zone, "normal") && sz == size) {
				r.pages = pages;
				r.used = used;
				r.free = free;
			}
		} else if (sscanf(line, "%d %ld %lu %ld", &n, &nr, &frag,
				  &whole) == 4 && n == nid) {
			KUNIT_EXPECT_EQ(test, whole, nr - (long)frag);
			r.nr = nr;
			r.frag = frag;
			r.whole = whole;
			node_seen = true;
		}
	}
	KUNIT_EXPECT_TRUE_MSG(test, node_seen, "no line for node %d", nid);
	return r;
}

/*
 * The debugfs report follows fragment allocations exactly: the node's
 * NR_IOMMU_PAGES, its pages of fragments and the pool's pages, used and
 * free fragments, and all back where they were after the frees.
 */
static void iommu_pages_test_frag_report(struct kunit *test)
{
	unsigned long n = 4, size = PAGE_SIZE / n, i;
	int nid = numa_mem_id();
	struct report_node r0, r1, r2;
	void *frag[4 + 1];
	long new_pages;

	rcu_drain();
	r0 = report_read(test, nid, size);
	KUNIT_EXPECT_EQ(test, r0.nr, iommu_pages_node_stat_exact(nid,
								 NR_IOMMU_PAGES));
	/* one more than a page holds: some come from a partial page */
	for (i = 0; i <= n; i++) {
		frag[i] = iommu_alloc_pages_node_sz(nid, GFP_KERNEL, size);
		KUNIT_ASSERT_NOT_NULL(test, frag[i]);
	}
	r1 = report_read(test, nid, size);
	new_pages = r1.pages - r0.pages;
	/* a new page only once every free fragment of the pool is taken */
	KUNIT_EXPECT_EQ(test, new_pages,
			(long)(r0.free > n ? 0 :
			       DIV_ROUND_UP(n + 1 - r0.free, n)));
	KUNIT_EXPECT_EQ(test, r1.used, r0.used + n + 1);
	KUNIT_EXPECT_EQ(test, r1.free, r1.pages * n - r1.used);
	KUNIT_EXPECT_EQ(test, r1.nr - r0.nr, new_pages);
	KUNIT_EXPECT_EQ(test, (long)(r1.frag - r0.frag), new_pages);
	KUNIT_EXPECT_EQ(test, r1.whole, r0.whole);
	for (i = 0; i <= n; i++)
		iommu_free_pages(frag[i]);
	r2 = report_read(test, nid, size);
	KUNIT_EXPECT_EQ(test, r2.nr, r0.nr);
	KUNIT_EXPECT_EQ(test, r2.frag, r0.frag);
	KUNIT_EXPECT_EQ(test, r2.pages, r0.pages);
	KUNIT_EXPECT_EQ(test, r2.used, r0.used);
	KUNIT_EXPECT_EQ(test, r2.free, r0.free);
}

/* GFP_DMA32 fragments come from their own pages, inside ZONE_DMA32. */
static void iommu_pages_test_frag_dma32(struct kunit *test)
{
#ifdef CONFIG_ZONE_DMA32
	struct counters before = snap();
	void *n, *d;

	n = iommu_alloc_pages_sz(GFP_KERNEL, SZ_1K);
	d = iommu_alloc_pages_sz(GFP_KERNEL | GFP_DMA32, SZ_1K);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_EXPECT_PTR_NE(test, PTR_ALIGN_DOWN(n, PAGE_SIZE),
			    PTR_ALIGN_DOWN(d, PAGE_SIZE));
	KUNIT_EXPECT_LE(test, folio_zonenum(virt_to_folio(d)), ZONE_DMA32);
	KUNIT_EXPECT_LT(test, virt_to_phys(d) + SZ_1K - 1, 1ULL << 32);
	iommu_free_pages(n);
	iommu_free_pages(d);
	EXPECT_DELTA(test, before, 0);
#else
	kunit_skip(test, "no ZONE_DMA32");
#endif
}

/* Lists mix fragments and folios; splice and empty see both. */
static void iommu_pages_test_frag_lists(struct kunit *test)
{
	struct iommu_pages_list a = IOMMU_PAGES_LIST_INIT(a);
	struct iommu_pages_list b = IOMMU_PAGES_LIST_INIT(b);
	unsigned int shift = IOMMU_FRAG_MIN_SHIFT;
	struct iommu_frag_pool pool;
	struct counters before = snap();
	void *f[3], *p;
	unsigned int i;
	long held;

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		f[i] = iommu_frag_alloc(&pool, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, f[i]);
	}
	p = iommu_alloc_pages_sz(GFP_KERNEL, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, p);
	EXPECT_DELTA(test, before, 1 + 2);

	/* a list of fragments only is not empty */
	iommu_pages_list_add(&b, f[1]);
	KUNIT_EXPECT_FALSE(test, iommu_pages_list_empty(&b));
	iommu_pages_list_add(&a, f[0]);
	iommu_pages_list_add(&a, p);
	iommu_pages_list_add(&b, f[2]);
	iommu_pages_list_splice(&b, &a);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&b));
	KUNIT_EXPECT_PTR_EQ(test, a.frags, f[0]);
	KUNIT_EXPECT_PTR_EQ(test, a.frags_tail, f[2]);
	/* the tables themselves were never written */
	for (i = 0; i < ARRAY_SIZE(f); i++)
		KUNIT_EXPECT_NULL(test, memchr_inv(f[i], 0, BIT(shift)));
	EXPECT_DELTA(test, before, 1 + 2);
	iommu_put_pages_list(&a);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&a));
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));

	/*
	 * Fragments spliced into an empty list keep their chain; a list of
	 * fragments only goes after a grace period, counted until then.
	 */
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		f[i] = iommu_frag_alloc(&pool, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, f[i]);
	}
	iommu_pages_list_add(&b, f[0]);
	iommu_pages_list_add(&b, f[1]);
	iommu_pages_list_splice(&b, &a);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&b));
	KUNIT_EXPECT_PTR_EQ(test, a.frags, f[0]);
	KUNIT_EXPECT_PTR_EQ(test, a.frags_tail, f[1]);
	iommu_pages_list_add(&a, f[2]);
	KUNIT_EXPECT_PTR_EQ(test, a.frags_tail, f[2]);
	rcu_read_lock();
	iommu_put_pages_list_rcu(&a);
	held = snap().iommu - before.iommu;
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, held, 1);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&a));
	rcu_drain();
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
}

#define FRAG_MODEL_LIVE 384
#define FRAG_MODEL_OPS 4000

struct frag_model_entry {
	void *virt;
	unsigned int size;
	u32 stamp;
};

static bool stamp_intact(struct frag_model_entry *e)
{
	u32 *w = e->virt;
	unsigned int i;

	for (i = 0; i < e->size / sizeof(u32); i++)
		if (w[i] != e->stamp)
			return false;
	return true;
}

/* Pages that hold at least one live fragment of the model. */
static long model_pages(struct frag_model_entry *live, unsigned int n)
{
	unsigned int i, j;
	long pages = 0;

	for (i = 0; i < n; i++) {
		void *page = PTR_ALIGN_DOWN(live[i].virt, PAGE_SIZE);

		for (j = 0; j < i; j++)
			if (PTR_ALIGN_DOWN(live[j].virt, PAGE_SIZE) == page)
				break;
		pages += j == i;
	}
	return pages;
}

/*
 * Thousands of random allocations and frees over pools of three sizes,
 * against a model: every live fragment keeps its stamp (no overlap, no
 * early reuse), new ones are zeroed and aligned, and the counters equal
 * the pages that hold a live fragment.
 */
static void iommu_pages_test_frag_random(struct kunit *test)
{
	const unsigned int shifts[] = { IOMMU_FRAG_MIN_SHIFT,
					IOMMU_FRAG_MIN_SHIFT + 1,
					PAGE_SHIFT - 1 };
	struct iommu_frag_pool pool[ARRAY_SIZE(shifts)];
	struct frag_model_entry *live;
	struct counters before = snap();
	struct rnd_state rnd;
	unsigned int n = 0, op, i;
	u64 seed = get_random_u64();

	live = kunit_kcalloc(test, FRAG_MODEL_LIVE, sizeof(*live), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, live);
	prandom_seed_state(&rnd, seed);
	for (i = 0; i < ARRAY_SIZE(shifts); i++)
		iommu_frag_pool_init(&pool[i], numa_mem_id(),
				     IOMMU_FRAG_ZONE_NORMAL, shifts[i]);

	for (op = 0; op < FRAG_MODEL_OPS; op++) {
		u32 r = prandom_u32_state(&rnd);

		if (n < FRAG_MODEL_LIVE && (!n || r % 5 < 3)) {
			unsigned int k = (r >> 8) % ARRAY_SIZE(shifts);
			struct frag_model_entry *e = &live[n];

			e->virt = iommu_frag_alloc(&pool[k], GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL_MSG(test, e->virt, "seed %llu",
						  seed);
			e->size = BIT(shifts[k]);
			KUNIT_ASSERT_TRUE_MSG(test,
					      IS_ALIGNED((unsigned long)e->virt,
							 e->size) &&
					      !memchr_inv(e->virt, 0, e->size),
					      "seed %llu op %u: %p not aligned or not zeroed",
					      seed, op, e->virt);
			e->stamp = r | 1;
			memset32(e->virt, e->stamp, e->size / sizeof(u32));
			n++;
		} else {
			unsigned int k = (r >> 8) % n;

			KUNIT_ASSERT_TRUE_MSG(test, stamp_intact(&live[k]),
					      "seed %llu op %u: %p overwritten",
					      seed, op, live[k].virt);
			iommu_free_pages(live[k].virt);
			live[k] = live[--n];
		}
		if (op % 200 == 0) {
			struct counters now = snap();

			KUNIT_ASSERT_EQ_MSG(test, now.iommu - before.iommu,
					    model_pages(live, n),
					    "seed %llu op %u", seed, op);
		}
	}
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_TRUE_MSG(test, stamp_intact(&live[i]), "seed %llu",
				      seed);
		iommu_free_pages(live[i].virt);
	}
	EXPECT_DELTA(test, before, 0);
	for (i = 0; i < ARRAY_SIZE(shifts); i++)
		KUNIT_EXPECT_TRUE(test, list_empty(&pool[i].partial));
}

/* Misuse of fragments is reported and changes nothing. */
static void iommu_pages_test_frag_misuse(struct kunit *test)
{
	unsigned int shift = PAGE_SHIFT - 2;
	struct iommu_frag_pool pool;
	struct report_log log = {};
	struct counters before = snap();
	void *a, *b;

	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_report, record_report);
	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	a = iommu_frag_alloc(&pool, GFP_KERNEL);
	b = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	iommu_free_pages(a + 8);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 1);
	iommu_free_pages(a);
	iommu_free_pages(a);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 1);
	iommu_free_pages_rcu(b);
	iommu_free_pages_rcu(b);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 2);
	/* reported after the pool lock was dropped */
	KUNIT_EXPECT_EQ(test, log.irqs_off, 0);
	EXPECT_DELTA(test, before, 1);
	rcu_barrier();
	EXPECT_DELTA(test, before, 0);
}

/*
 * A fragment on a list, then freed on its own (its page going back with
 * it): the list put reports it and reads nothing of the released page.
 */
static void iommu_pages_test_frag_list_released(struct kunit *test)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct report_log log = {};
	struct iommu_frag_pool pool;
	struct counters before;
	void *frag;

	if (!IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		kunit_skip(test, "needs CONFIG_IOMMU_PAGES_DEBUG");
	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     PAGE_SHIFT - 1);
	before = snap();
	frag = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, frag);
	iommu_pages_list_add(&list, frag);

	/* the page stays out of the allocator until the test gives it back */
	held_folio = NULL;
	kunit_activate_static_stub(test, iommu_pages_put_folio, hold_put);
	iommu_free_pages(frag);
	kunit_deactivate_static_stub(test, iommu_pages_put_folio);
	KUNIT_ASSERT_PTR_EQ(test, held_folio, virt_to_folio(frag));
	EXPECT_DELTA(test, before, 0);

	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_report, record_report);
	iommu_put_pages_list(&list);
	kunit_deactivate_static_stub(test, iommu_pages_report);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 1);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 0);
	KUNIT_EXPECT_PTR_EQ(test, log.last, (const void *)frag);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&list));
	EXPECT_DELTA(test, before, 0);

	folio_set_count(held_folio, 1);
	folio_put(held_folio);
	held_folio = NULL;
}

/*
 * A reader inside rcu_read_lock() keeps reading a table freed with
 * iommu_free_pages_rcu() until it unlocks; only then do the counters drop
 * (the RCU callback runs outside the test, so no stub sees its frees).
 * With KASAN, an early free is a use-after-free report; with
 * CONFIG_IOMMU_PAGES_DEBUG, early poison breaks the stamp.
 */
static void iommu_pages_test_rcu_free(struct kunit *test)
{
	unsigned int shift = PAGE_SHIFT - 2;
	struct iommu_frag_pool pool;
	struct counters before = snap();
	void *whole, *f1, *f2, *f3;

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	whole = iommu_alloc_pages_sz(GFP_KERNEL, 2 * PAGE_SIZE);
	f1 = iommu_frag_alloc(&pool, GFP_KERNEL);
	f2 = iommu_frag_alloc(&pool, GFP_KERNEL);
	f3 = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_ASSERT_NOT_NULL(test, f1);
	KUNIT_ASSERT_NOT_NULL(test, f2);
	KUNIT_ASSERT_NOT_NULL(test, f3);
	memset(whole, 0x3c, 2 * PAGE_SIZE);
	memset(f1, 0x3d, BIT(shift));
	memset(f2, 0x3e, BIT(shift));
	EXPECT_DELTA(test, before, 2 + 1);

	rcu_read_lock();
	iommu_free_pages_rcu(whole);
	iommu_free_pages_rcu(f1);
	/* let a grace period try to pass while this CPU still reads */
	mdelay(2);
	/* f2 waits for a later grace period than f1 */
	iommu_free_pages_rcu(f2);
	KUNIT_EXPECT_NULL(test, memchr_inv(whole, 0x3c, 2 * PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, memchr_inv(f1, 0x3d, BIT(shift)));
	KUNIT_EXPECT_NULL(test, memchr_inv(f2, 0x3e, BIT(shift)));
	EXPECT_DELTA(test, before, 2 + 1);
	rcu_read_unlock();

	rcu_drain();
	EXPECT_DELTA(test, before, 1);
	/* f1 and f2 are free again: the page hands them out once more */
	KUNIT_EXPECT_PTR_EQ(test, iommu_frag_alloc(&pool, GFP_KERNEL), f1);
	iommu_free_pages(f1);
	/* the last fragment goes after a grace period, and the page with it */
	iommu_free_pages_rcu(f3);
	EXPECT_DELTA(test, before, 1);
	rcu_drain();
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
}

/* Wait (up to 10 s) for @pool to hold no more than @used fragments. */
static bool wait_pool_used(struct iommu_frag_pool *pool, unsigned long used)
{
	unsigned long pages, now;

	for (int i = 0; i < 100000; i++) {
		iommu_frag_pool_counts(pool, &pages, &now);
		if (now <= used)
			return true;
		usleep_range(50, 100);
	}
	return false;
}

/*
 * Wait (up to 10 s) for iommu-pages to drop its reference to @folio, of
 * which the caller holds another.
 */
static bool wait_folio_put(struct folio *folio)
{
	for (int i = 0; i < 100000; i++) {
		if (folio_ref_count(folio) == 1)
			return true;
		usleep_range(50, 100);
	}
	return false;
}

/*
 * Inside rcu_read_lock(): spin (up to 200 ms) until a grace period starts
 * after @cookie was taken; it cannot end before the caller unlocks.  It
 * never starts if one was under way at @cookie: that one cannot end.
 */
static bool wait_gp_started(unsigned long cookie)
{
	for (int i = 0; i < 200; i++) {
		if (get_state_synchronize_rcu() != cookie)
			return true;
		mdelay(1);
	}
	return false;
}

/*
 * A free after a grace period waits for a whole one: when the memory is
 * seen free, a grace period that started after the free has ended (RCU's
 * polling cookies say so exactly; a fixed delay would not pass, however
 * long).  And a fragment freed while its page's callback is pending, for
 * a grace period already under way, waits for the next grace period, not
 * the one in progress (checked only if that grace period starts within
 * 200 ms, which needs none under way before; a synchronize_rcu() makes
 * that likely).  The memory is watched as it comes free (a folio
 * through a reference the test holds, fragments through their pool's
 * count), so the check can only miss a bug (a wait too short that a second
 * grace period covers before the watcher looks), never fail a correct free.
 */
static void iommu_pages_test_rcu_grace_period(struct kunit *test)
{
	unsigned int shift = PAGE_SHIFT - 2;
	unsigned long c0, c1, c2, queued;
	struct iommu_frag_pool pool;
	void *whole, *k, *f1, *f2;
	struct folio *folio;
	bool started;

	/* lazy callbacks may wait longer than the watchers */
	if (IS_ENABLED(CONFIG_RCU_LAZY))
		kunit_skip(test, "CONFIG_RCU_LAZY defers the callbacks");
	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	whole = iommu_alloc_pages_sz(GFP_KERNEL, 2 * PAGE_SIZE);
	k = iommu_frag_alloc(&pool, GFP_KERNEL);
	f1 = iommu_frag_alloc(&pool, GFP_KERNEL);
	f2 = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, whole);
	KUNIT_ASSERT_NOT_NULL(test, k);
	KUNIT_ASSERT_NOT_NULL(test, f1);
	KUNIT_ASSERT_NOT_NULL(test, f2);

	/* the page allocator gets the folio when the test lets it go */
	folio = virt_to_folio(whole);
	folio_get(folio);
	c0 = get_state_synchronize_rcu();
	iommu_free_pages_rcu(whole);
	KUNIT_EXPECT_TRUE(test, wait_folio_put(folio));
	/* the count is read before the grace-period state */
	smp_rmb();
	KUNIT_EXPECT_TRUE(test, poll_state_synchronize_rcu(c0));
	folio_put(folio);

	synchronize_rcu();
	rcu_read_lock();
	c1 = get_state_synchronize_rcu();
	iommu_free_pages_rcu(f1);
	/* ask for a grace period, and wait for it to start */
	queued = start_poll_synchronize_rcu();
	started = wait_gp_started(queued);
	/* f1's callback is pending, for a grace period under way if started */
	c2 = get_state_synchronize_rcu();
	iommu_free_pages_rcu(f2);
	rcu_read_unlock();
	if (!started)
		kunit_info(test, "no grace period started: f2 not checked against one under way\n");
	KUNIT_EXPECT_TRUE(test, wait_pool_used(&pool, 2));
	/* the count is read before the grace-period state */
	smp_rmb();
	KUNIT_EXPECT_TRUE(test, poll_state_synchronize_rcu(c1));
	KUNIT_EXPECT_TRUE(test, wait_pool_used(&pool, 1));
	/* likewise */
	smp_rmb();
	KUNIT_EXPECT_TRUE(test, poll_state_synchronize_rcu(c2));

	iommu_free_pages(k);
	/* a callback still queued (a watcher gave up) uses the pool */
	rcu_drain();
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
}

/*
 * A table put on a list while its RCU free is pending would have its
 * queued rcu_head overwritten by the list link: the debug checks report
 * it and leave it off the list, and the grace period then frees it.
 * Memory from elsewhere is refused the same way; a live table is added.
 */
static void iommu_pages_test_debug_list_add(struct kunit *test)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct counters before = snap();
	struct report_log log = {};
	struct page *page;
	void *virt;

	if (!IS_ENABLED(CONFIG_IOMMU_PAGES_DEBUG))
		kunit_skip(test, "needs CONFIG_IOMMU_PAGES_DEBUG");
	test->priv = &log;
	kunit_activate_static_stub(test, iommu_pages_report, record_report);
	virt = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	/* the callback cannot run before the add */
	rcu_read_lock();
	iommu_free_pages_rcu(virt);
	iommu_pages_list_add(&list, virt);
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&list));
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 1);
	KUNIT_EXPECT_PTR_EQ(test, log.last, (const void *)virt);
	rcu_drain();
	EXPECT_DELTA(test, before, 0);

	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	iommu_pages_list_add(&list, page_address(page));
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&list));
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 2);
	__free_page(page);

	virt = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	iommu_pages_list_add(&list, virt);
	KUNIT_EXPECT_FALSE(test, iommu_pages_list_empty(&list));
	iommu_put_pages_list(&list);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 2);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 0);
	EXPECT_DELTA(test, before, 0);
}

/* For iommu_pages_test_batches: the counter when the first folio goes. */
struct batch_probe {
	struct counters before;
	long first_delta;
	unsigned int puts;
};

static void probe_put(struct folio *folio)
{
	struct batch_probe *p = kunit_get_current_test()->priv;

	if (in_task() && !p->puts++)
		p->first_delta = snap().iommu - p->before.iommu;
	folio_put(folio);
}

/* Is @virt's descriptor on the ring that @leader waits with? */
static bool on_ring(void *leader, void *virt)
{
	struct list_head *first = virt_to_ioptdesc(leader)->iopt_rcu_rest, *p;
	struct list_head *elm = &virt_to_ioptdesc(virt)->iopt_freelist_elm;
	unsigned int n = 0;

	if (!first)
		return false;
	p = first;
	do {
		if (p == elm)
			return true;
		p = p->next;
	} while (p != first && ++n <= 4 * IOMMU_PAGES_BATCH);
	return false;
}

/*
 * The length of the ring a leader waits with, 0 if it leads alone.  Only
 * for a real leader: another folio's field is not a ring.
 */
static unsigned int ring_len(void *virt)
{
	struct list_head *first = virt_to_ioptdesc(virt)->iopt_rcu_rest, *p;
	unsigned int n = 0;

	if (!first)
		return 0;
	p = first;
	do {
		n++;
		p = p->next;
	} while (p != first && n <= 4 * IOMMU_PAGES_BATCH);
	return n;
}

/*
 * Long lists go in batches of IOMMU_PAGES_BATCH.  A put uncounts one batch
 * (interrupts off), frees it, then goes on: when its first folio is freed
 * only the first batch has left the counters.  An RCU put gives each batch
 * its own callback: the first folio of each leads a ring of the others.
 */
static void iommu_pages_test_batches(struct kunit *test)
{
	const unsigned int n = 2 * IOMMU_PAGES_BATCH + 1;
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct batch_probe probe = {};
	unsigned int i, rings[3];
	void **virt;

	virt = kunit_kmalloc_array(test, n, sizeof(*virt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	for (i = 0; i < n; i++) {
		virt[i] = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
		KUNIT_ASSERT_NOT_NULL(test, virt[i]);
		iommu_pages_list_add(&list, virt[i]);
	}
	probe.before = snap();
	test->priv = &probe;
	kunit_activate_static_stub(test, iommu_pages_put_folio, probe_put);
	iommu_put_pages_list(&list);
	kunit_deactivate_static_stub(test, iommu_pages_put_folio);
	KUNIT_EXPECT_EQ(test, probe.puts, n);
	KUNIT_EXPECT_EQ(test, probe.first_delta, -(long)IOMMU_PAGES_BATCH);
	EXPECT_DELTA(test, probe.before, -(long)n);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&list));

	for (i = 0; i < n; i++) {
		virt[i] = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
		KUNIT_ASSERT_NOT_NULL(test, virt[i]);
		iommu_pages_list_add(&list, virt[i]);
	}
	probe.before = snap();
	/*
	 * No callback runs while the rings are read; the expectations, which
	 * may allocate, come after.
	 */
	rcu_read_lock();
	iommu_put_pages_list_rcu(&list);
	/* a folio on the first batch's ring does not lead one: UINT_MAX */
	for (i = 0; i < ARRAY_SIZE(rings); i++)
		rings[i] = i && on_ring(virt[0], virt[i * IOMMU_PAGES_BATCH]) ?
			   UINT_MAX : ring_len(virt[i * IOMMU_PAGES_BATCH]);
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&list));
	KUNIT_EXPECT_EQ(test, rings[0], IOMMU_PAGES_BATCH - 1);
	KUNIT_EXPECT_EQ(test, rings[1], IOMMU_PAGES_BATCH - 1);
	KUNIT_EXPECT_EQ(test, rings[2], 0);
	rcu_drain();
	EXPECT_DELTA(test, probe.before, -(long)n);
}

/* The same for a whole list: one grace period, then everything goes. */
static void iommu_pages_test_rcu_list(struct kunit *test)
{
	static const size_t sizes[] = { PAGE_SIZE, 2 * PAGE_SIZE, PAGE_SIZE };
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	unsigned int shift = IOMMU_FRAG_MIN_SHIFT;
	void *virt[ARRAY_SIZE(sizes)], *f[2];
	struct iommu_frag_pool pool;
	struct counters before = snap();
	unsigned int i;

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     shift);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		virt[i] = iommu_alloc_pages_sz(GFP_KERNEL, sizes[i]);
		KUNIT_ASSERT_NOT_NULL(test, virt[i]);
		memset(virt[i], 0x40 + i, sizes[i]);
		/* the user's counter starts at 0 and is the user's */
		KUNIT_EXPECT_EQ(test, atomic_read(iommu_pages_live(virt[i])), 0);
		atomic_set(iommu_pages_live(virt[i]), 100 + i);
		iommu_pages_list_add(&list, virt[i]);
	}
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		f[i] = iommu_frag_alloc(&pool, GFP_ATOMIC);
		KUNIT_ASSERT_NOT_NULL(test, f[i]);
		memset(f[i], 0x50 + i, BIT(shift));
		iommu_pages_list_add(&list, f[i]);
	}
	EXPECT_DELTA(test, before, 4 + 1);

	rcu_read_lock();
	iommu_put_pages_list_rcu(&list);
	KUNIT_EXPECT_TRUE(test, iommu_pages_list_empty(&list));
	mdelay(2);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		KUNIT_EXPECT_NULL(test, memchr_inv(virt[i], 0x40 + i,
						   sizes[i]));
		/* intact while waiting, the batch's leader's too */
		KUNIT_EXPECT_EQ(test, atomic_read(iommu_pages_live(virt[i])),
				100 + i);
	}
	for (i = 0; i < ARRAY_SIZE(f); i++)
		KUNIT_EXPECT_NULL(test, memchr_inv(f[i], 0x50 + i,
						   BIT(shift)));
	EXPECT_DELTA(test, before, 4 + 1);
	rcu_read_unlock();

	rcu_drain();
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
	/* an empty list is fine too */
	iommu_put_pages_list_rcu(&list);
	rcu_drain();
	EXPECT_DELTA(test, before, 0);
}

/*
 * The memory report (figures, with one check): page-table memory of the
 * io-pgtable LPAE formats in the configurations of their boot selftest, and
 * of ARMv7s, built by the same mappings twice: with every table on whole
 * pages (6.12, and mainline), and with tables below PAGE_SIZE as fragments.
 * For ARMv7s, 6.12 kept the 1 KiB L2 tables in a kmem_cache: that column
 * is the L1 table's pages plus 1 KiB per L2 table.
 */
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE) || \
	IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_ARMV7S)
static void report_tlb_flush_all(void *cookie)
{
}

static void report_tlb_flush(unsigned long iova, size_t size, size_t granule,
			     void *cookie)
{
}

static void report_tlb_add_page(struct iommu_iotlb_gather *gather,
				unsigned long iova, size_t granule,
				void *cookie)
{
}

static const struct iommu_flush_ops report_tlb_ops = {
	.tlb_flush_all = report_tlb_flush_all,
	.tlb_flush_walk = report_tlb_flush,
	.tlb_add_page = report_tlb_add_page,
};

/*
 * Pages of table memory for a fixed set of mappings: 256 contiguous
 * granule pages at 0, and 16 more spread over the input range (a chain of
 * tables each).
 */
static long report_pages(struct kunit *test, enum io_pgtable_fmt fmt,
			 struct io_pgtable_cfg *base, bool whole)
{
	struct io_pgtable_cfg cfg = *base;
	size_t gran = 1UL << __ffs(cfg.pgsize_bitmap);
	struct io_pgtable_ops *ops;
	struct counters before;
	unsigned long iova;
	size_t mapped;
	long pages;
	int i;

	iommu_pages_whole_only = whole;
	before = snap();
	/* io-pgtable-arm's own tables, whatever this boot builds them with. */
	cfg.impl = IO_PGTABLE_IMPL_CLASSIC;
	ops = alloc_io_pgtable_ops(fmt, &cfg, &cfg);
	if (!ops) {
		iommu_pages_whole_only = false;
		return -1;
	}
	/*
	 * Whatever iommu-pages hands out, an LPAE table base stays aligned to
	 * the granule or the page, whichever is smaller, as with 6.12's whole
	 * pages: not every walker of the format takes a base with lower bits
	 * set.
	 */
	if (fmt == ARM_64_LPAE_S1 || fmt == ARM_64_LPAE_S2) {
		u64 ttb = fmt == ARM_64_LPAE_S1 ? cfg.arm_lpae_s1_cfg.ttbr :
						  cfg.arm_lpae_s2_cfg.vttbr;

		KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED(ttb, min_t(size_t, gran,
								  PAGE_SIZE)),
				      "fmt %d ias %u granule %zu: table base %llx",
				      fmt, cfg.ias, gran, ttb);
	}
	for (i = 0; i < 16; i++) {
		iova = ((unsigned long)i << (cfg.ias - 4)) + 512 * gran;
		KUNIT_EXPECT_EQ(test, ops->map_pages(ops, iova, iova, gran, 1,
						     IOMMU_READ | IOMMU_WRITE,
						     GFP_KERNEL, &mapped), 0);
	}
	for (i = 0; i < 256; i++)
		KUNIT_EXPECT_EQ(test, ops->map_pages(ops, i * gran, i * gran,
						     gran, 1,
						     IOMMU_READ | IOMMU_WRITE,
						     GFP_KERNEL, &mapped), 0);
	pages = snap().iommu - before.iommu;
	free_io_pgtable_ops(ops);
	iommu_pages_whole_only = false;
	EXPECT_DELTA(test, before, 0);
	return pages;
}

static void report_line(struct kunit *test, const char *name,
			long pages_612, long bytes_612, long pages_new)
{
	kunit_info(test, "memory report: %-18s 6.12 %6ld KiB (%4ld pages)  new %6ld KiB (%4ld pages)\n",
		   name, bytes_612 >> 10, pages_612,
		   (pages_new * PAGE_SIZE) >> 10, pages_new);
}

static void iommu_pages_test_report(struct kunit *test)
{
	static const unsigned int ias[] = { 32, 36, 40, 42, 44, 48 };
	static const unsigned long pgsizes[] = {
		SZ_4K | SZ_2M | SZ_1G, SZ_16K | SZ_32M, SZ_64K | SZ_512M,
	};
	struct io_pgtable_cfg cfg = {
		.tlb = &report_tlb_ops,
		.coherent_walk = true,
		.oas = 48,
	};
	long total_612 = 0, total_new = 0;
	unsigned int f, g, i;
	char name[32];

	cfg.iommu_dev = kunit_device_register(test, "iommu-pages-report");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cfg.iommu_dev);
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
	for (f = 0; f < 2; f++)
		for (g = 0; g < ARRAY_SIZE(pgsizes); g++)
			for (i = 0; i < ARRAY_SIZE(ias); i++) {
				enum io_pgtable_fmt fmt = f ? ARM_64_LPAE_S2 :
							      ARM_64_LPAE_S1;
				long old, new;

				cfg.pgsize_bitmap = pgsizes[g];
				cfg.ias = ias[i];
				old = report_pages(test, fmt, &cfg, true);
				new = report_pages(test, fmt, &cfg, false);
				if (old < 0 || new < 0)
					continue;	/* not a valid config */
				/* fragments never take more memory */
				KUNIT_EXPECT_LE(test, new, old);
				snprintf(name, sizeof(name), "LPAE S%u %luK ias %u",
					 f + 1, (1UL << __ffs(pgsizes[g])) >> 10,
					 ias[i]);
				report_line(test, name, old, old * PAGE_SIZE,
					    new);
				total_612 += old;
				total_new += new;
			}
	kunit_info(test, "memory report: LPAE total        6.12 %6ld KiB  new %6ld KiB\n",
		   (total_612 * PAGE_SIZE) >> 10, (total_new * PAGE_SIZE) >> 10);
#endif
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_ARMV7S)
	{
		long whole, new, l1 = 1L << get_order(SZ_16K), l2;

		cfg.pgsize_bitmap = SZ_4K | SZ_64K | SZ_1M | SZ_16M;
		cfg.ias = 32;
		cfg.oas = 32;
		whole = report_pages(test, ARM_V7S, &cfg, true);
		new = report_pages(test, ARM_V7S, &cfg, false);
		KUNIT_ASSERT_GT(test, whole, 0);
		KUNIT_EXPECT_LE(test, new, whole);
		/*
		 * 6.12: the L1 table on whole pages, every L2 table 1 KiB of
		 * a kmem_cache (its slab pages' slack not counted).
		 */
		l2 = whole - l1;
		report_line(test, "ARMv7s", whole, l1 * PAGE_SIZE + l2 * SZ_1K,
			    new);
		kunit_info(test, "memory report: ARMv7s whole pages %ld KiB\n",
			   (whole * PAGE_SIZE) >> 10);
	}
#endif
}
#else
static void iommu_pages_test_report(struct kunit *test)
{
	kunit_skip(test, "needs the io-pgtable LPAE or ARMv7s format");
}
#endif

/*
 * Allocation and free in interrupt context: the same work from a hard
 * interrupt (an hrtimer in HRTIMER_MODE_REL_HARD) and from a softirq (a
 * timer_list).  Each allocates whole pages and fragments with GFP_ATOMIC,
 * checks they are zeroed, and frees them at once, after a grace period,
 * and through lists put at once and after a grace period.  On PREEMPT_RT,
 * where the page allocator and spinlock_t sleep, there is no allocation
 * in hard interrupts, and that half is skipped.
 */
struct ctx_work {
	struct hrtimer hrtimer;
	struct timer_list timer;
	struct completion done;
	bool in_ctx;
	unsigned int failed;
};

static void ctx_do_work(struct ctx_work *w, bool hard)
{
	/* order 0 only: a higher order may fail in atomic context */
	static const size_t sizes[] = { PAGE_SIZE, SZ_64, SZ_256,
					PAGE_SIZE / 2 };
	struct iommu_pages_list now = IOMMU_PAGES_LIST_INIT(now);
	struct iommu_pages_list later = IOMMU_PAGES_LIST_INIT(later);
	unsigned int i, k;

	w->in_ctx = hard ? in_hardirq() : in_serving_softirq();
	for (k = 0; k < 4; k++) {
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			void *virt = iommu_alloc_pages_sz(GFP_ATOMIC, sizes[i]);

			if (!virt || memchr_inv(virt, 0, sizes[i])) {
				w->failed++;
				iommu_free_pages(virt);
				continue;
			}
			memset(virt, 0xa5, sizes[i]);
			switch (k) {
			case 0:
				iommu_free_pages(virt);
				break;
			case 1:
				iommu_free_pages_rcu(virt);
				break;
			case 2:
				iommu_pages_list_add(&now, virt);
				break;
			default:
				iommu_pages_list_add(&later, virt);
				break;
			}
		}
	}
	iommu_put_pages_list(&now);
	iommu_put_pages_list_rcu(&later);
	complete(&w->done);
}

static enum hrtimer_restart ctx_hrtimer_fn(struct hrtimer *t)
{
	ctx_do_work(container_of(t, struct ctx_work, hrtimer), true);
	return HRTIMER_NORESTART;
}

static void ctx_timer_fn(struct timer_list *t)
{
	ctx_do_work(container_of(t, struct ctx_work, timer), false);
}

static void iommu_pages_test_irq_contexts(struct kunit *test)
{
	struct counters before = snap();
	struct ctx_work w = {};

	init_completion(&w.done);
	if (!IS_ENABLED(CONFIG_PREEMPT_RT)) {
		hrtimer_init_on_stack(&w.hrtimer, CLOCK_MONOTONIC,
				      HRTIMER_MODE_REL_HARD);
		w.hrtimer.function = ctx_hrtimer_fn;
		hrtimer_start(&w.hrtimer, ns_to_ktime(100 * NSEC_PER_USEC),
			      HRTIMER_MODE_REL_HARD);
		wait_for_completion(&w.done);
		hrtimer_cancel(&w.hrtimer);
		destroy_hrtimer_on_stack(&w.hrtimer);
		KUNIT_EXPECT_TRUE_MSG(test, w.in_ctx,
				      "the hrtimer did not run in hardirq context");
		KUNIT_EXPECT_EQ_MSG(test, w.failed, 0, "in hardirq context");
	}

	w.in_ctx = false;
	w.failed = 0;
	reinit_completion(&w.done);
	timer_setup_on_stack(&w.timer, ctx_timer_fn, 0);
	mod_timer(&w.timer, jiffies + 1);
	wait_for_completion(&w.done);
	del_timer_sync(&w.timer);
	destroy_timer_on_stack(&w.timer);
	KUNIT_EXPECT_TRUE_MSG(test, w.in_ctx,
			      "the timer did not run in softirq context");
	KUNIT_EXPECT_EQ_MSG(test, w.failed, 0, "in softirq context");

	rcu_drain();
	EXPECT_DELTA(test, before, 0);
}

/*
 * Several threads on one pool of fragments (and whole pages), against the
 * RCU callbacks that free what they queued: each keeps a window of live
 * allocations, each stamped with a pattern of its thread and slot, checks
 * that a new one is zeroed and that the stamp is intact before each free,
 * and frees at once, after a grace period or through lists.  No memory
 * may be handed out twice (a stamp would change), and every page must be
 * back when all is done.
 */
#define STRESS_THREADS 4
#define STRESS_ITERS 2000
#define STRESS_LIVE 32

struct stress {
	struct completion done;
	unsigned int id;
	unsigned int bad;
	unsigned int failed;
};

static int stress_fn(void *data)
{
	struct stress *st = data;
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	void *live[STRESS_LIVE] = {};
	size_t size[STRESS_LIVE] = {};
	struct rnd_state rnd;
	unsigned int i;

	prandom_seed_state(&rnd, st->id + 1);
	for (i = 0; i < STRESS_ITERS; i++) {
		unsigned int slot = prandom_u32_state(&rnd) % STRESS_LIVE;
		u8 stamp = st->id * STRESS_LIVE + slot + 1;

		if (live[slot]) {
			if (memchr_inv(live[slot], stamp, size[slot]))
				st->bad++;
			switch (prandom_u32_state(&rnd) % 3) {
			case 0:
				iommu_free_pages(live[slot]);
				break;
			case 1:
				iommu_free_pages_rcu(live[slot]);
				break;
			default:
				iommu_pages_list_add(&list, live[slot]);
				break;
			}
			live[slot] = NULL;
		}
		/* mostly 256-byte fragments: one pool; some whole pages */
		size[slot] = prandom_u32_state(&rnd) % 8 ? SZ_256 : PAGE_SIZE;
		live[slot] = iommu_alloc_pages_sz(GFP_KERNEL, size[slot]);
		if (!live[slot]) {
			st->failed++;
			continue;
		}
		if (memchr_inv(live[slot], 0, size[slot]))
			st->bad++;
		memset(live[slot], stamp, size[slot]);
		if (!(i % 64)) {
			if (i % 128)
				iommu_put_pages_list_rcu(&list);
			else
				iommu_put_pages_list(&list);
			cond_resched();
		}
	}
	for (i = 0; i < STRESS_LIVE; i++) {
		if (live[i] && memchr_inv(live[i], st->id * STRESS_LIVE + i + 1,
					  size[i]))
			st->bad++;
		iommu_free_pages_rcu(live[i]);
	}
	iommu_put_pages_list_rcu(&list);
	complete(&st->done);
	return 0;
}

static void iommu_pages_test_threads(struct kunit *test)
{
	struct stress st[STRESS_THREADS] = {};
	struct counters before = snap();
	unsigned int i, started;

	BUILD_BUG_ON(STRESS_THREADS * STRESS_LIVE > 255);
	for (started = 0; started < STRESS_THREADS; started++) {
		struct task_struct *t;

		st[started].id = started;
		init_completion(&st[started].done);
		t = kthread_run(stress_fn, &st[started], "iommu-pages-stress/%u",
				started);
		if (IS_ERR(t))
			break;
	}
	/* the threads use st[]: wait for every one started before failing */
	if (started < STRESS_THREADS) {
		for (i = 0; i < started; i++)
			wait_for_completion(&st[i].done);
		KUNIT_FAIL(test, "could not start thread %u", started);
		return;
	}
	for (i = 0; i < STRESS_THREADS; i++) {
		wait_for_completion(&st[i].done);
		KUNIT_EXPECT_EQ_MSG(test, st[i].bad, 0, "thread %u saw a stamp change", i);
		KUNIT_EXPECT_EQ_MSG(test, st[i].failed, 0, "thread %u: allocation failed", i);
	}
	rcu_drain();
	EXPECT_DELTA(test, before, 0);
}

/* --- CONFIG_IOMMU_PAGES_SEPARATE_DESC ------------------------------------ */

#ifdef CONFIG_IOMMU_PAGES_SEPARATE_DESC
static long desc_count(void)
{
	return atomic_long_read(&iommu_pages_descs[IOMMU_PAGES_DESC_CACHE]) +
	       atomic_long_read(&iommu_pages_descs[IOMMU_PAGES_DESC_KMALLOC]);
}

/*
 * One allocation's descriptor: a slab object of its own, reached through
 * the head page's private word (tagged), pointing back to the folio.
 */
static void check_desc_apart(struct kunit *test, void *virt)
{
	struct folio *folio = virt_to_folio(virt);
	struct ioptdesc *iopt = virt_to_ioptdesc(virt);

	KUNIT_EXPECT_EQ(test, (unsigned long)folio->private,
			(unsigned long)iopt | IOPTDESC_MEMDESC_TYPE);
	KUNIT_EXPECT_PTR_EQ(test, ioptdesc_folio(iopt), folio);
	KUNIT_EXPECT_TRUE(test, folio_test_slab(virt_to_folio(iopt)));
	KUNIT_EXPECT_NULL(test, folio->mapping);
}

/*
 * The descriptor lives apart from struct page: one per folio and one per
 * page of fragments, exactly counted, each sizeof(struct ioptdesc) bytes;
 * lists and RCU freeing leave every word of the head page as the page
 * allocator left it, and everything goes when the memory does.
 */
static void iommu_pages_test_desc_apart(struct kunit *test)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct counters before = snap();
	long descs = desc_count(), bytes = iommu_pages_desc_bytes();
	struct iommu_frag_pool pool;
	struct page snapshot[3];
	void *a, *b, *f1, *f2;
	bool same[3];

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     PAGE_SHIFT - 2);
	a = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
	b = iommu_alloc_pages_sz(GFP_KERNEL, 4 * PAGE_SIZE);
	f1 = iommu_frag_alloc(&pool, GFP_KERNEL);
	f2 = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, f1);
	KUNIT_ASSERT_NOT_NULL(test, f2);
	KUNIT_EXPECT_PTR_EQ(test, virt_to_folio(f1), virt_to_folio(f2));
	EXPECT_DELTA(test, before, 1 + 4 + 1);
	KUNIT_EXPECT_EQ(test, desc_count() - descs, 3);
	KUNIT_EXPECT_EQ(test, iommu_pages_desc_bytes() - bytes,
			3 * (long)sizeof(struct ioptdesc));
	check_desc_apart(test, a);
	check_desc_apart(test, b);
	check_desc_apart(test, f1);

	memcpy(&snapshot[0], virt_to_page(a), sizeof(struct page));
	memcpy(&snapshot[1], virt_to_page(b), sizeof(struct page));
	memcpy(&snapshot[2], virt_to_page(f1), sizeof(struct page));
	iommu_pages_list_add(&list, a);
	iommu_pages_list_add(&list, f1);
	/* no callback runs while the pages are compared */
	rcu_read_lock();
	iommu_free_pages_rcu(b);
	same[0] = !memcmp(&snapshot[0], virt_to_page(a), sizeof(struct page));
	same[1] = !memcmp(&snapshot[1], virt_to_page(b), sizeof(struct page));
	same[2] = !memcmp(&snapshot[2], virt_to_page(f1), sizeof(struct page));
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE_MSG(test, same[0], "a list add wrote to struct page");
	KUNIT_EXPECT_TRUE_MSG(test, same[1], "an RCU free wrote to struct page");
	KUNIT_EXPECT_TRUE_MSG(test, same[2],
			      "a fragment's list add wrote to struct page");

	iommu_put_pages_list(&list);
	iommu_free_pages(f2);
	rcu_drain();
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_EQ(test, desc_count(), descs);
	KUNIT_EXPECT_EQ(test, iommu_pages_desc_bytes(), bytes);

	kunit_info(test, "memory report: %ld descriptors live, %ld of them from kmalloc (before the cache), %ld bytes\n",
		   desc_count(),
		   atomic_long_read(&iommu_pages_descs[IOMMU_PAGES_DESC_KMALLOC]),
		   iommu_pages_desc_bytes());
	/* per GiB of whole-page tables: today, here, and with 8-byte pages */
	kunit_info(test, "memory report: descriptor %zu bytes; per GiB of tables: struct page %lu KiB, descriptors %lu KiB, 8-byte struct page + descriptor %lu KiB\n",
		   sizeof(struct ioptdesc),
		   (SZ_1G / PAGE_SIZE) * sizeof(struct page) / SZ_1K,
		   (SZ_1G / PAGE_SIZE) * sizeof(struct ioptdesc) / SZ_1K,
		   (SZ_1G / PAGE_SIZE) * (8 + sizeof(struct ioptdesc)) / SZ_1K);
}

/*
 * The stubs below also catch the test thread's interrupts (a stub follows
 * current): there they do what the real function does, uncounted.
 */
static struct ioptdesc *fail_desc(struct kmem_cache *cache, gfp_t gfp,
				  int nid)
{
	if (!in_task())
		return kzalloc_node(sizeof(struct ioptdesc), gfp, nid);
	return NULL;
}

/* For iommu_pages_test_desc_failure: calls seen through the stubs. */
struct desc_calls {
	unsigned int folios;
	unsigned int allocs;
	unsigned int puts;
};

static struct folio *count_alloc_folio(gfp_t gfp, unsigned int order,
				       int nid)
{
	struct desc_calls *calls = kunit_get_current_test()->priv;
	struct page *page;

	if (!in_task()) {
		page = alloc_pages_node(nid, gfp | __GFP_COMP, order);
		return page ? page_folio(page) : NULL;
	}
	calls->folios++;
	return NULL;
}

static struct ioptdesc *count_alloc_desc(struct kmem_cache *cache, gfp_t gfp,
					 int nid)
{
	struct desc_calls *calls = kunit_get_current_test()->priv;
	struct ioptdesc *iopt = kzalloc_node(sizeof(*iopt), gfp, nid);

	if (iopt && in_task())
		calls->allocs++;
	return iopt;
}

/* A descriptor goes only once its folio is back in the page allocator. */
static void count_put_desc(struct ioptdesc *iopt)
{
	struct kunit *test = kunit_get_current_test();
	struct desc_calls *calls = test->priv;

	if (in_task()) {
		calls->puts++;
		if (iopt->iopt_folio)
			KUNIT_EXPECT_EQ(test,
					folio_ref_count(iopt->iopt_folio), 0);
	}
	kfree(iopt);
}

/*
 * No descriptor, no table: NULL, the counters unchanged, and the page
 * allocator never asked.  A table whose descriptor was allocated but whose
 * folio was not gives the descriptor back, as does every free.
 */
static void iommu_pages_test_desc_failure(struct kunit *test)
{
	struct counters before = snap();
	long descs = desc_count(), bytes = iommu_pages_desc_bytes();
	struct desc_calls calls = {};
	struct iommu_frag_pool pool;
	void *virt;

	iommu_frag_pool_init(&pool, numa_mem_id(), IOMMU_FRAG_ZONE_NORMAL,
			     IOMMU_FRAG_MIN_SHIFT);
	test->priv = &calls;
	kunit_activate_static_stub(test, iommu_pages_alloc_folio,
				   count_alloc_folio);
	kunit_activate_static_stub(test, iommu_pages_alloc_desc, fail_desc);
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, SZ_2M));
	KUNIT_EXPECT_NULL(test, iommu_frag_alloc(&pool, GFP_ATOMIC));
	KUNIT_EXPECT_EQ(test, calls.folios, 0);

	/* a descriptor, then no folio: the descriptor goes back */
	kunit_activate_static_stub(test, iommu_pages_alloc_desc,
				   count_alloc_desc);
	kunit_activate_static_stub(test, iommu_pages_put_desc, count_put_desc);
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, iommu_frag_alloc(&pool, GFP_ATOMIC));
	KUNIT_EXPECT_EQ(test, calls.folios, 2);
	KUNIT_EXPECT_EQ(test, calls.allocs, 2);
	KUNIT_EXPECT_EQ(test, calls.puts, 2);
	kunit_deactivate_static_stub(test, iommu_pages_alloc_folio);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_EQ(test, desc_count(), descs);
	KUNIT_EXPECT_EQ(test, iommu_pages_desc_bytes(), bytes);

	/* and both work again; a free puts the descriptor */
	virt = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	KUNIT_EXPECT_EQ(test, desc_count() - descs, 1);
	iommu_free_pages(virt);
	KUNIT_EXPECT_EQ(test, calls.allocs, 3);
	KUNIT_EXPECT_EQ(test, calls.puts, 3);
	kunit_deactivate_static_stub(test, iommu_pages_alloc_desc);
	kunit_deactivate_static_stub(test, iommu_pages_put_desc);
	KUNIT_EXPECT_EQ(test, desc_count(), descs);
	EXPECT_DELTA(test, before, 0);
}
#else
static void iommu_pages_test_desc_apart(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_IOMMU_PAGES_SEPARATE_DESC");
}

static void iommu_pages_test_desc_failure(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_IOMMU_PAGES_SEPARATE_DESC");
}
#endif

static struct kunit_case iommu_pages_frag_cases[] = {
	KUNIT_CASE(iommu_pages_test_frag_sizes),
	KUNIT_CASE(iommu_pages_test_frag_node_pools),
	KUNIT_CASE(iommu_pages_test_frag_pages),
	KUNIT_CASE(iommu_pages_test_frag_reuse),
	KUNIT_CASE(iommu_pages_test_frag_counts),
	KUNIT_CASE(iommu_pages_test_frag_report),
	KUNIT_CASE(iommu_pages_test_frag_dma32),
	KUNIT_CASE(iommu_pages_test_frag_lists),
	KUNIT_CASE(iommu_pages_test_frag_random),
	KUNIT_CASE(iommu_pages_test_frag_misuse),
	KUNIT_CASE(iommu_pages_test_frag_list_released),
	KUNIT_CASE(iommu_pages_test_frag_kasan),
	KUNIT_CASE(iommu_pages_test_page_type),
	KUNIT_CASE(iommu_pages_test_rcu_free),
	KUNIT_CASE(iommu_pages_test_rcu_grace_period),
	KUNIT_CASE(iommu_pages_test_rcu_list),
	KUNIT_CASE(iommu_pages_test_debug_list_add),
	KUNIT_CASE(iommu_pages_test_batches),
	KUNIT_CASE(iommu_pages_test_irq_contexts),
	KUNIT_CASE(iommu_pages_test_desc_apart),
	KUNIT_CASE(iommu_pages_test_desc_failure),
	KUNIT_CASE_SLOW(iommu_pages_test_threads),
	KUNIT_CASE_SLOW(iommu_pages_test_report),
	{}
};

static struct kunit_suite iommu_pages_frag_suite = {
	.name = "iommu-pages-frag",
	.test_cases = iommu_pages_frag_cases,
};

/*
 * Memory cgroups.  A case runs in a kernel thread of the root cgroup, so the
 * suite is meant to be started by writing its debugfs "run" file from a task
 * in a child cgroup (the guest init does); suite_init runs in that task and
 * takes its memcg, which the case then charges with set_active_memcg().  At
 * boot, in the root cgroup, the case checks that nothing is charged; it
 * must not skip there, as KUnit never re-runs a case that once skipped.
 *
 * The memcg counters are exact only after an rstat flush, and
 * cgroup_rstat_flush() is not exported: the test must be built in.
 */
#if IS_BUILTIN(CONFIG_IOMMU_PAGES_KUNIT_TEST) && defined(CONFIG_MEMCG)
static struct mem_cgroup *memcg_target;

static int iommu_pages_memcg_init(struct kunit_suite *suite)
{
	struct mem_cgroup *memcg;

	if (!current->mm)
		return 0;
	memcg = get_mem_cgroup_from_mm(current->mm);
	if (memcg && mem_cgroup_is_root(memcg)) {
		mem_cgroup_put(memcg);
		memcg = NULL;
	}
	memcg_target = memcg;
	return 0;
}

static void iommu_pages_memcg_exit(struct kunit_suite *suite)
{
	mem_cgroup_put(memcg_target);
	memcg_target = NULL;
}

struct memcg_counters {
	long memcg;	/* the memcg's NR_SECONDARY_PAGETABLE */
	long lruvec;	/* the same in its lruvec of the local node */
	struct counters node;
};

static struct memcg_counters memcg_snap(struct mem_cgroup *memcg, int nid)
{
	struct memcg_counters c;

	cgroup_rstat_flush(memcg->css.cgroup);
	c.memcg = memcg_page_state(memcg, NR_SECONDARY_PAGETABLE);
	c.lruvec = lruvec_page_state(mem_cgroup_lruvec(memcg, NODE_DATA(nid)),
				     NR_SECONDARY_PAGETABLE);
	c.node = snap();
	return c;
}

static void expect_memcg_delta(struct kunit *test, struct mem_cgroup *memcg,
			       int nid, struct memcg_counters before,
			       long charged, long all, int line)
{
	struct memcg_counters now = memcg_snap(memcg, nid);

	KUNIT_EXPECT_EQ_MSG(test, now.memcg - before.memcg, charged,
			    "memcg NR_SECONDARY_PAGETABLE, line %d", line);
	KUNIT_EXPECT_EQ_MSG(test, now.lruvec - before.lruvec, charged,
			    "lruvec NR_SECONDARY_PAGETABLE, line %d", line);
	expect_delta(test, before.node, all, line);
}

/* The memcg moved by @charged pages, the node counters by @all. */
#define EXPECT_MEMCG_DELTA(test, memcg, nid, before, charged, all) \
	expect_memcg_delta(test, memcg, nid, before, charged, all, __LINE__)

static struct mem_cgroup *memcg_of(void *virt)
{
	struct mem_cgroup *memcg;

	rcu_read_lock();
	memcg = folio_memcg(virt_to_folio(virt));
	rcu_read_unlock();
	return memcg;
}

/* The page a fragment is on. */
static void *frag_page(void *virt)
{
	return (void *)((unsigned long)virt & PAGE_MASK);
}

/*
 * Fragments with __GFP_ACCOUNT come from pages charged to the active memcg
 * that hold that memcg's fragments only: each page is charged and counted
 * once, and uncharged when its last fragment goes, at once or after a
 * grace period.
 */
static void iommu_pages_test_memcg_frags(struct kunit *test,
					 struct mem_cgroup *memcg, int nid,
					 struct memcg_counters before)
{
	unsigned int i, per = PAGE_SIZE >> IOMMU_FRAG_MIN_SHIFT;
	struct iommu_frag_pool pool;
	struct mem_cgroup *old;
	void **f, *c, *d, *e;

	f = kunit_kcalloc(test, per, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	iommu_frag_pool_init(&pool, nid, IOMMU_FRAG_ZONE_NORMAL,
			     IOMMU_FRAG_MIN_SHIFT);
	/* a charged page full of the memcg's fragments, and uncharged ones */
	old = set_active_memcg(memcg);
	for (i = 0; i < per; i++)
		f[i] = iommu_frag_alloc(&pool, GFP_KERNEL_ACCOUNT);
	c = iommu_frag_alloc(&pool, GFP_KERNEL);
	set_active_memcg(old);
	/* the case's kernel thread is in the root cgroup: nothing to charge */
	d = iommu_frag_alloc(&pool, GFP_KERNEL_ACCOUNT);
	for (i = 0; i < per; i++) {
		KUNIT_ASSERT_NOT_NULL(test, f[i]);
		KUNIT_EXPECT_PTR_EQ(test, frag_page(f[i]), frag_page(f[0]));
	}
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_EXPECT_PTR_EQ(test, memcg_of(f[0]), memcg);
	KUNIT_EXPECT_NULL(test, memcg_of(c));
	KUNIT_EXPECT_PTR_NE(test, frag_page(c), frag_page(f[0]));
	KUNIT_EXPECT_PTR_EQ(test, frag_page(d), frag_page(c));
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 1, 2);

	/*
	 * A charged page that has a free fragment again serves its memcg,
	 * and no one else.
	 */
	iommu_free_pages(f[1]);
	e = iommu_frag_alloc(&pool, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, e);
	KUNIT_EXPECT_PTR_EQ(test, frag_page(e), frag_page(c));
	old = set_active_memcg(memcg);
	f[1] = iommu_frag_alloc(&pool, GFP_KERNEL_ACCOUNT);
	set_active_memcg(old);
	KUNIT_ASSERT_NOT_NULL(test, f[1]);
	KUNIT_EXPECT_PTR_EQ(test, frag_page(f[1]), frag_page(f[0]));
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 1, 2);

	/* The last fragment goes after a grace period: uncharged then. */
	for (i = 1; i < per; i++)
		iommu_free_pages(f[i]);
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 1, 2);
	iommu_free_pages_rcu(f[0]);
	rcu_barrier();
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 0, 1);
	iommu_free_pages(c);
	iommu_free_pages(d);
	iommu_free_pages(e);
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 0, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&pool.partial));
	for (i = 0; i < IOMMU_FRAG_MEMCG_BUCKETS; i++)
		KUNIT_EXPECT_TRUE(test, list_empty(&pool.charged[i]));
}

static void iommu_pages_test_memcg(struct kunit *test)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct mem_cgroup *memcg = memcg_target, *old;
	int nid = numa_mem_id();
	long nc = pages_for(SZ_64K), nd = pages_for(3 * PAGE_SIZE);
	struct memcg_counters before;
	void *a, *b, *c, *d;

	if (!memcg) {
		/* In the root cgroup (at boot) __GFP_ACCOUNT charges nothing. */
		struct counters root = snap();

		a = iommu_alloc_pages_node_sz(nid, GFP_KERNEL_ACCOUNT, SZ_64K);
		KUNIT_ASSERT_NOT_NULL(test, a);
		KUNIT_EXPECT_NULL(test, memcg_of(a));
		EXPECT_DELTA(test, root, nc);
		iommu_free_pages(a);
		EXPECT_DELTA(test, root, 0);
		return;
	}
	kunit_info(test, "charging a child memory cgroup\n");
	before = memcg_snap(memcg, nid);

	old = set_active_memcg(memcg);
	a = iommu_alloc_pages_node_sz(nid, GFP_KERNEL_ACCOUNT, PAGE_SIZE);
	b = iommu_alloc_pages_node_sz(nid, GFP_KERNEL, 2 * PAGE_SIZE);
	c = iommu_alloc_pages_node_sz(nid, GFP_KERNEL_ACCOUNT, SZ_64K);
	d = iommu_alloc_pages_node_sz(nid, GFP_ATOMIC | __GFP_ACCOUNT,
				      3 * PAGE_SIZE);
	set_active_memcg(old);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);
	KUNIT_ASSERT_NOT_NULL(test, d);

	/* Only __GFP_ACCOUNT charges, and it charges the active memcg. */
	KUNIT_EXPECT_PTR_EQ(test, memcg_of(a), memcg);
	KUNIT_EXPECT_NULL(test, memcg_of(b));
	KUNIT_EXPECT_PTR_EQ(test, memcg_of(c), memcg);
	KUNIT_EXPECT_PTR_EQ(test, memcg_of(d), memcg);
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 1 + nc + nd, 3 + nc + nd);

	/* A list mixing charged and uncharged allocations uncounts each. */
	iommu_pages_list_add(&list, a);
	iommu_pages_list_add(&list, b);
	iommu_pages_list_add(&list, c);
	iommu_put_pages_list(&list);
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, nd, nd);

	iommu_free_pages(d);
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 0, 0);

	iommu_pages_test_memcg_frags(test, memcg, nid, before);
}

struct memcg_limit {
	struct mem_cgroup *memcg;
	unsigned long max;
};

static void memcg_limit_restore(void *data)
{
	struct memcg_limit *limit = data;

	/* raising a limit cannot fail */
	page_counter_set_max(&limit->memcg->memory, limit->max);
}

/*
 * Lower @memcg's limit to what it uses now, until the limit is released
 * with memcg_limit_restore() or the case ends (also if it fails); NULL if
 * its usage kept moving.
 */
static struct memcg_limit *memcg_limit_to_usage(struct kunit *test,
						struct mem_cgroup *memcg)
{
	struct memcg_limit *limit = kunit_kzalloc(test, sizeof(*limit),
						  GFP_KERNEL);

	if (!limit)
		return NULL;
	limit->memcg = memcg;
	limit->max = READ_ONCE(memcg->memory.max);
	for (int tries = 0; tries < 16; tries++)
		if (!page_counter_set_max(&memcg->memory,
					  page_counter_read(&memcg->memory)))
			return kunit_add_action_or_reset(test,
							 memcg_limit_restore,
							 limit) ? NULL : limit;
	return NULL;
}

/*
 * A memcg at its limit refuses a charged fragment that needs a new page
 * (GFP_NOWAIT: no reclaim, no OOM kill), and the refusal changes no
 * counter; an uncharged fragment is still served.  Charges already made
 * ahead (the per-CPU stocks, at most MEMCG_CHARGE_BATCH pages a CPU) may
 * serve a few pages first.  In the root cgroup (at boot) there is no limit,
 * and __GFP_ACCOUNT shares the uncharged pages.
 */
static void iommu_pages_test_memcg_limit(struct kunit *test)
{
	unsigned long per = PAGE_SIZE >> IOMMU_FRAG_MIN_SHIFT;
	unsigned long events = 0, frags = (num_possible_cpus() + 2) *
		MEMCG_CHARGE_BATCH * per;
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct mem_cgroup *memcg = memcg_target, *old;
	struct memcg_counters before, refused = {};
	struct memcg_limit *limit;
	int nid = numa_mem_id();
	struct iommu_frag_pool pool;
	unsigned long n;
	void *a, *u;

	iommu_frag_pool_init(&pool, nid, IOMMU_FRAG_ZONE_NORMAL,
			     IOMMU_FRAG_MIN_SHIFT);
	if (!memcg) {
		struct counters root = snap();

		a = iommu_frag_alloc(&pool, GFP_NOWAIT | __GFP_ACCOUNT);
		u = iommu_frag_alloc(&pool, GFP_NOWAIT);
		KUNIT_ASSERT_NOT_NULL(test, a);
		KUNIT_ASSERT_NOT_NULL(test, u);
		KUNIT_EXPECT_NULL(test, memcg_of(a));
		KUNIT_EXPECT_PTR_EQ(test, frag_page(u), frag_page(a));
		EXPECT_DELTA(test, root, 1);
		iommu_free_pages(a);
		iommu_free_pages(u);
		EXPECT_DELTA(test, root, 0);
		return;
	}
	before = memcg_snap(memcg, nid);
	limit = memcg_limit_to_usage(test, memcg);
	KUNIT_ASSERT_NOT_NULL(test, limit);
	/*
	 * Usage moves (stocks drain, other charges go), so a refusal is not
	 * repeatable: the counters are taken before each allocation that
	 * needs a new page (every @per in this pool), and checked after the
	 * one refused.
	 */
	old = set_active_memcg(memcg);
	for (n = 0; n < frags; n++) {
		if (!(n % per)) {
			refused = memcg_snap(memcg, nid);
			events = atomic_long_read(&memcg->memory_events[MEMCG_MAX]);
		}
		a = iommu_frag_alloc(&pool, GFP_NOWAIT | __GFP_ACCOUNT);
		if (!a)
			break;
		iommu_pages_list_add(&list, a);
	}
	set_active_memcg(old);
	/* refused by the memcg's limit, and the refusal changed nothing */
	KUNIT_EXPECT_LT(test, n, frags);
	KUNIT_EXPECT_EQ(test, n % per, 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&memcg->memory_events[MEMCG_MAX]),
			events);
	EXPECT_MEMCG_DELTA(test, memcg, nid, refused, 0, 0);
	kunit_info(test, "%lu charged fragments before the limit\n", n);

	/* every charged fragment served counts, a page at a time */
	KUNIT_EXPECT_EQ(test, refused.memcg - before.memcg, n / per);
	u = iommu_frag_alloc(&pool, GFP_NOWAIT);
	KUNIT_EXPECT_NOT_NULL(test, u);
	KUNIT_EXPECT_NULL(test, u ? memcg_of(u) : NULL);
	kunit_release_action(test, memcg_limit_restore, limit);

	iommu_put_pages_list(&list);
	if (u)
		iommu_free_pages(u);
	EXPECT_MEMCG_DELTA(test, memcg, nid, before, 0, 0);
}
#else
static int iommu_pages_memcg_init(struct kunit_suite *suite)
{
	return 0;
}

static void iommu_pages_memcg_exit(struct kunit_suite *suite)
{
}

static void iommu_pages_test_memcg(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMCG and the test built in");
}

static void iommu_pages_test_memcg_limit(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_MEMCG and the test built in");
}
#endif

static struct kunit_case iommu_pages_memcg_cases[] = {
	KUNIT_CASE(iommu_pages_test_memcg),
	KUNIT_CASE(iommu_pages_test_memcg_limit),
	{}
};

static struct kunit_suite iommu_pages_memcg_suite = {
	.name = "iommu-pages-memcg",
	.suite_init = iommu_pages_memcg_init,
	.suite_exit = iommu_pages_memcg_exit,
	.test_cases = iommu_pages_memcg_cases,
};

kunit_test_suites(&iommu_pages_test_suite, &iommu_pages_frag_suite,
		  &iommu_pages_memcg_suite);

MODULE_DESCRIPTION("KUnit tests for IOMMU page-table memory allocation");
MODULE_LICENSE("GPL");
