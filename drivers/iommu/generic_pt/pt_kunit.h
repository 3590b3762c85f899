/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KUnit cases of the generic page table, instantiated per format. The
 * format's test file includes its format header, defines PT_CFG (its
 * configuration type), pt_test_cfgs[] with pt_test_cfg_name() and
 * pt_test_init(), then includes this file and registers
 * pt_test_generic_cases[] as a suite next to its own cases.
 *
 * Every case runs on every configuration, checks NR_IOMMU_PAGES is back
 * where it started after deinit, and reports the random seed it used.
 */
#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/mmzone.h>
#include <linux/prandom.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmstat.h>

#include "pt_defs.h"
#include "../iommu-pages-internal.h"

#define PT_TEST_OPS	2000

/* pt_table_alloc(), for the static stub that loses the install race. */
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

struct pt_test {
	struct PT_TABLE table;
	struct pt_iommu *pt;
	const PT_CFG *cfg;
	unsigned long nr_pages;
	unsigned int flush_walks;
	unsigned long flush_iova;
	size_t flush_size;
	unsigned int top_changes;
	atomic_t unlinked;
	atomic_t open_unlinks;
	struct rnd_state rnd;
	u64 seed;
};

/* Provided by the format's test file. */
/* True where the format has no privilege: IOMMU_PRIV changes no entry. */
static bool pt_test_priv_moot(struct pt_test *pt_t);
static bool pt_test_dirty_ok(struct pt_test *pt_t);
static void pt_test_make_dirty(struct pt_test *pt_t, unsigned long iova);

static unsigned long pt_test_nr_pages(void)
{
	return iommu_pages_stat_exact(NR_IOMMU_PAGES);
}

static void pt_test_flush_walk(struct pt_iommu *pt, unsigned long iova,
			       size_t size)
{
	struct pt_test *pt_t = container_of(pt, struct pt_test, table.iommu);

	pt_t->flush_walks++;
	pt_t->flush_iova = iova;
	pt_t->flush_size = size;
}

static void pt_test_change_top(struct pt_iommu *pt, phys_addr_t top_pa,
			       unsigned int level)
{
	struct pt_test *pt_t = container_of(pt, struct pt_test, table.iommu);

	/* The new top is not published yet; the driver gets it here. */
	KUNIT_EXPECT_NE(kunit_get_current_test(), pt_iommu_top_pa(pt), top_pa);
	pt_t->top_changes++;
}

static const struct pt_iommu_driver_ops pt_test_driver_ops = {
	.flush_walk = pt_test_flush_walk,
	.change_top = pt_test_change_top,
};

static void pt_test_param_desc(const PT_CFG *cfg, char *desc)
{
	pt_test_cfg_name(cfg, desc);
}

KUNIT_ARRAY_PARAM(pt_test_cfg, pt_test_cfgs, pt_test_param_desc);

/* Deinit is idempotent: this runs again after a test's own. */
static void pt_test_deinit(void *pt)
{
	((struct pt_iommu *)pt)->ops->deinit(pt);
}

static struct pt_test *pt_test_setup(struct kunit *test, bool flush)
{
	const PT_CFG *cfg = test->param_value;
	struct pt_test *pt_t = kunit_kzalloc(test, sizeof(*pt_t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, pt_t);
	pt_t->cfg = cfg;
	pt_t->pt = &pt_t->table.iommu;
	pt_t->seed = get_random_u64();
	prandom_seed_state(&pt_t->rnd, pt_t->seed);
	kunit_info(test, "seed %llu\n", pt_t->seed);
	if (flush)
		pt_t->pt->driver_ops = &pt_test_driver_ops;
	if (cfg->flags & PT_FLAG_INCOHERENT) {
		/* A device for the DMA API's cache maintenance. */
		struct device *dev = kunit_device_register(test, "generic-pt");

		KUNIT_ASSERT_FALSE(test, IS_ERR(dev));
		KUNIT_ASSERT_EQ(test,
				dma_coerce_mask_and_coherent(dev,
							     DMA_BIT_MASK(64)),
				0);
		pt_t->pt->iommu_device = dev;
	}
	/*
	 * Earlier tests' RCU frees must not land inside this count: a
	 * fragment's callback queues its page's own, so two barriers (the
	 * second returns at once when nothing is queued).
	 */
	rcu_barrier();
	rcu_barrier();
	pt_t->nr_pages = pt_test_nr_pages();
	KUNIT_ASSERT_EQ(test, pt_test_init(&pt_t->table, cfg), 0);
	/* a test that stops early must not leave its table in the report */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pt_test_deinit,
							pt_t->pt), 0);
	return pt_t;
}

static u64 pt_test_rand(struct pt_test *pt_t, u64 n)
{
	return n ? prandom_u32_state(&pt_t->rnd) % n : 0;
}

static u64 pt_test_min_size(struct pt_iommu *pt)
{
	return pt->pgsize_bitmap & -pt->pgsize_bitmap;
}

/* Lowest IOVA of the space (the lower half's for sign-extended formats). */
static unsigned long pt_test_last_iova(struct pt_iommu *pt)
{
#ifdef PT_FMT_SIGN_EXTEND
	return ULONG_MAX;
#else
	return pt->va_lg2 >= BITS_PER_LONG ? ULONG_MAX :
	       (1UL << pt->va_lg2) - 1;
#endif
}

struct pt_test_count {
	unsigned int tables;	/* below the top */
	unsigned int leaves;	/* leaf entries (replicas count once each) */
	unsigned int unsynced;	/* table entries not marked PT_FMT_SYNCED */
};

static void pt_test_count_level(struct PT_TABLE *t, u64 *table, unsigned int level,
				unsigned int top_level,
				struct pt_test_count *c)
{
	unsigned int i, n = 1U << PT_FN(items_lg2)(t, level, top_level);

	for (i = 0; i < n; i++) {
		u64 pte = READ_ONCE(table[i]);

		if (!pte)
			continue;
		if (level && pt_fmt_is_table(t, level, pte)) {
			c->tables++;
#ifdef PT_FMT_SYNCED
			if (!(pte & PT_FMT_SYNCED))
				c->unsynced++;
#endif
			pt_test_count_level(t, PT_FN(table_va)(t, pte),
					    level - 1, top_level, c);
		} else {
			c->leaves++;
		}
	}
}

static struct pt_test_count pt_test_count(struct pt_test *pt_t)
{
	unsigned long top = READ_ONCE(pt_t->pt->top);
	struct pt_test_count c = {};

	pt_test_count_level(&pt_t->table, pt_top_table(top), pt_top_level(top),
			    pt_top_level(top), &c);
	return c;
}

/*
 * Does an unmap free every table it empties? Yes unless the table keeps
 * them, or its tables below the top are fragments, which count nothing.
 */
static bool pt_test_reclaims(struct pt_test *pt_t)
{
	return !(pt_t->pt->flags & PT_FLAG_KEEP_TABLES) &&
	       PT_FN(table_size)(&pt_t->table, 0, PT_MAX_LEVELS) >
	       PAGE_SIZE / 2;
}

/*
 * Deinit and check that every table went back, and before that, that an
 * incoherent walker was shown every table entry (each is marked synced).
 */
static void pt_test_finish(struct kunit *test, struct pt_test *pt_t)
{
#ifdef PT_FMT_SYNCED
	if (pt_t->pt->flags & PT_FLAG_INCOHERENT)
		KUNIT_EXPECT_EQ_MSG(test, pt_test_count(pt_t).unsynced, 0,
				    "table entries not cleaned (seed %llu)",
				    pt_t->seed);
#endif
	pt_t->pt->ops->deinit(pt_t->pt);
	/*
	 * A table a leaf replaced is freed after a grace period (a fragment's
	 * callback queues its page's own, so two barriers); wait for them
	 * only when the count says some are pending.
	 */
	if (pt_test_nr_pages() != pt_t->nr_pages) {
		rcu_barrier();
		rcu_barrier();
	}
	KUNIT_EXPECT_EQ_MSG(test, pt_test_nr_pages(), pt_t->nr_pages,
			    "tables leaked (seed %llu)", pt_t->seed);
}

/* Entries a leaf of 1 << @lg2 takes (replicas of a sized AMD leaf). */
static unsigned int pt_test_leaf_entries(struct pt_test *pt_t,
					 unsigned int lg2)
{
	int level = pt_iommu_top_level(pt_t->pt);

	while (level > 0 && pt_fmt_va_lg2(&pt_t->table, level) > lg2)
		level--;
	return 1U << (lg2 - pt_fmt_va_lg2(&pt_t->table, level));
}

/* The entry that maps @iova, for tests that play the IOMMU's part. */
static u64 *pt_test_leaf_ptep(struct pt_test *pt_t, unsigned long iova)
{
	struct PT_TABLE *t = &pt_t->table;
	unsigned long top = READ_ONCE(pt_t->pt->top);
	unsigned int top_level = pt_top_level(top), level = top_level;
	u64 *table = pt_top_table(top);

	while (true) {
		u64 *ptep = &table[PT_FN(index)(t, iova, level, top_level)];

		if (!*ptep)
			return NULL;
		if (!level || !pt_fmt_is_table(t, level, *ptep))
			return ptep;
		table = PT_FN(table_va)(t, *ptep);
		level--;
	}
}

static int pt_test_map(struct pt_test *pt_t, unsigned long iova, u64 pa,
		       size_t len, int prot, size_t *mapped)
{
	u64 pgsize = pt_test_min_size(pt_t->pt);

	*mapped = 0;
	return pt_t->pt->ops->map_pages(pt_t->pt, iova, pa, pgsize,
					len / pgsize, prot, GFP_KERNEL,
					mapped);
}

static size_t pt_test_unmap(struct pt_test *pt_t, unsigned long iova,
			    size_t len, struct iommu_iotlb_gather *gather)
{
	u64 pgsize = pt_test_min_size(pt_t->pt);

	return pt_t->pt->ops->unmap_pages(pt_t->pt, iova, pgsize,
					  len / pgsize, gather);
}

/*
 * Free what an unmap collected, as a driver would after its flush. A reader
 * of the debugfs report may be walking this table without its lock: wait
 * for it first, but free now, so that the tests' page counts stay exact.
 */
static void pt_test_put_list(struct iommu_pages_list *list)
{
	if (!iommu_pages_list_empty(list))
		synchronize_rcu_expedited();
	iommu_put_pages_list(list);
}

/* Unmap with a gather and free what it collected, as a driver would. */
static size_t pt_test_unmap_free(struct pt_test *pt_t, unsigned long iova,
				 size_t len)
{
	struct iommu_iotlb_gather gather;
	size_t ret;

	iommu_iotlb_gather_init(&gather);
	ret = pt_test_unmap(pt_t, iova, len, &gather);
	pt_test_put_list(&gather.freelist);
	return ret;
}

/*
 * [@iova, @iova + @len) translates to @pa at both ends, nothing just
 * outside it does; then one unmap of @count pages of @pgsize takes it all
 * and leaves no leaf. @lg2 names the case in messages.
 */
static void pt_test_check_unmap(struct kunit *test, struct pt_test *pt_t,
				unsigned long iova, u64 pa, size_t len,
				size_t pgsize, unsigned int lg2)
{
	struct pt_iommu *pt = pt_t->pt;
	struct iommu_iotlb_gather gather;
	size_t unmapped;

	KUNIT_EXPECT_EQ_MSG(test, pt->ops->iova_to_phys(pt, iova), pa,
			    "size 2^%u", lg2);
	KUNIT_EXPECT_EQ_MSG(test, pt->ops->iova_to_phys(pt, iova + len - 1),
			    pa + len - 1, "size 2^%u", lg2);
	if (iova)
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova - 1), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + len), 0);
	iommu_iotlb_gather_init(&gather);
	unmapped = pt->ops->unmap_pages(pt, iova, pgsize, len / pgsize,
					&gather);
	pt_test_put_list(&gather.freelist);
	KUNIT_EXPECT_EQ_MSG(test, unmapped, len, "size 2^%u", lg2);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
}

