// SPDX-License-Identifier: GPL-2.0-only
/*
 * A benchmark, not a test: iommu-pages against the raw page allocator and
 * against the code path of 6.12's inline iommu-pages, in one run on one
 * kernel.  Each row is measured in several rounds that rotate which variant
 * goes first, and the table prints the minimum and median nanoseconds per
 * operation and the ratios of the minimums.  It passes unless memory runs
 * out.
 *
 *   alloc+free 4K     iommu_alloc_pages_sz() + iommu_free_pages()
 *                     vs alloc_pages(__GFP_ZERO, 0) + __free_pages()
 *   alloc+free 2M     the same at order 9
 *   put list of 512   iommu_put_pages_list() of 512 4 KiB allocations
 *                     vs __free_pages() of 512 pages from a list_head
 *   1K                a 1 KiB fragment vs a 1 KiB kmem_cache object
 *                     ("raw") and a whole page ("6.12")
 *   RCU 512           freeing 512 4 KiB tables after a grace period: one
 *                     list ("new") vs one call each ("6.12") vs at once
 *   RCU 1             the same for one table, what an unmap that empties
 *                     one table frees
 *
 * A second case frees one list of 512 Ki 4 KiB tables (2 GiB: the tables
 * of a 1 TiB domain mapped with 4 KiB pages), at once and after a grace
 * period, and prints the longest interrupts-off section of the put and the
 * longest RCU callback, which the batching in iommu-pages bounds.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "iommu-pages.h"
#include "iommu-pages-internal.h"

#define ROUNDS 9
#define LIST_LEN 512

struct bench_row {
	const char *name;
	unsigned int iters;	/* operations per round */
	/* raw page allocator, the 6.12 code path, iommu-pages */
	u64 (*fn[3])(struct kunit *test, unsigned int iters,
		     unsigned int order);
	unsigned int order;	/* RCU rows: log2 of the tables per list */
};

static u64 raw_alloc_free(struct kunit *test, unsigned int iters,
			  unsigned int order)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < iters; i++) {
		struct page *page = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);

		KUNIT_ASSERT_NOT_NULL(test, page);
		__free_pages(page, order);
	}
	return ktime_get_ns() - t0;
}

/* What 6.12's inline iommu-pages did: alloc_pages_node() + two counters. */
static u64 old_alloc_free(struct kunit *test, unsigned int iters,
			  unsigned int order)
{
	long n = 1L << order;
	u64 t0 = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < iters; i++) {
		struct page *page = alloc_pages_node(numa_mem_id(),
						     GFP_KERNEL | __GFP_ZERO,
						     order);

		KUNIT_ASSERT_NOT_NULL(test, page);
		mod_node_page_state(page_pgdat(page), NR_IOMMU_PAGES, n);
		mod_lruvec_page_state(page, NR_SECONDARY_PAGETABLE, n);
		mod_node_page_state(page_pgdat(page), NR_IOMMU_PAGES, -n);
		mod_lruvec_page_state(page, NR_SECONDARY_PAGETABLE, -n);
		__free_pages(page, order);
	}
	return ktime_get_ns() - t0;
}

static u64 iommu_alloc_free(struct kunit *test, unsigned int iters,
			    unsigned int order)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;

	for (i = 0; i < iters; i++) {
		void *virt = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE << order);

		KUNIT_ASSERT_NOT_NULL(test, virt);
		iommu_free_pages(virt);
	}
	return ktime_get_ns() - t0;
}

/*
 * Raw and 6.12 list puts of LIST_LEN pages from a list_head through
 * page->lru; @counted: account them as 6.12's iommu-pages did.  Only the
 * freeing of the list is timed.
 */
