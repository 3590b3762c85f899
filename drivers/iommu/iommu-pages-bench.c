// SPDX-License-Identifier: GPL-2.0-only
/*
 * A benchmark, not a test: iommu-pages against the raw page allocator, in
 * one run on one kernel.  Each row is measured in several rounds that
 * alternate between the two, and the table prints the minimum and median
 * nanoseconds per operation.  It passes unless memory runs out.
 *
 *   alloc+free 4K     iommu_alloc_pages_sz() + iommu_free_pages()
 *                     vs alloc_pages(__GFP_ZERO, 0) + __free_pages()
 *   alloc+free 2M     the same at order 9
 *   put list of 512   iommu_put_pages_list() of 512 4 KiB allocations
 *                     vs __free_pages() of 512 pages from a list_head
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/sort.h>

#include "iommu-pages.h"

#define ROUNDS 9
#define LIST_LEN 512

struct bench_row {
	const char *name;
	unsigned int iters;	/* operations per round */
	u64 (*raw)(struct kunit *test, unsigned int iters, unsigned int order);
	u64 (*iommu)(struct kunit *test, unsigned int iters,
		     unsigned int order);
	unsigned int order;
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

/* Only the freeing of the list is timed. */
static u64 raw_list_put(struct kunit *test, unsigned int iters,
			unsigned int order)
{
	struct page *page, *tmp;
	unsigned int i, n;
	u64 total = 0, t0;
	LIST_HEAD(list);

	for (n = 0; n < iters; n++) {
		for (i = 0; i < LIST_LEN; i++) {
			page = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
			KUNIT_ASSERT_NOT_NULL(test, page);
			list_add_tail(&page->lru, &list);
		}
		t0 = ktime_get_ns();
		list_for_each_entry_safe(page, tmp, &list, lru) {
			list_del(&page->lru);
			__free_pages(page, order);
		}
		total += ktime_get_ns() - t0;
	}
	return total;
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

static const struct bench_row rows[] = {
	{ "alloc+free 4K", 20000, raw_alloc_free, iommu_alloc_free, 0 },
	{ "alloc+free 2M", 400, raw_alloc_free, iommu_alloc_free, 9 },
	{ "put list of 512 x 4K", 20, raw_list_put, iommu_list_put, 0 },
};

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void iommu_pages_bench(struct kunit *test)
{
	u64 raw[ROUNDS], new[ROUNDS];
	unsigned int r, i;

	kunit_info(test, "%-22s %10s %10s %10s %10s %7s\n", "ns per operation",
		   "raw min", "raw med", "iommu min", "iommu med", "ratio");
	for (r = 0; r < ARRAY_SIZE(rows); r++) {
		const struct bench_row *row = &rows[r];
		unsigned int per = row->iters;
		u64 rmin, nmin;

		if ((PAGE_SIZE << row->order) > (PAGE_SIZE << MAX_PAGE_ORDER))
			continue;
		/* a warm-up round of each, not counted */
		row->raw(test, per, row->order);
		row->iommu(test, per, row->order);
		for (i = 0; i < ROUNDS; i++) {
			if (i & 1) {
				new[i] = row->iommu(test, per, row->order);
				raw[i] = row->raw(test, per, row->order);
			} else {
				raw[i] = row->raw(test, per, row->order);
				new[i] = row->iommu(test, per, row->order);
			}
		}
		sort(raw, ROUNDS, sizeof(u64), cmp_u64, NULL);
		sort(new, ROUNDS, sizeof(u64), cmp_u64, NULL);
		rmin = div_u64(raw[0], per);
		nmin = div_u64(new[0], per);
		kunit_info(test, "%-22s %10llu %10llu %10llu %10llu %4llu.%02llu\n",
			   row->name, rmin, div_u64(raw[ROUNDS / 2], per), nmin,
			   div_u64(new[ROUNDS / 2], per),
			   div_u64(new[0], raw[0]),
			   div_u64(new[0] * 100, raw[0]) % 100);
	}
}

static struct kunit_case iommu_pages_bench_cases[] = {
	KUNIT_CASE_SLOW(iommu_pages_bench),
	{}
};

static struct kunit_suite iommu_pages_bench_suite = {
	.name = "iommu-pages-bench",
	.test_cases = iommu_pages_bench_cases,
};

kunit_test_suite(iommu_pages_bench_suite);

MODULE_DESCRIPTION("Benchmark of IOMMU page-table memory allocation");
MODULE_LICENSE("GPL");