/* Entry encode/decode round trips at every level and leaf size. */
static void pt_test_round_trip(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct PT_TABLE *t = &pt_t->table;
	unsigned int top = pt_iommu_top_level(pt_t->pt), level;
	u64 oa_mask = GENMASK_ULL(pt_t->pt->oa_lg2 - 1, 0);
	u64 attrs;

	KUNIT_ASSERT_EQ(test, pt_fmt_attrs(t, IOMMU_READ | IOMMU_WRITE,
					   &attrs), 0);
	for (level = 0; level <= top; level++) {
		unsigned int lg2;
		u64 pa, pte;

		if (level) {
			pa = (pt_test_rand(pt_t, U32_MAX) << 12) & oa_mask &
			     ~(PT_FN(table_size)(t, level - 1, top) - 1);
			pte = pt_fmt_table_entry(t, level, pa);
			KUNIT_EXPECT_TRUE(test, pt_fmt_is_table(t, level, pte));
			KUNIT_EXPECT_EQ(test, pt_fmt_table_pa(t, pte), pa);
		}
		for (lg2 = pt_fmt_va_lg2(t, level); lg2 < 64; lg2++) {
			if (!(pt_t->pt->pgsize_bitmap & BIT_ULL(lg2)))
				continue;
			if (level != top && lg2 >= pt_fmt_va_lg2(t, level + 1))
				break;
			pa = ((pt_test_rand(pt_t, U32_MAX) << 32) |
			      pt_test_rand(pt_t, U32_MAX)) & oa_mask &
			     ~((1ULL << lg2) - 1);
			pte = pt_fmt_leaf_entry(t, level, pa, lg2, attrs);
			KUNIT_EXPECT_NE(test, pte, 0);
			if (level)
				KUNIT_EXPECT_FALSE(test, pt_fmt_is_table(t, level,
									 pte));
			KUNIT_EXPECT_EQ(test, pt_fmt_leaf_lg2(t, level, pte),
					lg2);
			KUNIT_EXPECT_EQ(test, pt_fmt_leaf_pa(t, level, pte), pa);
		}
	}
	pt_test_finish(test, pt_t);
}

/*
 * Every leaf size maps as exactly one leaf (with its replicas), translates
 * at both ends, not around it, and unmaps whole.
 */
static void pt_test_every_size(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 oa_mask = GENMASK_ULL(pt->oa_lg2 - 1, 0);
	unsigned int lg2;

	for_each_set_bit(lg2, (unsigned long *)&pt->pgsize_bitmap, 64) {
		u64 size = 1ULL << lg2;
		unsigned long iova;
		struct pt_test_count c;
		size_t mapped;
		u64 pa;

		/* Second slot of its size, below the top of the space. */
		if (pt_test_last_iova(pt) / size < 3 || size > SIZE_MAX / 2)
			continue;
		iova = size * 2;
#ifdef PT_FMT_SIGN_EXTEND
		if (lg2 >= pt->va_lg2 - 2)
			continue;
#endif
		pa = (0x5a5a5a5a5a5aULL << 12) & oa_mask & ~(size - 1);
		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, iova, pa, size,
						  IOMMU_READ, &mapped), 0);
		KUNIT_EXPECT_EQ(test, mapped, size);
		c = pt_test_count(pt_t);
		KUNIT_EXPECT_EQ_MSG(test, c.leaves,
				    pt_test_leaf_entries(pt_t, lg2),
				    "size 2^%u", lg2);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova), pa);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + size - 1),
				pa + size - 1);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova - 1), 0);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + size), 0);
		KUNIT_EXPECT_EQ_MSG(test, pt_test_unmap_free(pt_t, iova, size),
				    size, "size 2^%u", lg2);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova), 0);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	}
	pt_test_finish(test, pt_t);
}

/*
 * Five leaves of each size in one call, as the IOMMU core asks (pgsize and
 * a count): they start two leaves before the end of a table, so the batch
 * goes on in the next one, and their addresses cross bit 48 (or the top
 * bit of a narrower output space), where a format may encode the address
 * out of place. Every leaf translates at both ends and takes its own
 * entries; one unmap takes all.
 */
static void pt_test_batch(struct kunit *test)
{
	/* Tables a smaller size left behind are replaced (flush_walk). */
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct PT_TABLE *t = &pt_t->table;
	struct pt_iommu *pt = pt_t->pt;
	unsigned long last = pt_test_last_iova(pt);
	unsigned int lg2;

#ifdef PT_FMT_SIGN_EXTEND
	last = (1UL << (pt->va_lg2 - 1)) - 1;
#endif
	for_each_set_bit(lg2, (unsigned long *)&pt->pgsize_bitmap, 64) {
		u64 size = 1ULL << lg2;
		u64 cross = 1ULL << min_t(unsigned int, 48, pt->oa_lg2 - 1);
		unsigned int level = pt_iommu_top_level(pt), k;
		unsigned long iova, span;
		size_t mapped = 0;
		u64 pa;
		int ret;

		if (lg2 + 3 >= min_t(unsigned int, pt->va_lg2, pt->oa_lg2) ||
		    5 * size - 1 > last)
			continue;
		while (level && pt_fmt_va_lg2(t, level) > lg2)
			level--;
		span = PT_FN(span_lg2)(t, level, PT_MAX_LEVELS);
		span = span < BITS_PER_LONG ? 1UL << span : 0;
		iova = span && span + 3 * size - 1 <= last ? span - 2 * size : 0;
		/*
		 * An odd multiple of the size against an even IOVA: no two
		 * leaves can be one larger leaf.
		 */
		pa = cross >= 3 * size ? cross - 3 * size : size;
		ret = pt->ops->map_pages(pt, iova, pa, size, 5,
					 IOMMU_READ | IOMMU_WRITE, GFP_KERNEL,
					 &mapped);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "size 2^%u", lg2);
		KUNIT_EXPECT_EQ(test, mapped, 5 * size);
		KUNIT_EXPECT_EQ_MSG(test, pt_test_count(pt_t).leaves,
				    5 * pt_test_leaf_entries(pt_t, lg2),
				    "size 2^%u", lg2);
		for (k = 0; k < 5; k++) {
			KUNIT_EXPECT_EQ_MSG(test,
					    pt->ops->iova_to_phys(pt, iova + k * size),
					    pa + k * size, "size 2^%u leaf %u",
					    lg2, k);
			KUNIT_EXPECT_EQ_MSG(test,
					    pt->ops->iova_to_phys(pt, iova + (k + 1) * size - 1),
					    pa + (k + 1) * size - 1,
					    "size 2^%u leaf %u", lg2, k);
		}
		pt_test_check_unmap(test, pt_t, iova, pa, 5 * size, size, lg2);
	}
	pt_test_finish(test, pt_t);
}

/*
 * pgsize is a hint: one page of a large size at an IOVA and address only
 * aligned to the smallest size maps that range exactly, with smaller
 * leaves, not a large leaf around it.
 */
static void pt_test_pgsize_hint(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned int lg2;

	for_each_set_bit(lg2, (unsigned long *)&pt->pgsize_bitmap, 64) {
		u64 size = 1ULL << lg2;
		unsigned long iova = 4 * size + min;
		size_t mapped = 0;
		u64 pa = 3 * min;
		int ret;

		/* 4 * size: a range no smaller size used, a fresh table. */
		if (size == min || lg2 + 4 >= min_t(unsigned int, pt->va_lg2,
						    pt->oa_lg2) ||
		    lg2 > 30)
			continue;
		ret = pt->ops->map_pages(pt, iova, pa, size, 1, IOMMU_READ,
					 GFP_KERNEL, &mapped);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "size 2^%u", lg2);
		KUNIT_EXPECT_EQ(test, mapped, size);
		/* Unmapped in pages of the smallest size. */
		pt_test_check_unmap(test, pt_t, iova, pa, size, min, lg2);
	}
	pt_test_finish(test, pt_t);
}

/* The first and last IOVA of the space (both halves if sign extended). */
static void pt_test_ends(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned long ends[4];
	unsigned int i, n = 0;
	size_t mapped;

	ends[n++] = 0;
	ends[n++] = pt_test_last_iova(pt) - (min - 1);
#ifdef PT_FMT_SIGN_EXTEND
	ends[n++] = (1UL << (pt->va_lg2 - 1)) - min;
	ends[n++] = -(1UL << (pt->va_lg2 - 1));
#endif
	for (i = 0; i < n; i++) {
		u64 pa = min * (i + 1);

		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, ends[i], pa, min,
						  IOMMU_WRITE, &mapped), 0);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, ends[i]), pa);
		KUNIT_EXPECT_EQ(test,
				pt->ops->iova_to_phys(pt, ends[i] + min - 1),
				pa + min - 1);
	}
	/* One past the last is outside the space. */
	if (pt_test_last_iova(pt) != ULONG_MAX) {
		unsigned long past = pt_test_last_iova(pt) + 1;

		KUNIT_EXPECT_EQ(test, pt_test_map(pt_t, past, 0, min,
						  IOMMU_READ, &mapped),
				-ERANGE);
	}
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, ends[i], min),
				min);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	pt_test_finish(test, pt_t);
}

/* A map over a mapping fails and leaves everything as it was. */
static void pt_test_overlap(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned long base = min * 64;
	unsigned long span = 1UL << pt_fmt_va_lg2(&pt_t->table, 1);
	struct pt_test_count before, after;
	size_t mapped;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, base + 4 * min, 0x100000,
					  4 * min, IOMMU_READ, &mapped), 0);
	before = pt_test_count(pt_t);
	/* Starts in a hole, runs into the mapping. */
	KUNIT_EXPECT_EQ(test, pt_test_map(pt_t, base, 0x200000 * min / 4096,
					  6 * min, IOMMU_READ, &mapped),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, mapped, 0);
	/* Starts inside it. */
	KUNIT_EXPECT_EQ(test, pt_test_map(pt_t, base + 7 * min, 0, 2 * min,
					  IOMMU_READ, &mapped), -EEXIST);
	after = pt_test_count(pt_t);
	KUNIT_EXPECT_EQ(test, after.leaves, before.leaves);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base + 3 * min), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base + 4 * min),
			0x100000);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base + 8 * min), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, base + 4 * min,
						 4 * min), 4 * min);

	/*
	 * Across a table boundary: the leaves it wrote in the first table
	 * are taken back, and flushed, as the walker may have cached them.
	 */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, span, 0x100000, min,
					  IOMMU_READ, &mapped), 0);
	pt_t->flush_walks = 0;
	KUNIT_EXPECT_EQ(test, pt_test_map(pt_t, span - 2 * min, 16 * min,
					  4 * min, IOMMU_READ, &mapped),
			-EEXIST);
	KUNIT_EXPECT_EQ(test, mapped, 0);
	/* before that, the first table, left empty, was flushed and freed */
	KUNIT_EXPECT_EQ(test, pt_t->flush_walks, 1 + pt_test_reclaims(pt_t));
	KUNIT_EXPECT_EQ(test, pt_t->flush_iova, span - 2 * min);
	KUNIT_EXPECT_EQ(test, pt_t->flush_size, 2 * min);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, span - 2 * min), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, span - min), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, span, min), min);
	pt_test_finish(test, pt_t);
}

/*
 * Unmap stops at a hole with the length up to it, returns 0 at a hole or
 * inside a leaf, and unmaps a leaf that starts at the cursor whole.
 */