static u64 page_list_put(struct kunit *test, unsigned int iters,
			 unsigned int order, bool counted)
{
	struct page *page, *tmp;
	unsigned int i, n;
	u64 total = 0, t0;
	LIST_HEAD(list);

	for (n = 0; n < iters; n++) {
		for (i = 0; i < LIST_LEN; i++) {
			page = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
			KUNIT_ASSERT_NOT_NULL(test, page);
			if (counted) {
				mod_node_page_state(page_pgdat(page),
						    NR_IOMMU_PAGES, 1);
				mod_lruvec_page_state(page,
						      NR_SECONDARY_PAGETABLE, 1);
			}
			list_add_tail(&page->lru, &list);
		}
		t0 = ktime_get_ns();
		list_for_each_entry_safe(page, tmp, &list, lru) {
			list_del(&page->lru);
			if (counted) {
				mod_node_page_state(page_pgdat(page),
						    NR_IOMMU_PAGES, -1);
				mod_lruvec_page_state(page,
						      NR_SECONDARY_PAGETABLE, -1);
				put_page(page);
			} else {
				__free_pages(page, order);
			}
		}
		total += ktime_get_ns() - t0;
	}
	return total;
}

static u64 raw_list_put(struct kunit *test, unsigned int iters,
			unsigned int order)
{
	return page_list_put(test, iters, order, false);
}

/* 6.12's iommu_put_pages_list(): both counters and put_page() per page. */
static u64 old_list_put(struct kunit *test, unsigned int iters,
			unsigned int order)
{
	return page_list_put(test, iters, order, true);
}

static u64 iommu_list_put(struct kunit *test, unsigned int iters,
			  unsigned int order)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	unsigned int i, n;
	u64 total = 0, t0;

	for (n = 0; n < iters; n++) {
		for (i = 0; i < LIST_LEN; i++) {
			void *virt = iommu_alloc_pages_sz(GFP_KERNEL,
							  PAGE_SIZE << order);

			KUNIT_ASSERT_NOT_NULL(test, virt);
			iommu_pages_list_add(&list, virt);
		}
		t0 = ktime_get_ns();
		iommu_put_pages_list(&list);
		total += ktime_get_ns() - t0;
	}
	return total;
}

/*
 * Sub-page tables: a 1 KiB fragment against the kmem_cache the 6.12
 * drivers kept for their 1 KiB tables (columns "raw"), and against a whole
 * page (column "6.12": what a driver gets by rounding up).
 */
static struct kmem_cache *bench_1k_cache;

/*
 * In both, one object stays allocated across the loop, as tables do in a
 * live page table: otherwise every free of a fragment would hand its page
 * back to the page allocator (by design), which a slab cache never does.
 */
static u64 cache_1k(struct kunit *test, unsigned int iters,
		    unsigned int order)
{
	void *keep = kmem_cache_zalloc(bench_1k_cache, GFP_KERNEL);
	unsigned int i;
	u64 t0, ns;

	KUNIT_ASSERT_NOT_NULL(test, keep);
	t0 = ktime_get_ns();
	for (i = 0; i < iters; i++) {
		void *virt = kmem_cache_zalloc(bench_1k_cache, GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, virt);
		kmem_cache_free(bench_1k_cache, virt);
	}
	ns = ktime_get_ns() - t0;
	kmem_cache_free(bench_1k_cache, keep);
	return ns;
}

static u64 frag_1k(struct kunit *test, unsigned int iters,
		   unsigned int order)
{
	void *keep = iommu_alloc_pages_sz(GFP_KERNEL, SZ_1K);
	unsigned int i;
	u64 t0, ns;

	KUNIT_ASSERT_NOT_NULL(test, keep);
	t0 = ktime_get_ns();
	for (i = 0; i < iters; i++) {
		void *virt = iommu_alloc_pages_sz(GFP_KERNEL, SZ_1K);

		KUNIT_ASSERT_NOT_NULL(test, virt);
		iommu_free_pages(virt);
	}
	ns = ktime_get_ns() - t0;
	iommu_free_pages(keep);
	return ns;
}

