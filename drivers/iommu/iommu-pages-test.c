// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for iommu-pages: sizes, alignment, zeroing, nodes, exact
 * accounting, lists, atomic context, refusals, allocation failure and the
 * CONFIG_IOMMU_PAGES_DEBUG checks.
 */
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/mmzone.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "iommu-pages.h"
#include "iommu-pages-internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define MAX_ALLOC_SIZE (PAGE_SIZE << MAX_PAGE_ORDER)

struct counters {
	long iommu;
	long secondary;
};

/* A node counter exactly: the global value plus every CPU's pending diff. */
static long node_stat_exact(int nid, enum node_stat_item item)
{
	struct pglist_data *pgdat = NODE_DATA(nid);
	long x = atomic_long_read(&pgdat->vm_stat[item]);
	int cpu;

	for_each_online_cpu(cpu)
		x += per_cpu_ptr(pgdat->per_cpu_nodestats, cpu)->vm_node_stat_diff[item];
	return x;
}

static struct counters snap(void)
{
	struct counters c = {};
	int nid;

	for_each_online_node(nid) {
		c.iommu += node_stat_exact(nid, NR_IOMMU_PAGES);
		c.secondary += node_stat_exact(nid, NR_SECONDARY_PAGETABLE);
	}
	return c;
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
	unsigned int round, i;

	for (round = 0; round < 2; round++)
		for (i = 0; i < ARRAY_SIZE(test_sizes); i++)
			if (test_sizes[i] <= MAX_ALLOC_SIZE)
				check_one_size(test, test_sizes[i]);
	/* Every power of two up to the largest allocation. */
	for (i = 0; (PAGE_SIZE << i) <= MAX_ALLOC_SIZE && i <= MAX_PAGE_ORDER; i++)
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
};

static void record_report(enum iommu_pages_misuse what, const void *virt)
{
	struct report_log *log = kunit_get_current_test()->priv;

	log->count[what]++;
	log->last = virt;
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
	return NULL;
}

static void iommu_pages_test_alloc_failure(struct kunit *test)
{
	struct counters before = snap();
	void *virt;

	kunit_activate_static_stub(test, iommu_pages_alloc_folio, fail_alloc);
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_sz(GFP_KERNEL, SZ_2M));
	KUNIT_EXPECT_NULL(test, iommu_alloc_pages_node_sz(0, GFP_ATOMIC, 1));
	EXPECT_DELTA(test, before, 0);

	/* and the allocator works again once the failure is gone */
	kunit_deactivate_static_stub(test, iommu_pages_alloc_folio);
	virt = iommu_alloc_pages_sz(GFP_KERNEL, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, virt);
	EXPECT_DELTA(test, before, 1);
	iommu_free_pages(virt);
	EXPECT_DELTA(test, before, 0);
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
	iommu_free_pages(virt);
	EXPECT_DELTA(test, before, 0);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 0);

	iommu_free_pages(virt);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_DOUBLE_FREE], 1);
	KUNIT_EXPECT_EQ(test, log.count[IOMMU_PAGES_FOREIGN_FREE], 0);
	KUNIT_EXPECT_PTR_EQ(test, log.last, (const void *)virt);
	EXPECT_DELTA(test, before, 0);
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
#endif

static struct kunit_case iommu_pages_memcg_cases[] = {
	KUNIT_CASE(iommu_pages_test_memcg),
	{}
};

static struct kunit_suite iommu_pages_memcg_suite = {
	.name = "iommu-pages-memcg",
	.suite_init = iommu_pages_memcg_init,
	.suite_exit = iommu_pages_memcg_exit,
	.test_cases = iommu_pages_memcg_cases,
};

kunit_test_suites(&iommu_pages_test_suite, &iommu_pages_memcg_suite);

MODULE_DESCRIPTION("KUnit tests for IOMMU page-table memory allocation");
MODULE_LICENSE("GPL");