static void pt_test_unmap_hole(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	u64 big = pt->pgsize_bitmap & ~min;
	unsigned long base = min * 512;
	unsigned int i;
	size_t mapped;

	/* Three single small leaves (one map could use a larger one). */
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, base + i * min,
						  SZ_1G + i * min, min,
						  IOMMU_READ, &mapped), 0);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, base + 4 * min, 2ULL * SZ_1G,
					  min, IOMMU_READ, &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, base + 3 * min, min), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, base + min, 4 * min),
			2 * min);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base), SZ_1G);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base + min), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base + 2 * min), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base + 4 * min),
			2ULL * SZ_1G);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, base, min), min);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, base + 4 * min, min),
			min);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);

	if (big) {
		u64 size = big & -big;

		unsigned long at = 4 * size;	/* away from the tables above */

		if (size <= SZ_1G) {
			KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, at, size, size,
							  IOMMU_READ, &mapped),
					0);
			/* Inside the leaf: nothing. */
			KUNIT_EXPECT_EQ(test,
					pt_test_unmap_free(pt_t, at + min, min),
					0);
			KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, at + min),
					size + min);
			/* At its start, asked for less: the whole leaf. */
			KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, at, min),
					size);
			KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, at + min),
					0);
		}
	}
	pt_test_finish(test, pt_t);
}

/*
 * Unmapping a table's whole range frees the table (on the gather, after
 * the flush); piecemeal unmaps leave it, and a larger leaf replaces the
 * empty table only through the driver's walk flush.
 */
static void pt_test_free_tables(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	struct PT_TABLE *t = &pt_t->table;
	u64 min = pt_test_min_size(pt);
	u64 span = 1ULL << pt_fmt_va_lg2(t, 1);
	struct iommu_iotlb_gather gather;
	unsigned long nr, nr_in_reader;
	unsigned int tables;
	size_t mapped;
	int ret;

	if (span > SZ_1G || !(pt->pgsize_bitmap & span)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "no level-1 leaf");
	}
	/* A level-1 range of small leaves (pa misaligned for a big one). */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, span, min, span, IOMMU_READ,
					  &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, span / min);
	tables = pt_test_count(pt_t).tables;
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt_test_unmap(pt_t, span, span, &gather), span);
	KUNIT_EXPECT_EQ(test, gather.start, span);
	KUNIT_EXPECT_EQ(test, gather.end, 2 * span - 1);
	KUNIT_EXPECT_FALSE(test, iommu_pages_list_empty(&gather.freelist));
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, tables - 1);
	pt_test_put_list(&gather.freelist);

	/*
	 * Piecemeal: the table stays empty; a big leaf replaces it, and the
	 * table outlives any lockless reader that may be in it (the map runs
	 * inside a read-side section, as GFP_ATOMIC callers may).
	 */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, span, 0, min, IOMMU_READ,
					  &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, span, min), min);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, tables);
	nr = pt_test_nr_pages();
	/* (an AMD v1 top that grew had its empty old top flushed and freed) */
	pt_t->flush_walks = 0;
	rcu_read_lock();
	ret = pt->ops->map_pages(pt, span, 0, min, span / min, IOMMU_READ,
				 GFP_ATOMIC, &mapped);
	nr_in_reader = pt_test_nr_pages();
	rcu_read_unlock();
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, nr_in_reader, nr);
	rcu_barrier();
	rcu_barrier();
	KUNIT_EXPECT_LE(test, pt_test_nr_pages(), nr);
	KUNIT_EXPECT_EQ(test, pt_t->flush_walks, 1);
	KUNIT_EXPECT_EQ(test, pt_t->flush_iova, span);
	KUNIT_EXPECT_EQ(test, pt_t->flush_size, span);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves,
			pt_test_leaf_entries(pt_t, ilog2(span)));
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, span, span), span);

	/* Without a driver flush the empty table cannot be replaced. */
	pt_t->pt->driver_ops = NULL;
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, span, 0, min, IOMMU_READ,
					  &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, span, min), min);
	KUNIT_EXPECT_EQ(test, pt_test_map(pt_t, span, 0, span, IOMMU_READ,
					  &mapped), -EEXIST);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, span), 0);
	pt_test_finish(test, pt_t);
}

/* Bad input: a clear error and nothing changed. */
static void pt_test_bad_input(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned long nr = pt_test_nr_pages();
	struct pt_test_count c;
	size_t mapped = 0;
	u64 plain, *ptep;

#define MAP(iova, pa, pgsize, count, prot) \
	pt->ops->map_pages(pt, iova, pa, pgsize, count, prot, GFP_KERNEL, \
			   &mapped)
	KUNIT_EXPECT_EQ(test, MAP(min / 2, 0, min, 1, IOMMU_READ), -EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, min / 2, min, 1, IOMMU_READ), -EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, 0, min * 3, 1, IOMMU_READ), -EINVAL);
	if (!(pt->pgsize_bitmap & (min * 2)))
		KUNIT_EXPECT_EQ(test, MAP(0, 0, min * 2, 1, IOMMU_READ),
				-EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, 0, min, 0, IOMMU_READ), -EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, 0, 0, 1, IOMMU_READ), -EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, 0, min, 1, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, 0, min, 1, IOMMU_READ | BIT(6)), -EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, 0, min, 1, IOMMU_CACHE), -EINVAL);
	KUNIT_EXPECT_EQ(test, MAP(0, 0, min, SIZE_MAX / min + 1, IOMMU_READ),
			-EINVAL);
	if (pt->oa_lg2 < 64)
		KUNIT_EXPECT_EQ(test, MAP(0, BIT_ULL(pt->oa_lg2), min, 1,
					  IOMMU_READ), -ERANGE);
	if (pt_test_last_iova(pt) != ULONG_MAX)
		KUNIT_EXPECT_EQ(test, MAP(pt_test_last_iova(pt) + 1, 0, min, 1,
					  IOMMU_READ), -ERANGE);
	/* Wrapping past the top of the space. */
	KUNIT_EXPECT_EQ(test, MAP(pt_test_last_iova(pt) - (min - 1), 0, min,
				  2, IOMMU_READ), -ERANGE);
#ifdef PT_FMT_SIGN_EXTEND
	KUNIT_EXPECT_EQ(test, MAP(1UL << (pt->va_lg2 - 1), 0, min, 1,
				  IOMMU_READ), -ERANGE);
	KUNIT_EXPECT_EQ(test, MAP((1UL << (pt->va_lg2 - 1)) - min, 0, min, 2,
				  IOMMU_READ), -ERANGE);
#endif
	KUNIT_EXPECT_EQ(test, mapped, 0);
	KUNIT_EXPECT_EQ(test, pt->ops->unmap_pages(pt, min / 2, min, 1, NULL),
			0);
	KUNIT_EXPECT_EQ(test, pt->ops->unmap_pages(pt, 0, 0, 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->unmap_pages(pt, 0, min, 0, NULL), 0);
	c = pt_test_count(pt_t);
	KUNIT_EXPECT_EQ(test, c.leaves, 0);
	KUNIT_EXPECT_EQ(test, c.tables, 0);
	KUNIT_EXPECT_EQ(test, pt_test_nr_pages(), nr);
	/*
	 * IOMMU_PRIV maps in every format (IORT RMRs and DMA_ATTR_PRIVILEGED
	 * ask for it); where the format has no privilege it changes nothing.
	 */
	KUNIT_ASSERT_EQ(test, MAP(0, min, min, 1, IOMMU_READ), 0);
	ptep = pt_test_leaf_ptep(pt_t, 0);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	plain = *ptep;
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, 0, min), min);
	KUNIT_ASSERT_EQ(test, MAP(0, min, min, 1, IOMMU_READ | IOMMU_PRIV), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, 0), min);
	ptep = pt_test_leaf_ptep(pt_t, 0);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, *ptep == plain, pt_test_priv_moot(pt_t));
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, 0, min), min);
#undef MAP
	pt_test_finish(test, pt_t);
}

/* Dirty tracking: a dirty leaf is recorded once, then clear. */
static void pt_test_dirty(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty = { .gather = &gather };
	unsigned long iova = min * 16;
	unsigned int i;
	size_t mapped;

	if (!pt->ops->read_and_clear_dirty || !pt_test_dirty_ok(pt_t)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "no dirty tracking");
	}
	/* Single small leaves (one map could use a larger one). */
	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, iova + i * min, i * min,
						  min, IOMMU_READ | IOMMU_WRITE,
						  &mapped), 0);
	/* New writable mappings may start dirty (ARM DBM): clear them. */
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, min * 64, 0,
							    &dirty), 0);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, min * 64, 0,
							    &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);

	pt_test_make_dirty(pt_t, iova + 2 * min);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test,
			pt->ops->read_and_clear_dirty(pt, 0, min * 64,
						      IOMMU_DIRTY_NO_CLEAR,
						      &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, iova + 2 * min);
	KUNIT_EXPECT_EQ(test, gather.end, iova + 3 * min - 1);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, min * 64, 0,
							    &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, iova + 2 * min);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, min * 64, 0,
							    &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + 2 * min),
			2 * min);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova, 4 * min), 4 * min);
	pt_test_finish(test, pt_t);
}

struct pt_test_racer {
	struct pt_test *pt_t;
	unsigned long first;
	unsigned int rounds;
	int err;
	struct completion done;
};

/* Map one small page in each of @rounds level-1 ranges, then unmap them. */
static int pt_test_race(struct pt_test_racer *r)
{
	struct pt_iommu *pt = r->pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned long stride = 1UL << pt_fmt_va_lg2(&r->pt_t->table, 1);
	unsigned int i;
	size_t mapped;
	int ret;

	for (i = 0; i < r->rounds; i++) {
		unsigned long iova = r->first + i * stride;

		mapped = 0;
		ret = pt->ops->map_pages(pt, iova, iova, min, 1, IOMMU_READ,
					 GFP_KERNEL, &mapped);
		if (ret)
			return ret;
	}
	for (i = 0; i < r->rounds; i++) {
		unsigned long iova = r->first + i * stride;

		if (pt->ops->iova_to_phys(pt, iova) != iova)
			return -EIO;
		if (pt_test_unmap_free(r->pt_t, iova, min) != min)
			return -EIO;
	}
	return 0;
}

static int pt_test_race_thread(void *arg)
{
	struct pt_test_racer *r = arg;

	r->err = pt_test_race(r);
	complete(&r->done);
	return 0;
}

/*
 * Two threads map and unmap disjoint pages that share every table, so new
 * tables are installed concurrently (the cmpxchg loser frees its own): all
 * mappings land, and no table leaks.
 */
static void pt_test_concurrent(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	u64 min = pt_test_min_size(pt_t->pt);
	unsigned long stride = 1UL << pt_fmt_va_lg2(&pt_t->table, 1);
	struct pt_test_racer a = { pt_t, stride, 256 };
	struct pt_test_racer b = { pt_t, stride + min, 256 };
	struct task_struct *task;

	if (stride > SZ_1G / 2) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "level-1 entries too large for the window");
	}
	init_completion(&a.done);
	task = kthread_run(pt_test_race_thread, &a, "pt-race");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	b.err = pt_test_race(&b);
	wait_for_completion(&a.done);
	KUNIT_EXPECT_EQ(test, a.err, 0);
	KUNIT_EXPECT_EQ(test, b.err, 0);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	pt_test_finish(test, pt_t);
}

struct pt_test_dirty_racer {
	struct pt_test *pt_t;
	unsigned long iova;
	size_t len;
	atomic_t stop;
	unsigned long passes;
	int err;
	struct completion started;
	struct completion done;
};