/*
 * Freeing 1 << @order 4 KiB tables after a grace period, on the unmap
 * path: the call only (the memory goes later, from the RCU callback).
 * "raw" is the immediate list put, "6.12" one iommu_free_pages_rcu() per
 * table (one rcu_head each), "new" iommu_put_pages_list_rcu() (one per
 * list).
 */
static u64 list_free(struct kunit *test, unsigned int iters,
		     unsigned int order, int how)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	unsigned int i, n, len = BIT(order);
	u64 total = 0, t0;
	void **virt;

	virt = kunit_kmalloc_array(test, len, sizeof(*virt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	for (n = 0; n < iters; n++) {
		for (i = 0; i < len; i++) {
			virt[i] = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
			KUNIT_ASSERT_NOT_NULL(test, virt[i]);
			iommu_pages_list_add(&list, virt[i]);
		}
		t0 = ktime_get_ns();
		if (how == 0) {
			iommu_put_pages_list(&list);
		} else if (how == 1) {
			for (i = 0; i < len; i++)
				iommu_free_pages_rcu(virt[i]);
			list = IOMMU_PAGES_LIST_INIT(list);
		} else {
			iommu_put_pages_list_rcu(&list);
		}
		total += ktime_get_ns() - t0;
		rcu_barrier();
	}
	return total;
}

static u64 list_put_now(struct kunit *test, unsigned int iters,
			unsigned int order)
{
	return list_free(test, iters, order, 0);
}

static u64 list_rcu_each(struct kunit *test, unsigned int iters,
			 unsigned int order)
{
	return list_free(test, iters, order, 1);
}

static u64 list_rcu(struct kunit *test, unsigned int iters,
		    unsigned int order)
{
	return list_free(test, iters, order, 2);
}

static const struct bench_row rows[] = {
	{ "alloc+free 4K", 20000,
	  { raw_alloc_free, old_alloc_free, iommu_alloc_free }, 0 },
	{ "alloc+free 2M", 400,
	  { raw_alloc_free, old_alloc_free, iommu_alloc_free }, 9 },
	{ "put list of 512 x 4K", 20,
	  { raw_list_put, old_list_put, iommu_list_put }, 0 },
	{ "1K: cache/page/frag", 20000,
	  { cache_1k, iommu_alloc_free, frag_1k }, 0 },
	{ "RCU 512: now/each/list", 20,
	  { list_put_now, list_rcu_each, list_rcu }, 9 },
	{ "RCU 1: now/each/list", 100,
	  { list_put_now, list_rcu_each, list_rcu }, 0 },
};

/*
 * Time a round as production code runs: with no KUnit test current, the
 * static-stub redirection points in iommu-pages cost a static branch, not a
 * search of the test's resources.
 */
static u64 timed_round(struct kunit *test,
		       u64 (*fn)(struct kunit *, unsigned int, unsigned int),
		       unsigned int iters, unsigned int order)
{
	struct kunit *saved = current->kunit_test;
	u64 ns;

	current->kunit_test = NULL;
	ns = fn(test, iters, order);
	current->kunit_test = saved;
	return ns;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* "1.23": @a / @b with two decimals. */
static void ratio(char *buf, size_t len, u64 a, u64 b)
{
	u64 r = div64_u64(a * 100 + b / 2, b);

	snprintf(buf, len, "%llu.%02llu", div_u64(r, 100), r % 100);
}

static void iommu_pages_bench(struct kunit *test)
{
	u64 t[3][ROUNDS];
	unsigned int r, i, k;
	char q1[48], q2[48];

	kunit_info(test, "%-21s %9s %9s %9s %9s %9s %9s %7s %7s\n",
		   "ns per operation", "raw min", "raw med", "6.12 min",
		   "6.12 med", "new min", "new med", "new/raw", "new/6.12");
	for (r = 0; r < ARRAY_SIZE(rows); r++) {
		const struct bench_row *row = &rows[r];
		unsigned int per = row->iters;

		if (row->order > MAX_PAGE_ORDER)
			continue;
		/* a warm-up round of each, not counted */
		for (k = 0; k < 3; k++)
			timed_round(test, row->fn[k], per, row->order);
		/* rounds rotate which variant goes first */
		for (i = 0; i < ROUNDS; i++)
			for (k = 0; k < 3; k++) {
				unsigned int v = (i + k) % 3;

				t[v][i] = timed_round(test, row->fn[v], per,
						      row->order);
			}
		for (k = 0; k < 3; k++)
			sort(t[k], ROUNDS, sizeof(u64), cmp_u64, NULL);
		ratio(q1, sizeof(q1), t[2][0], t[0][0]);
		ratio(q2, sizeof(q2), t[2][0], t[1][0]);
		kunit_info(test, "%-21s %9llu %9llu %9llu %9llu %9llu %9llu %7s %7s\n",
			   row->name, div_u64(t[0][0], per),
			   div_u64(t[0][ROUNDS / 2], per),
			   div_u64(t[1][0], per), div_u64(t[1][ROUNDS / 2], per),
			   div_u64(t[2][0], per), div_u64(t[2][ROUNDS / 2], per),
			   q1, q2);
	}
}

#define LONG_LIST (512 * 1024)

static void iommu_pages_bench_long_list(struct kunit *test)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	static const char * const how[] = { "at once", "after RCU" };
	u64 t0, ns, irq_off, rcu_cb;
	unsigned int i, pass;

	for (pass = 0; pass < ARRAY_SIZE(how); pass++) {
		for (i = 0; i < LONG_LIST; i++) {
			/* fail, not OOM-kill, if the guest is too small */
			void *virt = iommu_alloc_pages_sz(GFP_KERNEL |
							  __GFP_NORETRY |
							  __GFP_NOWARN,
							  PAGE_SIZE);

			if (!virt) {
				iommu_put_pages_list(&list);
				kunit_skip(test, "no memory for %u tables",
					   LONG_LIST);
			}
			iommu_pages_list_add(&list, virt);
			if (!(i % 4096))
				cond_resched();
		}
		memset(iommu_pages_bench_max_ns, 0,
		       sizeof(iommu_pages_bench_max_ns));
		t0 = ktime_get_ns();
		if (pass)
			iommu_put_pages_list_rcu(&list);
		else
			iommu_put_pages_list(&list);
		ns = ktime_get_ns() - t0;
		rcu_barrier();
		irq_off = READ_ONCE(iommu_pages_bench_max_ns[IOMMU_PAGES_BENCH_IRQ_OFF]);
		rcu_cb = READ_ONCE(iommu_pages_bench_max_ns[IOMMU_PAGES_BENCH_RCU_CB]);
		kunit_info(test, "list of %u x 4K freed %s: call %llu us, longest irqs-off %llu us, longest RCU callback %llu us\n",
			   LONG_LIST, how[pass], div_u64(ns, 1000),
			   div_u64(irq_off, 1000), div_u64(rcu_cb, 1000));
	}
}

static int iommu_pages_bench_init(struct kunit_suite *suite)
{
	bench_1k_cache = kmem_cache_create("iommu-pages-bench-1k", SZ_1K, SZ_1K,
					   0, NULL);
	return bench_1k_cache ? 0 : -ENOMEM;
}

static void iommu_pages_bench_exit(struct kunit_suite *suite)
{
	kmem_cache_destroy(bench_1k_cache);
}

static struct kunit_case iommu_pages_bench_cases[] = {
	KUNIT_CASE_SLOW(iommu_pages_bench),
	KUNIT_CASE_SLOW(iommu_pages_bench_long_list),
	{}
};

static struct kunit_suite iommu_pages_bench_suite = {
	.name = "iommu-pages-bench",
	.suite_init = iommu_pages_bench_init,
	.suite_exit = iommu_pages_bench_exit,
	.test_cases = iommu_pages_bench_cases,
};

kunit_test_suite(iommu_pages_bench_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("Benchmark of IOMMU page-table memory allocation");
MODULE_LICENSE("GPL");