/* Clear the dirty state of [iova, iova + len) until told to stop. */
static int pt_test_dirty_clear_thread(void *arg)
{
	struct pt_test_dirty_racer *r = arg;
	struct pt_iommu *pt = r->pt_t->pt;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty = { .gather = &gather };

	while (!atomic_read(&r->stop) && !r->err) {
		iommu_iotlb_gather_init(&gather);
		r->err = pt->ops->read_and_clear_dirty(pt, r->iova, r->len, 0,
						       &dirty);
		if (!r->passes++)
			complete(&r->started);
		cond_resched();
	}
	complete_all(&r->started);
	complete_all(&r->done);
	return 0;
}

/* Also run at the test's end if an assertion cut it short. */
static void pt_test_dirty_racer_stop(void *arg)
{
	struct pt_test_dirty_racer *r = arg;

	atomic_set(&r->stop, 1);
	wait_for_completion(&r->done);
}

#define PT_TEST_DIRTY_PAGES	32
#define PT_TEST_DIRTY_ROUNDS	300

/*
 * read_and_clear_dirty may run at any time: a thread clears the dirty state
 * of a window over and over while this one maps its pages, dirties them and
 * unmaps them again. An entry the unmap emptied after the clearing thread
 * read it must stay empty, or the next map there fails as occupied. The
 * first page stays mapped so that no table of the window is freed under
 * the clearing walk.
 */
static void pt_test_dirty_race(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned long base = min * PT_TEST_DIRTY_PAGES;
	size_t len = min * (PT_TEST_DIRTY_PAGES - 1);
	struct pt_test_dirty_racer *r = kunit_kzalloc(test, sizeof(*r),
						      GFP_KERNEL);
	struct task_struct *task;
	unsigned int round, i;
	size_t mapped;
	int ret = 0;

	if (!pt->ops->read_and_clear_dirty || !pt_test_dirty_ok(pt_t)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "no dirty tracking");
	}
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, base, base, min,
					  IOMMU_READ | IOMMU_WRITE, &mapped), 0);
	r->pt_t = pt_t;
	r->iova = base;
	r->len = min * PT_TEST_DIRTY_PAGES;
	init_completion(&r->started);
	init_completion(&r->done);
	task = kthread_run(pt_test_dirty_clear_thread, r, "pt-dirty");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pt_test_dirty_racer_stop,
							r), 0);
	/* The storm starts with the clearing walks already going. */
	wait_for_completion(&r->started);
	for (round = 0; round < PT_TEST_DIRTY_ROUNDS && !ret; round++) {
		for (i = 1; i < PT_TEST_DIRTY_PAGES && !ret; i++)
			ret = pt->ops->map_pages(pt, base + i * min, i * min,
						 min, 1, IOMMU_READ | IOMMU_WRITE,
						 GFP_KERNEL, &mapped);
		if (ret)
			break;
		for (i = 1; i < PT_TEST_DIRTY_PAGES; i++)
			pt_test_make_dirty(pt_t, base + i * min);
		if (pt_test_unmap_free(pt_t, base + min, len) != len)
			ret = -EIO;
	}
	pt_test_dirty_racer_stop(r);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "round %u", round);
	KUNIT_EXPECT_EQ(test, r->err, 0);
	KUNIT_EXPECT_GT(test, r->passes, 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, base), base);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, base, min), min);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	pt_test_finish(test, pt_t);
}

static void pt_test_note_unlinked(struct pt_iommu *pt, unsigned long iova,
				  size_t size)
{
	struct pt_test *pt_t = container_of(pt, struct pt_test, table.iommu);

	atomic_inc(&pt_t->unlinked);
}

/* The library frees unlinked tables itself, after RCU. */
static const struct pt_iommu_driver_ops pt_test_unlink_ops = {
	.flush_walk = pt_test_note_unlinked,
	.table_unlinked = pt_test_note_unlinked,
};

/*
 * As pt_test_note_unlinked(), and count the flushes during which a map
 * could have put a new table or leaf where the old table was: its entry
 * must hold something no map takes for empty until the flush is done.
 */
static void pt_test_check_unlinked(struct pt_iommu *pt, unsigned long iova,
				   size_t size)
{
	struct pt_test *pt_t = container_of(pt, struct pt_test, table.iommu);
	u64 *ptep = pt_test_leaf_ptep(pt_t, iova);

	atomic_inc(&pt_t->unlinked);
	if (!ptep || !READ_ONCE(*ptep) || pt->ops->iova_to_phys(pt, iova))
		atomic_inc(&pt_t->open_unlinks);
}

static const struct pt_iommu_driver_ops pt_test_check_ops = {
	.flush_walk = pt_test_check_unlinked,
	.table_unlinked = pt_test_check_unlinked,
};

/* What the reference model holds: disjoint extents, unsorted. */
struct pt_test_extent {
	unsigned long iova;
	u64 pa;
	size_t len;
};

#define PT_TEST_MAX_EXTENTS	64

struct pt_test_model {
	struct pt_test_extent ext[PT_TEST_MAX_EXTENTS];
	unsigned int n;
};

static bool pt_test_model_free(struct pt_test_model *m, unsigned long iova,
			       size_t len)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (iova < m->ext[i].iova + m->ext[i].len &&
		    m->ext[i].iova < iova + len)
			return false;
	return true;
}

/* Index of the extent starting at @iova, or -1. */
static int pt_test_model_at(struct pt_test_model *m, unsigned long iova)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (m->ext[i].iova == iova)
			return i;
	return -1;
}

static void pt_test_model_check(struct kunit *test, struct pt_test *pt_t,
				struct pt_test_model *m)
{
	struct pt_iommu *pt = pt_t->pt;
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		struct pt_test_extent *e = &m->ext[i];
		unsigned long off = pt_test_rand(pt_t, e->len);
		unsigned long last = e->iova + e->len - 1;

		KUNIT_EXPECT_EQ_MSG(test, pt->ops->iova_to_phys(pt, e->iova),
				    e->pa, "seed %llu", pt_t->seed);
		KUNIT_EXPECT_EQ_MSG(test,
				    pt->ops->iova_to_phys(pt, e->iova + off),
				    e->pa + off, "seed %llu", pt_t->seed);
		KUNIT_EXPECT_EQ_MSG(test, pt->ops->iova_to_phys(pt, last),
				    e->pa + e->len - 1, "seed %llu",
				    pt_t->seed);
		if (pt_test_model_free(m, last + 1, 1))
			KUNIT_EXPECT_EQ_MSG(test,
					    pt->ops->iova_to_phys(pt, last + 1),
					    0, "seed %llu", pt_t->seed);
	}
}

/*
 * Random map/unmap sequences in a window that spans a few of the second
 * smallest leaf, so every level and page size is hit, checked against the
 * model after every operation.
 */
static void pt_test_random(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	struct pt_test_model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	u64 min = pt_test_min_size(pt);
	u64 big = pt->pgsize_bitmap & ~min;
	unsigned int big_lg2 = pt_fmt_va_lg2(&pt_t->table, 1);
	unsigned long base, window;
	unsigned int op, units;
	size_t mapped;

	KUNIT_ASSERT_NOT_NULL(test, m);
	/* emptied tables are freed at once, flushed by table_unlinked() */
	pt->driver_ops = &pt_test_unlink_ops;
	/* The level-1 leaf, else the next size up, else 64 small leaves. */
	if (!(pt->pgsize_bitmap & BIT_ULL(big_lg2)))
		big_lg2 = big ? __ffs64(big) : ilog2(min) + 6;
	if (big_lg2 > 30)
		big_lg2 = 30;
	window = 4UL << big_lg2;
	base = window;
	units = window / min;
	for (op = 0; op < PT_TEST_OPS; op++) {
		unsigned int r = pt_test_rand(pt_t, 8);

		if (r < 5 && m->n < PT_TEST_MAX_EXTENTS) {
			/* Map: an aligned chunk, sometimes a big one. */
			unsigned int lg2 = ilog2(min) +
				pt_test_rand(pt_t, big_lg2 - ilog2(min) + 2);
			size_t len = (pt_test_rand(pt_t, 4) + 1) * min;
			unsigned long iova;
			u64 pa;
			int ret;

			if (lg2 > big_lg2)
				lg2 = big_lg2;
			if (r == 0)
				len = 1UL << lg2;
			iova = base + (pt_test_rand(pt_t, units) * min &
				       ~((1UL << lg2) - 1));
			if (iova + len > base + window)
				continue;
			pa = (pt_test_rand(pt_t, 1U << 20) << big_lg2) |
			     (iova & ((1UL << big_lg2) - 1));
			if (pt_test_rand(pt_t, 4) == 0)
				pa ^= min;
			pa &= GENMASK_ULL(min(pt->oa_lg2, 40U) - 1, 0);
			ret = pt_test_map(pt_t, iova, pa, len, IOMMU_READ,
					  &mapped);
			if (pt_test_model_free(m, iova, len)) {
				KUNIT_ASSERT_EQ_MSG(test, ret, 0, "op %u seed %llu",
						    op, pt_t->seed);
				KUNIT_ASSERT_EQ(test, mapped, len);
				m->ext[m->n++] = (struct pt_test_extent){
					iova, pa, len };
			} else {
				KUNIT_ASSERT_EQ_MSG(test, ret, -EEXIST,
						    "op %u seed %llu", op,
						    pt_t->seed);
				KUNIT_ASSERT_EQ(test, mapped, 0);
			}
		} else if (r < 7 && m->n) {
			/* Unmap extents in a row, up to a hole. */
			unsigned int i = pt_test_rand(pt_t, m->n);
			unsigned long iova = m->ext[i].iova, cur = iova;
			size_t want = 0, len = 0, ret;
			int j;

			while ((j = pt_test_model_at(m, cur)) >= 0 &&
			       pt_test_rand(pt_t, 2)) {
				cur += m->ext[j].len;
				want += m->ext[j].len;
			}
			if (!want) {
				j = pt_test_model_at(m, cur);
				want = m->ext[j].len;
				cur += want;
			}
			len = want;
			if (pt_test_model_free(m, cur, min) &&
			    pt_test_rand(pt_t, 2))
				len += min;
			ret = pt_test_unmap_free(pt_t, iova, len);
			KUNIT_ASSERT_EQ_MSG(test, ret, want, "op %u seed %llu",
					    op, pt_t->seed);
			for (cur = iova; cur < iova + want; ) {
				j = pt_test_model_at(m, cur);
				cur += m->ext[j].len;
				m->ext[j] = m->ext[--m->n];
			}
		} else {
			/* Unmap at a hole: nothing. */
			unsigned long iova = base + pt_test_rand(pt_t, units) *
					     min;

			if (pt_test_model_free(m, iova, min))
				KUNIT_ASSERT_EQ_MSG(test,
						    pt_test_unmap_free(pt_t, iova,
								       min),
						    0, "op %u seed %llu", op,
						    pt_t->seed);
		}
		if (!(op % 64))
			pt_test_model_check(test, pt_t, m);
	}
	pt_test_model_check(test, pt_t, m);
	while (m->n) {
		struct pt_test_extent *e = &m->ext[--m->n];

		KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, e->iova, e->len),
				e->len);
	}
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	/* every table the sequence emptied was freed */
	if (pt_test_reclaims(pt_t))
		KUNIT_EXPECT_EQ_MSG(test, pt_test_count(pt_t).tables, 0,
				    "seed %llu", pt_t->seed);
	pt_test_finish(test, pt_t);
}

/* The tables below the top that a set of smallest leaves needs. */
static unsigned int pt_test_tables_for(struct pt_test *pt_t,
				       const unsigned long *iovas,
				       const bool *in, unsigned int n)
{
	struct PT_TABLE *t = &pt_t->table;
	unsigned int top_level = pt_iommu_top_level(pt_t->pt);
	unsigned int level, i, j, tables = 0;

	for (level = 0; level < top_level; level++) {
		unsigned int span = PT_FN(span_lg2)(t, level, PT_MAX_LEVELS);

		for (i = 0; i < n; i++) {
			if (!in[i])
				continue;
			for (j = 0; j < i; j++)
				if (in[j] &&
				    iovas[j] >> span == iovas[i] >> span)
					break;
			tables += j == i;
		}
	}
	return tables;
}

/* The last smallest leaf of the lower half (of all, if not sign-extended). */
static unsigned long pt_test_lower_last(struct pt_iommu *pt)
{
#ifdef PT_FMT_SIGN_EXTEND
	return (1UL << (pt->va_lg2 - 1)) - pt_test_min_size(pt);
#else
	return pt_test_last_iova(pt) + 1 - pt_test_min_size(pt);
#endif
}

/*
 * Tables that unmaps empty are freed, and only those: eight pages, four
 * spread over the address space (the top page too, in the upper half of a
 * sign-extended one) and four beside them in shared tables, are unmapped
 * one at a time in random order, and after each unmap the tables left are
 * exactly those the pages still mapped need, with the driver's
 * table_unlinked() called once per table freed, with a gather and without
 * (the library frees them after RCU); the page count comes back to an
 * empty table's. A driver that flushes only through the gather, later,
 * keeps tables an unmap empties piecemeal (a map could meet the old table
 * in the walk cache before the flush), and so does PT_FLAG_KEEP_TABLES.
 */
static void pt_test_reclaim(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	struct PT_TABLE *t = &pt_t->table;
	u64 min = pt_test_min_size(pt);
	unsigned long low = pt_test_lower_last(pt);
	unsigned long q = round_down(low / 4, min);
	unsigned long leaf_span = 1UL << PT_FN(span_lg2)(t, 0, PT_MAX_LEVELS);
	unsigned long iovas[8] = {
		0, q, 2 * q, pt_test_last_iova(pt) + 1 - min,
		min, leaf_span, q + min, pt_test_last_iova(pt) + 1 - 2 * min,
	};
	unsigned int order[8], peak, pass, i, j;
	unsigned long empty;
	bool in[8];
	size_t done;

	if (q < 2 * leaf_span || !pt_test_reclaims(pt_t)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "tables below the top are fragments");
	}
	empty = pt_test_nr_pages();
	for (pass = 0; pass < 4; pass++) {
		pt->driver_ops = pass < 2 ? &pt_test_check_ops :
				 &pt_test_driver_ops;
		if (pass == 3)
			pt->flags |= PT_FLAG_KEEP_TABLES;
		atomic_set(&pt_t->unlinked, 0);
		for (i = 0; i < 8; i++) {
			KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, iovas[i],
							  0x100000 + i * min,
							  min, IOMMU_READ,
							  &done), 0);
			in[i] = true;
			order[i] = i;
		}
		peak = pt_test_tables_for(pt_t, iovas, in, 8);
		KUNIT_ASSERT_EQ(test, pt_test_count(pt_t).tables, peak);
		for (i = 7; i > 0; i--) {
			j = pt_test_rand(pt_t, i + 1);
			swap(order[i], order[j]);
		}
		for (i = 0; i < 8; i++) {
			struct iommu_iotlb_gather gather;
			unsigned int k = order[i], want;

			iommu_iotlb_gather_init(&gather);
			KUNIT_EXPECT_EQ(test, pt_test_unmap(pt_t, iovas[k], min,
							    pass == 1 ? NULL :
							    &gather),
					min);
			in[k] = false;
			want = pass >= 2 ? peak :
			       pt_test_tables_for(pt_t, iovas, in, 8);
			KUNIT_EXPECT_EQ_MSG(test, pt_test_count(pt_t).tables,
					    want, "pass %u unmap %#lx seed %llu",
					    pass, iovas[k], pt_t->seed);
			/* the library frees what it unlinked itself */
			KUNIT_EXPECT_TRUE(test,
					  iommu_pages_list_empty(&gather.freelist));
			for (j = 0; j < 8; j++)
				KUNIT_EXPECT_EQ(test,
						pt->ops->iova_to_phys(pt,
								      iovas[j]),
						in[j] ? 0x100000 + j * min : 0);
		}
		if (pass < 2) {
			KUNIT_EXPECT_EQ(test, atomic_read(&pt_t->unlinked),
					peak);
			KUNIT_EXPECT_EQ(test, atomic_read(&pt_t->open_unlinks),
					0);
		}
		rcu_barrier();
		rcu_barrier();
		if (pass < 2)
			KUNIT_EXPECT_EQ_MSG(test, pt_test_nr_pages(), empty,
					    "pass %u seed %llu", pass,
					    pt_t->seed);
	}
	pt->driver_ops = NULL;
	pt_test_finish(test, pt_t);
}

#define PT_STORM_THREADS	4
#define PT_STORM_SLOTS		16	/* per thread */
#define PT_STORM_OPS		1000	/* per thread */

struct pt_test_stormer {
	struct pt_test *pt_t;
	const unsigned long *iovas;
	unsigned int k;
	struct completion *go;
	struct completion done;
	struct rnd_state rnd;
	bool mapped[PT_STORM_SLOTS];
	int err;
};

static u64 pt_storm_pa(struct pt_test *pt_t, unsigned int g)
{
	return 0x100000 + (u64)g * pt_test_min_size(pt_t->pt);
}

/*
 * Map and unmap this thread's slots at random; between operations, look at
 * another thread's slot without a lock: it translates to its own page or
 * not at all.
 */
static int pt_test_storm_thread(void *arg)
{
	struct pt_test_stormer *r = arg;
	struct pt_test *pt_t = r->pt_t;
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned int op;

	wait_for_completion(r->go);
	for (op = 0; op < PT_STORM_OPS && !r->err; op++) {
		unsigned int s = prandom_u32_state(&r->rnd) % PT_STORM_SLOTS;
		unsigned int g = s * PT_STORM_THREADS + r->k;
		unsigned int other = prandom_u32_state(&r->rnd) %
				     (PT_STORM_THREADS * PT_STORM_SLOTS);
		phys_addr_t phys;
		size_t mapped = 0;

		if (r->mapped[s]) {
			if (pt->ops->iova_to_phys(pt, r->iovas[g]) !=
			    pt_storm_pa(pt_t, g) ||
			    pt->ops->unmap_pages(pt, r->iovas[g], min, 1,
						 NULL) != min)
				r->err = -EIO;
		} else if (pt->ops->map_pages(pt, r->iovas[g],
					      pt_storm_pa(pt_t, g), min, 1,
					      IOMMU_READ | IOMMU_WRITE,
					      GFP_KERNEL, &mapped) ||
			   mapped != min) {
			r->err = -ENOMEM;
		}
		r->mapped[s] = !r->mapped[s];
		phys = pt->ops->iova_to_phys(pt, r->iovas[other]);
		if (phys && phys != pt_storm_pa(pt_t, other))
			r->err = -EINVAL;
		if (!(op % 32))
			cond_resched();
	}
	complete(&r->done);
	return 0;
}

/*
 * Four threads map and unmap single pages in tables they share, two
 * threads' pages in each smallest table and a few such tables in each
 * table above, so tables empty and are freed while other threads map into
 * them, walk them without a lock, or find them claimed. Afterwards every
 * page is mapped exactly as its thread left it, and once all are unmapped
 * no table is left.
 */
static void pt_test_reclaim_storm(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	struct PT_TABLE *t = &pt_t->table;
	u64 min = pt_test_min_size(pt);
	unsigned int span0 = PT_FN(span_lg2)(t, 0, PT_MAX_LEVELS);
	unsigned int hi = PT_FN(span_lg2)(t, 1, PT_MAX_LEVELS);
	unsigned int n = PT_STORM_THREADS * PT_STORM_SLOTS, g, k, s;
	struct pt_test_stormer *r;
	struct completion go;
	unsigned long *iovas;

	/* 8 groups of 4 smallest tables, in 8 tables above if they fit */
	if ((8UL << hi) - 1 > pt_test_lower_last(pt))
		hi = span0 + 2;
	if ((8UL << hi) - 1 > pt_test_lower_last(pt)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "address space too small");
	}
	r = kunit_kcalloc(test, PT_STORM_THREADS, sizeof(*r), GFP_KERNEL);
	iovas = kunit_kcalloc(test, n, sizeof(*iovas), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, iovas);
	for (g = 0; g < n; g++)
		iovas[g] = ((unsigned long)(g / 8) << hi) +
			   ((unsigned long)(g / 2 % 4) << span0) +
			   (g % 2) * min;
	/* an AMD v1 top grows while the threads run */
	pt->driver_ops = &pt_test_unlink_ops;
	init_completion(&go);
	for (k = 0; k < PT_STORM_THREADS; k++) {
		struct task_struct *task;

		r[k] = (struct pt_test_stormer){
			.pt_t = pt_t, .iovas = iovas, .k = k, .go = &go,
		};
		init_completion(&r[k].done);
		prandom_seed_state(&r[k].rnd, pt_t->seed + k);
		task = kthread_run(pt_test_storm_thread, &r[k], "pt-storm/%u",
				   k);
		if (IS_ERR(task)) {
			/* the others run as usual; this one failed */
			r[k].err = PTR_ERR(task);
			complete(&r[k].done);
		}
	}
	complete_all(&go);
	for (k = 0; k < PT_STORM_THREADS; k++) {
		wait_for_completion(&r[k].done);
		KUNIT_EXPECT_EQ_MSG(test, r[k].err, 0, "thread %u seed %llu",
				    k, pt_t->seed);
	}
	for (k = 0; k < PT_STORM_THREADS; k++) {
		for (s = 0; s < PT_STORM_SLOTS; s++) {
			g = s * PT_STORM_THREADS + k;
			KUNIT_EXPECT_EQ_MSG(test,
					    pt->ops->iova_to_phys(pt, iovas[g]),
					    r[k].mapped[s] ?
					    pt_storm_pa(pt_t, g) : 0,
					    "slot %u seed %llu", g, pt_t->seed);
			if (r[k].mapped[s])
				KUNIT_EXPECT_EQ(test,
						pt->ops->unmap_pages(pt,
								     iovas[g],
								     min, 1,
								     NULL),
						min);
		}
	}
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	if (pt_test_reclaims(pt_t)) {
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, 0);
		KUNIT_EXPECT_GT(test, atomic_read(&pt_t->unlinked), 0);
	}
	kunit_info(test, "%d tables freed\n", atomic_read(&pt_t->unlinked));
	rcu_barrier();
	rcu_barrier();
	pt->driver_ops = NULL;
	pt_test_finish(test, pt_t);
}

#ifdef PT_TEST_DIFFERENTIAL
/* iommu_pgsize()'s choice: the largest page, and how many before a larger. */
static size_t pt_diff_pgsize(u64 bitmap, unsigned long iova, u64 pa,
			     size_t len, size_t *count)
{
	u64 sizes = bitmap & GENMASK_ULL(__fls(len), 0);
	u64 above;
	size_t pgsize, n;

	if (iova | pa)
		sizes &= GENMASK_ULL(__ffs64(iova | pa), 0);
	pgsize = 1UL << __fls(sizes);
	n = len / pgsize;
	above = bitmap & ~GENMASK_ULL(__fls(sizes), 0);
	if (above) {
		u64 next = above & -above;

		if (!((iova ^ pa) & (next - 1)))
			n = min_t(size_t, n, (next - (iova & (next - 1))) /
					     pgsize);
	}
	*count = n;
	return pgsize;
}

#ifdef PT_FMT_SYNCED
#define PT_TEST_SYNCED	PT_FMT_SYNCED
#else
#define PT_TEST_SYNCED	0ULL
#endif

/* Walk both trees: every leaf bit for bit, every table's attributes. */
static void pt_diff_compare(struct kunit *test, struct pt_test *pt_t,
			    u64 *ours, u64 *theirs, unsigned int level,
			    unsigned int top_level, unsigned long iova,
			    unsigned int *bad)
{
	struct PT_TABLE *t = &pt_t->table;
	unsigned int i, n = 1U << PT_FN(items_lg2)(t, level, top_level);

	for (i = 0; i < n && *bad < 4; i++) {
		u64 a = READ_ONCE(ours[i]), b = READ_ONCE(theirs[i]);
		unsigned long at = iova + ((unsigned long)i <<
					   pt_fmt_va_lg2(t, level));

		/* Tables: the same attributes, synced marks included. */
		if (a && b && level && pt_fmt_is_table(t, level, a) &&
		    pt_fmt_is_table(t, level, b) &&
		    (a & ~PT_TEST_SYNCED) ==
		    pt_fmt_table_entry(t, level, pt_fmt_table_pa(t, a)) &&
		    (b & ~PT_TEST_SYNCED) ==
		    pt_fmt_table_entry(t, level, pt_fmt_table_pa(t, b)) &&
		    (a & PT_TEST_SYNCED) == (b & PT_TEST_SYNCED)) {
			pt_diff_compare(test, pt_t, PT_FN(table_va)(t, a),
					PT_FN(table_va)(t, b), level - 1,
					top_level, at, bad);
			continue;
		}
		if (a == b && (!a || !level || !pt_fmt_is_table(t, level, a)))
			continue;
		KUNIT_FAIL(test, "level %u iova %#lx: pte %#llx, 6.12 code %#llx (seed %llu)",
			   level, at, a, b, pt_t->seed);
		(*bad)++;
	}
}

/*
 * The 6.12 implementation of a format, as io-pgtable ops: @top returns its
 * current top table and level; @gather: unmap frees tables like ours (else
 * both are unmapped without a gather and keep their tables).
 */
struct pt_test_diff {
	struct pt_test *pt_t;
	struct io_pgtable_ops *ops;
	u64 *(*top)(struct pt_test_diff *d, unsigned int *level);
	void *priv;
	bool gather;
	int prot;
};

static void pt_diff_trees(struct kunit *test, struct pt_test_diff *d,
			  unsigned int *bad)
{
	unsigned long top = READ_ONCE(d->pt_t->pt->top);
	unsigned int level;
	u64 *theirs = d->top(d, &level);

	KUNIT_ASSERT_EQ(test, level, pt_top_level(top));
	pt_diff_compare(test, d->pt_t, pt_top_table(top), theirs, level, level,
			0, bad);
}

/*
 * The same random sequence on generic_pt and on the 6.12 code, which is
 * driven as the IOMMU core drives it (iommu_pgsize() chunks), with random
 * protections: identical return values and identical tables. Maps only go
 * where nothing is mapped and unmaps cover whole mappings (the 6.12 code
 * WARNs otherwise).
 */
static void pt_test_differential(struct kunit *test, struct pt_test_diff *d)
{
	struct pt_test *pt_t = d->pt_t;
	struct pt_iommu *pt = pt_t->pt;
	struct io_pgtable_ops *ops = d->ops;
	struct pt_test_model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	u64 min = pt_test_min_size(pt);
	unsigned int big_lg2 = pt_fmt_va_lg2(&pt_t->table, 1);
	unsigned long base, window;
	unsigned int op, units, bad = 0;

	KUNIT_ASSERT_NOT_NULL(test, m);
	/* table for table: the 6.12 code keeps what unmaps empty */
	pt->flags |= PT_FLAG_KEEP_TABLES;
	if (big_lg2 > 30)
		big_lg2 = 30;
	window = 4UL << big_lg2;
	base = window;
	units = window / min;

	for (op = 0; op < PT_TEST_OPS / 2 && !bad; op++) {
		int prot = IOMMU_READ | (pt_test_rand(pt_t, 2) ? IOMMU_WRITE : 0) |
			   (pt_test_rand(pt_t, 2) ? IOMMU_CACHE : 0) |
			   (pt_test_rand(pt_t, 4) ? 0 : IOMMU_NOEXEC) |
			   (pt_test_rand(pt_t, 8) ? 0 : IOMMU_MMIO);

		prot &= d->prot;
		if (pt_test_rand(pt_t, 3) && m->n < PT_TEST_MAX_EXTENTS) {
			unsigned int lg2 = ilog2(min) +
				pt_test_rand(pt_t, big_lg2 - ilog2(min) + 1);
			size_t len = pt_test_rand(pt_t, 2) ? 1UL << lg2 :
				     (pt_test_rand(pt_t, 4) + 1) * min;
			unsigned long iova = base + (pt_test_rand(pt_t, units) *
						     min & ~((1UL << lg2) - 1));
			u64 pa = (pt_test_rand(pt_t, 256) << big_lg2) |
				 (iova & ((1UL << big_lg2) - 1));
			size_t done = 0, mapped = 0;
			int ret = 0, ret2;

			if (pt_test_rand(pt_t, 4) == 0)
				pa ^= min;
			if (iova + len > base + window ||
			    !pt_test_model_free(m, iova, len))
				continue;
			while (done < len && !ret) {
				size_t count, pgsize;

				pgsize = pt_diff_pgsize(pt->pgsize_bitmap,
							iova + done, pa + done,
							len - done, &count);
				ret = ops->map_pages(ops, iova + done,
						     pa + done, pgsize, count,
						     prot, GFP_KERNEL, &done);
			}
			ret2 = pt_test_map(pt_t, iova, pa, len, prot, &mapped);
			KUNIT_ASSERT_EQ(test, ret, 0);
			KUNIT_ASSERT_EQ(test, ret2, 0);
			KUNIT_ASSERT_EQ(test, mapped, done);
			m->ext[m->n++] = (struct pt_test_extent){ iova, pa, len };
		} else if (m->n) {
			unsigned int i = pt_test_rand(pt_t, m->n);
			unsigned long iova = m->ext[i].iova, cur = iova;
			struct iommu_iotlb_gather gather;
			size_t len = 0, done = 0, got;
			int j;

			do {
				j = pt_test_model_at(m, cur);
				len += m->ext[j].len;
				cur += m->ext[j].len;
			} while (pt_test_model_at(m, cur) >= 0 &&
				 pt_test_rand(pt_t, 2));
			iommu_iotlb_gather_init(&gather);
			while (done < len) {
				size_t count, pgsize, r;

				pgsize = pt_diff_pgsize(pt->pgsize_bitmap,
							iova + done,
							iova + done,
							len - done, &count);
				r = ops->unmap_pages(ops, iova + done, pgsize,
						     count, &gather);
				if (!r)
					break;
				done += r;
			}
			pt_test_put_list(&gather.freelist);
			if (d->gather)
				got = pt_test_unmap_free(pt_t, iova, len);
			else
				got = pt_test_unmap(pt_t, iova, len, NULL);
			KUNIT_ASSERT_EQ(test, done, len);
			KUNIT_ASSERT_EQ(test, got, len);
			for (cur = iova; cur < iova + len; ) {
				j = pt_test_model_at(m, cur);
				cur += m->ext[j].len;
				m->ext[j] = m->ext[--m->n];
			}
		}
		if (!(op % 16)) {
			unsigned long iova = base + pt_test_rand(pt_t, units) *
					     min;

			KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova),
					ops->iova_to_phys(ops, iova));
			pt_diff_trees(test, d, &bad);
		}
	}
	pt_diff_trees(test, d, &bad);
}
#endif

struct pt_test_report {
	struct pt_iommu_driver_ops ops;
	unsigned int leaf_calls;
	unsigned long leaf_iova;
	unsigned int leaf_lg2;
	size_t leaf_count;
	struct iommu_iotlb_gather *leaf_gather;
	unsigned int unlinked;
	unsigned long unlinked_iova;
	size_t unlinked_size;
};

static struct pt_test_report *pt_test_report_of(struct pt_iommu *pt)
{
	return container_of(pt->driver_ops, struct pt_test_report, ops);
}

static void pt_test_leaves_unmapped(struct pt_iommu *pt,
				    struct iommu_iotlb_gather *gather,
				    unsigned long iova, unsigned int lg2,
				    size_t count)
{
	struct pt_test_report *r = pt_test_report_of(pt);

	r->leaf_calls++;
	r->leaf_iova = iova;
	r->leaf_lg2 = lg2;
	r->leaf_count = count;
	r->leaf_gather = gather;
}

static void pt_test_table_unlinked(struct pt_iommu *pt, unsigned long iova,
				   size_t size)
{
	struct pt_test_report *r = pt_test_report_of(pt);

	/* The table is unlinked already: the walk finds a hole there. */
	KUNIT_EXPECT_EQ(kunit_get_current_test(), pt->ops->iova_to_phys(pt, iova),
			0);
	r->unlinked++;
	r->unlinked_iova = iova;
	r->unlinked_size = size;
}

/*
 * A driver that takes unmapped leaves and unlinked tables itself (the
 * io-pgtable glue): each run of leaves is reported with the caller's gather,
 * whose range stays the driver's; an emptied table is reported once
 * unlinked and freed by the library after RCU, with or without a gather.
 */
static void pt_test_report_unmap(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_test_report *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	unsigned long span = 1UL << pt_fmt_va_lg2(&pt_t->table, 1);
	struct iommu_iotlb_gather gather;
	unsigned int tables;
	size_t mapped;
	int pass;

	KUNIT_ASSERT_NOT_NULL(test, r);
	r->ops.leaves_unmapped = pt_test_leaves_unmapped;
	r->ops.table_unlinked = pt_test_table_unlinked;
	pt->driver_ops = &r->ops;
	/* one table unlinked at a time: pt_test_reclaim frees the rest */
	pt->flags |= PT_FLAG_KEEP_TABLES;

	/*
	 * Three smallest leaves in one table (at each, the IOVA or the
	 * address is aligned to nothing larger): one run; the gather is left
	 * alone.
	 */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 9 * min, 0x100000, 3 * min,
					  IOMMU_READ, &mapped), 0);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt_test_unmap(pt_t, 9 * min, 3 * min, &gather),
			3 * min);
	KUNIT_EXPECT_EQ(test, r->leaf_calls, 1);
	KUNIT_EXPECT_EQ(test, r->leaf_iova, 9 * min);
	KUNIT_EXPECT_EQ(test, r->leaf_lg2, __ffs(min));
	KUNIT_EXPECT_EQ(test, r->leaf_count, 3);
	KUNIT_EXPECT_PTR_EQ(test, r->leaf_gather, &gather);
	KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);
	KUNIT_EXPECT_EQ(test, gather.end, 0);
	KUNIT_EXPECT_EQ(test, r->unlinked, 0);

	/* One leaf, the fast path: reported too. */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 8 * min, 0x100000, min,
					  IOMMU_READ, &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap(pt_t, 8 * min, min, NULL), min);
	KUNIT_EXPECT_EQ(test, r->leaf_calls, 2);
	KUNIT_EXPECT_EQ(test, r->leaf_iova, 8 * min);
	KUNIT_EXPECT_EQ(test, r->leaf_count, 1);
	KUNIT_EXPECT_PTR_EQ(test, r->leaf_gather, NULL);

	/* A whole table of small leaves, with a gather and without. */
	for (pass = 0; pass < 2; pass++) {
		r->leaf_calls = 0;
		r->unlinked = 0;
		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, span, min, span,
						  IOMMU_READ, &mapped), 0);
		tables = pt_test_count(pt_t).tables;
		iommu_iotlb_gather_init(&gather);
		KUNIT_EXPECT_EQ(test, pt_test_unmap(pt_t, span, span,
						    pass ? NULL : &gather),
				span);
		KUNIT_EXPECT_EQ(test, r->leaf_calls, 1);
		KUNIT_EXPECT_EQ(test, r->leaf_iova, span);
		KUNIT_EXPECT_EQ(test, r->leaf_count, span / min);
		KUNIT_EXPECT_EQ(test, r->unlinked, 1);
		KUNIT_EXPECT_EQ(test, r->unlinked_iova, span);
		KUNIT_EXPECT_EQ(test, r->unlinked_size, span);
		if (!pass)
			KUNIT_EXPECT_TRUE(test,
					  iommu_pages_list_empty(&gather.freelist));
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, tables - 1);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	}

	/* Tables taken, leaves not: the gather still gets the range. */
	r->ops.leaves_unmapped = NULL;
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 8 * min, 0x100000, min,
					  IOMMU_READ, &mapped), 0);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt_test_unmap(pt_t, 8 * min, min, &gather), min);
	KUNIT_EXPECT_EQ(test, gather.start, 8 * min);
	KUNIT_EXPECT_EQ(test, gather.end, 9 * min - 1);
	pt_t->pt->driver_ops = NULL;
	/*
	 * The library's RCU frees land before the count, none leaked: a
	 * fragment's callback queues the page's own, so two barriers.
	 */
	rcu_barrier();
	rcu_barrier();
	pt_test_finish(test, pt_t);
}

#ifdef PT_FMT_SPLIT
static u64 *pt_test_split_ptep;
static bool pt_test_split_cleaned;

/*
 * pt_table_alloc() for a split, as if read_and_clear_dirty() ran between
 * the split's read of the leaf and its cmpxchg.
 */
static void *pt_test_alloc_clean(struct pt_iommu *pt, size_t size, gfp_t gfp)
{
	kunit_deactivate_static_stub(kunit_get_current_test(), pt_table_alloc);
	pt_fmt_leaf_clear_dirty(pt_from_iommu(pt), pt_test_split_ptep);
	pt_test_split_cleaned = true;
	return pt_table_alloc(pt, size, gfp);
}

/*
 * PT_FLAG_SPLIT: unmapping part of the largest leaf splits it (down as many
 * levels as needed) and takes only that part, at the leaf's start (the
 * one-leaf path) as well as inside it; the rest keeps its translation and
 * attributes. Without the flag the same unmaps take the whole leaf, or
 * nothing. A leaf whose dirty state is cleared while it is being split is
 * split as it is then.
 */
static void pt_test_split(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	struct PT_TABLE *t = &pt_t->table;
	u64 min = pt_test_min_size(pt);
	u64 big = 1ULL << __fls(pt->pgsize_bitmap & GENMASK_ULL(30, 0));
	u64 pa = big * 2, *ptep, attrs;
	unsigned long iova = big;
	unsigned int level = 0;
	size_t mapped;
	int ret;

	if (big == min || pa + big > BIT_ULL(pt->oa_lg2) ||
	    iova + big - 1 > pt_test_last_iova(pt)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "no large leaf to split");
	}
	while (pt_fmt_va_lg2(t, level) != __ffs(big))
		level++;
	/* Without the flag: unmapped whole from its start, not from inside. */
	KUNIT_ASSERT_EQ(test, pt->ops->map_pages(pt, iova, pa, big, 1,
						 IOMMU_READ | IOMMU_WRITE,
						 GFP_KERNEL, &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova + min, min), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova, min), big);

	pt->flags |= PT_FLAG_SPLIT;
	KUNIT_ASSERT_EQ(test, pt->ops->map_pages(pt, iova, pa, big, 1,
						 IOMMU_READ | IOMMU_WRITE,
						 GFP_KERNEL, &mapped), 0);
	ptep = pt_test_leaf_ptep(pt_t, iova);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	ret = pt_fmt_attrs(t, IOMMU_READ | IOMMU_WRITE, &attrs);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, pt_fmt_leaf_attrs(t, level, *ptep), attrs);

	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova, min), min);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova + 2 * min, min),
			min);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + min + 42),
			pa + min + 42);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + 2 * min), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + 3 * min),
			pa + 3 * min);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + big / 2 + 7),
			pa + big / 2 + 7);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + big - 1),
			pa + big - 1);
	/* Every piece a smallest leaf, attributes kept. */
	ptep = pt_test_leaf_ptep(pt_t, iova + min);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_EXPECT_EQ(test, pt_fmt_leaf_attrs(t, 0, *ptep), attrs);
	/* Split to level 0 from level 1 or 2: one hole, then two. */
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves,
			(big >> pt_fmt_va_lg2(t, 1)) - 1 +
			(1U << pt_fmt_items_lg2(t, 0, false)) - 2);
	/* The rest goes piece by piece, then a whole leaf goes back. */
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova + min, min), min);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova + 3 * min,
						 big - 3 * min),
			big - 3 * min);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	KUNIT_EXPECT_EQ(test, pt->ops->map_pages(pt, iova, pa, big, 1,
						 IOMMU_READ, GFP_KERNEL,
						 &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + min), pa + min);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova, big), big);

	/*
	 * The dirty state of a dirty leaf is cleared after the split read it:
	 * the leaf is split as it is now, write-protected, and the unmap goes
	 * on.
	 */
	if (pt->ops->read_and_clear_dirty && pt_test_dirty_ok(pt_t)) {
		KUNIT_ASSERT_EQ(test, pt->ops->map_pages(pt, iova, pa, big, 1,
							 IOMMU_READ |
							 IOMMU_WRITE,
							 GFP_KERNEL, &mapped),
				0);
		pt_test_make_dirty(pt_t, iova);
		pt_test_split_ptep = pt_test_leaf_ptep(pt_t, iova);
		KUNIT_ASSERT_NOT_NULL(test, pt_test_split_ptep);
		KUNIT_ASSERT_TRUE(test, pt_fmt_leaf_dirty(t, *pt_test_split_ptep));
		pt_test_split_cleaned = false;
		kunit_activate_static_stub(test, pt_table_alloc,
					   pt_test_alloc_clean);
		KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova + min, min),
				min);
		/* The stub takes itself out when it runs. */
		KUNIT_EXPECT_TRUE(test, pt_test_split_cleaned);
		ptep = pt_test_leaf_ptep(pt_t, iova);
		KUNIT_ASSERT_NOT_NULL(test, ptep);
		KUNIT_EXPECT_FALSE(test, pt_fmt_leaf_dirty(t, *ptep));
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova), pa);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, iova + min), 0);
		KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova, min), min);
		KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova + 2 * min,
							 big - 2 * min),
				big - 2 * min);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 0);
	}
	pt_test_finish(test, pt_t);
}
#else
static void pt_test_split(struct kunit *test)
{
	kunit_skip(test, "the format cannot split leaves");
}
#endif

#ifdef PT_FMT_SYNCED
static unsigned long pt_test_clear_synced(struct PT_TABLE *t, u64 *table,
					  unsigned int level,
					  unsigned int top_level)
{
	unsigned int i, n = 1U << PT_FN(items_lg2)(t, level, top_level);
	unsigned long cleared = 0;

	for (i = 0; level && i < n; i++) {
		u64 pte = READ_ONCE(table[i]);

		if (!pte || !pt_fmt_is_table(t, level, pte))
			continue;
		WRITE_ONCE(table[i], pte & ~PT_FMT_SYNCED);
		cleared++;
		cleared += pt_test_clear_synced(t, PT_FN(table_va)(t, pte),
						level - 1, top_level);
	}
	return cleared;
}

static u64 *pt_test_race_ptep;
static unsigned int pt_test_race_level;
static bool pt_test_race_lost;

/*
 * pt_table_alloc() as if another thread had won the race to install the
 * table: its entry is in place, not yet cleaned, when the cmpxchg runs.
 */
static void *pt_test_alloc_lose(struct pt_iommu *pt, size_t size, gfp_t gfp)
{
	struct kunit *test = kunit_get_current_test();
	struct PT_TABLE *t = pt_from_iommu(pt);
	u64 *winner;

	kunit_deactivate_static_stub(test, pt_table_alloc);
	pt_test_race_lost = true;
	winner = pt_table_alloc(pt, size, gfp);
	if (!winner)
		return NULL;
	WRITE_ONCE(*pt_test_race_ptep,
		   pt_fmt_table_entry(t, pt_test_race_level,
				      virt_to_phys(winner)));
	/* the winner counts its entry, as new_table() does */
	if (PT_FN(live)(t, pt_top_table(READ_ONCE(pt->top)),
			pt_test_race_level, pt_test_race_level))
		atomic_inc(PT_FN(live)(t, pt_top_table(READ_ONCE(pt->top)),
				       pt_test_race_level,
				       pt_test_race_level));
	return pt_table_alloc(pt, size, gfp);
}
#endif

/*
 * Incoherent walkers: a map that goes through a table entry someone else
 * installed and has not cleaned yet (it found it, or lost the race to
 * install its own) cleans it before going on, and marks it.
 */
#ifdef PT_FMT_SYNCED
static void pt_test_sync_entries(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 min = pt_test_min_size(pt);
	struct PT_TABLE *t = &pt_t->table;
	unsigned long top = READ_ONCE(pt->top);
	unsigned int top_level = pt_top_level(top);
	size_t mapped;

	if (!(pt->flags & PT_FLAG_INCOHERENT) || !top_level) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "coherent walker");
	}
	/* Found in place. */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 0, 0x100000, min, IOMMU_READ,
					  &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).unsynced, 0);
	KUNIT_EXPECT_EQ(test, pt_test_clear_synced(t, pt_top_table(top),
						   top_level, top_level),
			top_level);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, min, 0x100000, min, IOMMU_READ,
					  &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).unsynced, 0);
	pt_test_clear_synced(t, pt_top_table(top), top_level, top_level);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 4 * min, 0x100000, 2 * min,
					  IOMMU_READ, &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).unsynced, 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, 0, 8 * min), 2 * min);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, 4 * min, 2 * min),
			2 * min);

	/* Lost the race: the top entry of the last IOVA is installed under it. */
	pt_test_race_level = top_level;
	pt_test_race_ptep = &pt_top_table(top)[PT_FN(index)(t,
				pt_test_last_iova(pt), top_level, top_level)];
	KUNIT_ASSERT_EQ(test, READ_ONCE(*pt_test_race_ptep), 0);
	pt_test_race_lost = false;
	kunit_activate_static_stub(test, pt_table_alloc, pt_test_alloc_lose);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, pt_test_last_iova(pt) + 1 - min,
					  0x100000, min, IOMMU_READ, &mapped),
			0);
	/* The stub ran (and took itself out). */
	KUNIT_ASSERT_TRUE(test, pt_test_race_lost);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(*pt_test_race_ptep) & PT_FMT_SYNCED);
	KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).unsynced, 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, pt_test_last_iova(pt)),
			0x100000 + min - 1);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t,
						 pt_test_last_iova(pt) + 1 - min,
						 min), min);
	pt_test_finish(test, pt_t);
}
#else
static void pt_test_sync_entries(struct kunit *test)
{
	kunit_skip(test, "no software bit: entries are cleaned every time");
}
#endif

/*
 * The leaves a map of [@iova, @iova + @len) is made of: at each step the
 * largest size the format has that alignment and length allow.
 */
static void pt_test_want_leaves(u64 sizes, unsigned long iova, size_t len,
				u64 *want)
{
	while (len) {
		unsigned int lim = min(pt_align_lg2(iova), __fls(len));
		unsigned int lg2 = __fls(sizes & GENMASK_ULL(lim, 0));

		want[lg2]++;
		iova += 1UL << lg2;
		len -= 1UL << lg2;
	}
}

/*
 * One leaf of every size up to 1G, each aligned to its size, then a run of
 * three of the smallest (which a format with sizes between its levels maps
 * with a larger leaf where alignment allows): the walk counts each leaf
 * once (AMD v1 replicas too), maps their sum, and finds the tables
 * pt_test_count() finds, whose memory is what NR_IOMMU_PAGES grew by.
 */
static void pt_test_stats(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	struct pt_iommu_stats *st = kunit_kzalloc(test, sizeof(*st),
						  GFP_KERNEL);
	u64 min = pt_test_min_size(pt), want_leaves[64] = {};
	u64 sizes = pt->pgsize_bitmap & GENMASK_ULL(30, 0);
	u64 want_mapped = 0, tables = 0, bytes = 0;
	unsigned long iova = SZ_1G;
	unsigned int lg2, level, top_level;
	size_t mapped;

	KUNIT_ASSERT_NOT_NULL(test, st);
	for (lg2 = 30; lg2 >= ilog2(min); lg2--) {
		if (!(sizes & BIT_ULL(lg2)))
			continue;
		iova = ALIGN(iova, 1UL << lg2);
		KUNIT_ASSERT_EQ_MSG(test, pt->ops->map_pages(pt, iova, iova,
							     1UL << lg2, 1,
							     IOMMU_READ,
							     GFP_KERNEL,
							     &mapped),
				    0, "size 2^%u", lg2);
		want_leaves[lg2]++;
		want_mapped += 1UL << lg2;
		iova += 1UL << lg2;
	}
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, iova, iova, 3 * min,
					  IOMMU_READ, &mapped), 0);
	pt_test_want_leaves(pt->pgsize_bitmap, iova, 3 * min, want_leaves);
	want_mapped += 3 * min;

	/*
	 * after the maps: an AMD v1 top grows, and the old tops, empty, are
	 * freed after a grace period (a fragment's callback queues its
	 * page's own, so two barriers)
	 */
	rcu_barrier();
	rcu_barrier();
	top_level = pt_iommu_top_level(pt);
	pt->ops->stats(pt, st);
	KUNIT_EXPECT_EQ(test, st->levels, top_level + 1);
	KUNIT_EXPECT_EQ(test, st->tables[top_level], 1);
	KUNIT_EXPECT_EQ(test, st->mapped, want_mapped);
	for (lg2 = 0; lg2 < 64; lg2++)
		KUNIT_EXPECT_EQ_MSG(test, st->leaves[lg2], want_leaves[lg2],
				    "leaves of 2^%u", lg2);
	for (level = 0; level < PT_STATS_LEVELS; level++) {
		tables += st->tables[level];
		bytes += st->table_bytes[level];
		if (level > top_level)
			KUNIT_EXPECT_EQ(test, st->tables[level], 0);
	}
	KUNIT_EXPECT_EQ(test, tables, pt_test_count(pt_t).tables + 1);
	KUNIT_EXPECT_EQ(test, bytes,
			(st->whole_pages << PAGE_SHIFT) + st->frag_bytes);
	/* fragments share pages with others: only whole tables add up */
	if (!st->frag_bytes)
		KUNIT_EXPECT_EQ(test, st->whole_pages,
				pt_test_nr_pages() - pt_t->nr_pages);
	else
		KUNIT_EXPECT_LE(test, st->whole_pages,
				pt_test_nr_pages() - pt_t->nr_pages);

	/* unmapped again: only the tables stay, and the top */
	memset(st, 0, sizeof(*st));
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, SZ_1G, iova + 3 * min -
						 SZ_1G),
			iova + 3 * min - SZ_1G);
	pt->ops->stats(pt, st);
	KUNIT_EXPECT_EQ(test, st->mapped, 0);
	for (lg2 = 0; lg2 < 64; lg2++)
		KUNIT_EXPECT_EQ(test, st->leaves[lg2], 0);
	KUNIT_EXPECT_GE(test, st->tables[top_level], 1);
	pt_test_finish(test, pt_t);
}

#ifdef CONFIG_IOMMU_DEBUGFS
/*
 * The debugfs report into a buffer; the line after this table's header (its
 * summary) into @summary, or "" if the table is not in the report.
 */
static void pt_test_report_line(struct kunit *test, struct pt_iommu *pt,
				char *summary, size_t len)
{
	struct seq_file m = { .size = SZ_64K };
	char head[64], *p, *end;

	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	KUNIT_ASSERT_EQ(test, pt_debug_show(&m, NULL), 0);
	KUNIT_ASSERT_LT_MSG(test, m.count, m.size, "report overflowed");
	m.buf[m.count] = 0;
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, "\nall domains "));
	summary[0] = 0;
	snprintf(head, sizeof(head), "domain %u iommu ", pt->debug_id);
	p = strstr(m.buf, head);
	if (p != m.buf && (!p || p[-1] != '\n'))
		p = NULL;
	if (!p)
		return;
	/* the header, the levels, the leaves, then the summary */
	p = strstr(p, "\n  whole_pages ");
	KUNIT_ASSERT_NOT_NULL(test, p);
	end = strchr(p + 1, '\n');
	KUNIT_ASSERT_NOT_NULL(test, end);
	*end = 0;
	strscpy(summary, p + 3, len);
}

/*
 * The report lists a table from init to deinit, under its format's name,
 * with what a walk finds.
 */
static void pt_test_debugfs_report(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	struct pt_iommu_stats *st = kunit_kzalloc(test, sizeof(*st),
						  GFP_KERNEL);
	u64 min = pt_test_min_size(pt), bytes;
	char got[160], want[160];
	size_t mapped;

	KUNIT_ASSERT_NOT_NULL(test, st);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, SZ_2M, SZ_2M, 5 * min,
					  IOMMU_READ, &mapped), 0);
	pt->ops->stats(pt, st);
	bytes = (st->whole_pages << PAGE_SHIFT) + st->frag_bytes;
	snprintf(want, sizeof(want),
		 "whole_pages %llu frag_bytes %llu table_bytes %llu mapped %llu table/mapped %llu.%02llu%%",
		 st->whole_pages, st->frag_bytes, bytes, 5 * min,
		 div64_u64(bytes * 10000, 5 * min) / 100,
		 div64_u64(bytes * 10000, 5 * min) % 100);
	pt_test_report_line(test, pt, got, sizeof(got));
	KUNIT_EXPECT_STREQ(test, got, want);
	KUNIT_EXPECT_STREQ(test, pt->ops->name, __stringify(PT_FMT));

	pt_test_finish(test, pt_t);
	pt_test_report_line(test, pt, got, sizeof(got));
	KUNIT_EXPECT_STREQ_MSG(test, got, "", "reported after deinit");
}

/* A growing top needs no check here: kunit_get_current_test() is NULL. */
static void pt_test_churn_change_top(struct pt_iommu *pt, phys_addr_t top_pa,
				     unsigned int level)
{
}

static const struct pt_iommu_driver_ops pt_test_churn_ops = {
	.flush_walk = pt_test_flush_walk,
	.change_top = pt_test_churn_change_top,
};

struct pt_test_churn {
	struct kunit *test;
	const PT_CFG *cfg;
	unsigned int rounds;
	int err;
	struct completion done;
};

/*
 * Make, fill and free tables: leaves, a table a large leaf replaces (freed
 * after RCU), an unmap's emptied tables put after RCU, then deinit.
 */
static int pt_test_churn_thread(void *arg)
{
	struct pt_test_churn *c = arg;
	struct pt_test *pt_t = kzalloc(sizeof(*pt_t), GFP_KERNEL);
	unsigned int i;

	if (!pt_t) {
		c->err = -ENOMEM;
		goto out;
	}
	pt_t->cfg = c->cfg;
	pt_t->pt = &pt_t->table.iommu;
	for (i = 0; i < c->rounds && !c->err; i++) {
		struct pt_iommu *pt = pt_t->pt;
		u64 min, big;
		struct iommu_iotlb_gather gather;
		size_t mapped;

		memset(&pt_t->table, 0, sizeof(pt_t->table));
		pt->driver_ops = &pt_test_churn_ops;
		c->err = pt_test_init(&pt_t->table, c->cfg);
		if (c->err)
			break;
		/* the format's geometry is known once init has run */
		min = pt_test_min_size(pt);
		big = BIT_ULL(pt_fmt_va_lg2(&pt_t->table, 1));
		c->err = pt_test_map(pt_t, big, big, 4 * min, IOMMU_READ,
				     &mapped);
		iommu_iotlb_gather_init(&gather);
		if (pt_test_unmap(pt_t, big, 4 * min, &gather) != 4 * min)
			c->err = c->err ?: -EIO;
		iommu_put_pages_list_rcu(&gather.freelist);
		/* a leaf over the emptied table, where the format has one */
		if (!c->err && (pt->pgsize_bitmap & big))
			c->err = pt->ops->map_pages(pt, big, big, big, 1,
						    IOMMU_READ, GFP_KERNEL,
						    &mapped);
		if (!c->err && (pt->pgsize_bitmap & big) &&
		    pt_test_unmap_free(pt_t, big, big) != big)
			c->err = -EFAULT;
		pt->ops->deinit(pt);
	}
	kfree(pt_t);
out:
	complete(&c->done);
	return 0;
}

/*
 * Two threads make and free tables while this one reads the report: under
 * KASAN, a walk that reached a freed table or a freed domain is a report
 * (and a failed test).
 */
static void pt_test_debugfs_churn(struct kunit *test)
{
	struct seq_file m = { .size = SZ_64K };
	const PT_CFG *cfg = test->param_value;
	unsigned int i, reads = 0;
	struct pt_test_churn *c;
	struct task_struct *task;
	int ret = 0;

	/* the threads' tables have no device for the DMA API */
	if (!IS_ENABLED(CONFIG_X86) && (cfg->flags & PT_FLAG_INCOHERENT))
		kunit_skip(test, "incoherent tables need a device here");
	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	c = kunit_kcalloc(test, 2, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	KUNIT_ASSERT_NOT_NULL(test, c);
	/* no assert from here until both threads are done with @c */
	for (i = 0; i < 2; i++) {
		c[i] = (struct pt_test_churn){ test, cfg, 100 };
		init_completion(&c[i].done);
		task = kthread_run(pt_test_churn_thread, &c[i], "pt-churn%u",
				   i);
		if (IS_ERR(task)) {
			c[i].err = PTR_ERR(task);
			complete(&c[i].done);
		}
	}
	while (!ret && (!completion_done(&c[0].done) ||
			!completion_done(&c[1].done))) {
		m.count = 0;
		ret = pt_debug_show(&m, NULL);
		reads++;
	}
	for (i = 0; i < 2; i++) {
		wait_for_completion(&c[i].done);
		KUNIT_EXPECT_EQ(test, c[i].err, 0);
	}
	KUNIT_EXPECT_EQ(test, ret, 0);
	kunit_info(test, "%u reads of the report during the churn\n", reads);
	rcu_barrier();
	rcu_barrier();
}
#else
static void pt_test_debugfs_report(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_IOMMU_DEBUGFS");
}

static void pt_test_debugfs_churn(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_IOMMU_DEBUGFS");
}
#endif

/* The generic cases; the format file makes them a suite. */
static struct kunit_case pt_test_generic_cases[] = {
	KUNIT_CASE_PARAM(pt_test_round_trip, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_every_size, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_batch, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_pgsize_hint, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_ends, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_overlap, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_unmap_hole, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_free_tables, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_bad_input, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_dirty, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_random, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_reclaim, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_reclaim_storm, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_concurrent, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_dirty_race, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_report_unmap, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_split, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_sync_entries, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_stats, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_debugfs_report, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_debugfs_churn, pt_test_cfg_gen_params),
	{}
};
