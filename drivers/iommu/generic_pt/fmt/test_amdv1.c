// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the generic page table, AMD IOMMU v1 format.
 */
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/sizes.h>

#include "amdv1.h"

struct pt_test_amdv1 {
	struct pt_iommu_amdv1_cfg cfg;
	unsigned int flags;
};

#define PT_CFG	struct pt_test_amdv1

static const struct pt_test_amdv1 pt_test_cfgs[] = {
	{ { .va_lg2 = 52, .start_level = 2 } },
	{ { .va_lg2 = 64, .start_level = 0 } },
};

static void pt_test_cfg_name(const struct pt_test_amdv1 *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "va%u-start%u", c->cfg.va_lg2,
		 c->cfg.start_level);
}

static int pt_test_init(struct pt_iommu_amdv1 *t,
			const struct pt_test_amdv1 *c)
{
	return pt_iommu_amdv1_init(t, &c->cfg, c->flags, NUMA_NO_NODE,
				   GFP_KERNEL);
}

#if IS_ENABLED(CONFIG_AMD_IOMMU)
#define PT_TEST_DIFFERENTIAL
#endif
#include "../pt_kunit.h"
#include "../pt_old.h"

static bool pt_test_priv_moot(struct pt_test *pt_t)
{
	return true;
}

static bool pt_test_dirty_ok(struct pt_test *pt_t)
{
	return true;
}

/* What the IOMMU does on a write: set HD in the entry it wrote through. */
static void pt_test_make_dirty(struct pt_test *pt_t, unsigned long iova)
{
	u64 *ptep = pt_test_leaf_ptep(pt_t, iova);

	KUNIT_ASSERT_NOT_NULL(kunit_get_current_test(), ptep);
	*ptep |= AMDV1_PTE_HD;
}

/*
 * The top grows, through the driver's change_top, as far as a mapping
 * needs and no further; mappings made before stay.
 */
static void pt_test_amdv1_grow(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	unsigned int start = pt_t->cfg->cfg.start_level;
	size_t mapped;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 0, SZ_1M, SZ_4K, IOMMU_READ,
					  &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), start);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 1UL << 40, SZ_2M, SZ_4K,
					  IOMMU_READ, &mapped), 0);
	/* Level 3 spans 2^48: the smallest top that reaches 2^40. */
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), 3);
	KUNIT_EXPECT_EQ(test, pt_t->top_changes, 3 - start);
	/* A 2^40 leaf needs a top at level 3 at least (it is one already). */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 1UL << 41, 1UL << 41,
					  1UL << 40, IOMMU_READ, &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), 3);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, 0x123), SZ_1M + 0x123);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, (1UL << 40) + 8),
			SZ_2M + 8);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, (1UL << 41) + SZ_1G),
			(1UL << 41) + SZ_1G);
	if (pt->va_lg2 == 64) {
		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, ULONG_MAX - SZ_4K + 1,
						  0, SZ_4K, IOMMU_READ,
						  &mapped), 0);
		KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), 5);
	}
	pt_test_finish(test, pt_t);
}

/*
 * A sized leaf is dirty when any replica is (the IOMMU sets HD only in the
 * one it wrote through): the whole leaf is recorded once, and every
 * replica is clean afterwards.
 */
static void pt_test_amdv1_dirty_replica(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty = { .gather = &gather };
	unsigned long iova = SZ_64K;
	size_t mapped;
	u64 *ptep;
	int i;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, iova, SZ_1M, SZ_16K,
					  IOMMU_READ | IOMMU_WRITE, &mapped), 0);
	ptep = pt_test_leaf_ptep(pt_t, iova);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_ASSERT_EQ(test, pt_fmt_leaf_lg2(&pt_t->table, 0, *ptep), 14);
	/* The third replica only. */
	ptep[2] |= AMDV1_PTE_HD;
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, SZ_1M, 0,
							    &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, iova);
	KUNIT_EXPECT_EQ(test, gather.end, iova + SZ_16K - 1);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_FALSE(test, ptep[i] & AMDV1_PTE_HD);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, SZ_1M, 0,
							    &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova, SZ_16K), SZ_16K);
	pt_test_finish(test, pt_t);
}

/*
 * The configured width allows IOVAs above what the top spans today: they
 * map nothing, and no walk may mask one into the top's index, where it
 * would alias a low IOVA. A dirty read that runs past the top's end stops
 * there.
 */
static void pt_test_amdv1_above_top(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty = { .gather = &gather };
	unsigned int level;
	unsigned long above;
	size_t mapped;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 0, SZ_1M, SZ_4K,
					  IOMMU_READ | IOMMU_WRITE, &mapped), 0);
	level = pt_iommu_top_level(pt);
	above = 1UL << PT_FN(span_lg2)(&pt_t->table, level, level);
	KUNIT_ASSERT_LT(test, above - 1, 1UL << (pt->va_lg2 - 1));
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, above), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, above + 0x123), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, above, SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, 0x123), SZ_1M + 0x123);

	pt_test_make_dirty(pt_t, 0);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, above, SZ_4K,
							    0, &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);
	/* From IOVA 0 to past the top's end: IOVA 0's leaf only. */
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, 2 * above,
							    0, &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, 0);
	KUNIT_EXPECT_EQ(test, gather.end, SZ_4K - 1);
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), level);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, 0, SZ_4K), SZ_4K);
	pt_test_finish(test, pt_t);
}

#define PT_GROW_RACE_RUNS	100

struct pt_test_grow_racer {
	struct pt_iommu *pt;
	struct completion *go;
	struct completion done;
	unsigned long iova;
	size_t size;
	bool wait;		/* map once the top is above @level */
	unsigned int level;
	int ret;
};

static int pt_test_grow_racer(void *arg)
{
	struct pt_test_grow_racer *r = arg;
	unsigned long until = jiffies + HZ;
	size_t mapped = 0;

	wait_for_completion(r->go);
	while (r->wait && pt_iommu_top_level(r->pt) <= r->level &&
	       time_before(jiffies, until))
		cpu_relax();
	r->ret = r->pt->ops->map_pages(r->pt, r->iova, r->iova, r->size, 1,
				       IOMMU_READ | IOMMU_WRITE, GFP_KERNEL,
				       &mapped);
	if (!r->ret && mapped != r->size)
		r->ret = -EIO;
	complete(&r->done);
	return 0;
}

/*
 * A map that grows the top frees the old top if it is empty, while another
 * thread, which saw the new top, maps one leaf over the old top's whole
 * span at IOVA 0 and so replaces the old top too: exactly one of them may
 * unlink it, and both maps succeed. Run many times on a new table each.
 */
static void pt_test_amdv1_grow_race(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	struct pt_test_grow_racer r[2];
	struct completion go;
	unsigned int i, k, level, span;

	level = pt_iommu_top_level(pt);
	span = PT_FN(span_lg2)(&pt_t->table, level, level);
	if (!(pt->pgsize_bitmap & (1UL << span))) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "no leaf of the top's span");
	}
	if (!pt_test_reclaims(pt_t)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "tables are fragments: none freed when empty");
	}
	for (i = 0; i < PT_GROW_RACE_RUNS; i++) {
		if (i) {
			pt->ops->deinit(pt);
			KUNIT_ASSERT_EQ(test, pt_test_init(&pt_t->table,
							   pt_t->cfg), 0);
		}
		pt->driver_ops = &pt_test_unlink_ops;
		level = pt_iommu_top_level(pt);
		span = PT_FN(span_lg2)(&pt_t->table, level, level);
		init_completion(&go);
		/* [1] grows the top; [0] maps the old top's span once it has */
		r[0] = (struct pt_test_grow_racer){ .pt = pt, .go = &go,
			.iova = 0, .size = 1UL << span, .wait = true,
			.level = level };
		r[1] = (struct pt_test_grow_racer){ .pt = pt, .go = &go,
			.iova = 1UL << span, .size = SZ_4K };
		for (k = 0; k < 2; k++) {
			struct task_struct *task;

			init_completion(&r[k].done);
			task = kthread_run(pt_test_grow_racer, &r[k],
					   "pt-grow/%u", k);
			if (IS_ERR(task)) {
				r[k].ret = PTR_ERR(task);
				complete(&r[k].done);
			}
		}
		complete_all(&go);
		for (k = 0; k < 2; k++) {
			wait_for_completion(&r[k].done);
			KUNIT_EXPECT_EQ_MSG(test, r[k].ret, 0, "run %u map %u",
					    i, k);
		}
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, 0x123), 0x123);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, r[1].iova),
				r[1].iova);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 2);
		/* the old top is gone; [1]'s leaf has one table per level */
		KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), level + 1);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, level + 1);
		KUNIT_EXPECT_EQ(test, pt->ops->unmap_pages(pt, 0, 1UL << span,
							   1, NULL),
				1UL << span);
		KUNIT_EXPECT_EQ(test, pt->ops->unmap_pages(pt, r[1].iova,
							   SZ_4K, 1, NULL),
				SZ_4K);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, 0);
		if (test->status == KUNIT_FAILURE)
			break;
	}
	pt->driver_ops = NULL;
	pt_test_finish(test, pt_t);
}

#if IS_ENABLED(CONFIG_AMD_IOMMU)
static u64 *pt_diff_amdv1_top(struct pt_test_diff *d, unsigned int *level)
{
	struct protection_domain *pdom = d->priv;

	*level = pdom->iop.mode - 1;
	return pdom->iop.root;
}

/*
 * Against the 6.12 AMD v1 code (pt_old.h). It never frees tables on unmap,
 * so both unmap without a gather here.
 */
static void pt_test_amdv1_differential(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct protection_domain *pdom;
	struct pt_test_diff d = {
		.pt_t = pt_t,
		.top = pt_diff_amdv1_top,
		.prot = IOMMU_READ | IOMMU_WRITE,
	};

	if (pt_t->cfg->cfg.start_level != 2) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "6.12 starts with three levels");
	}
	d.ops = pt_old_amdv1_alloc(test, &pdom);
	KUNIT_ASSERT_NOT_NULL(test, d.ops);
	d.priv = pdom;
	KUNIT_ASSERT_EQ(test, pdom->iop.pgtbl.cfg.pgsize_bitmap,
			pt_t->pt->pgsize_bitmap);
	pt_test_differential(test, &d);
	free_io_pgtable_ops(d.ops);
	pt_test_finish(test, pt_t);
}
#endif

static struct kunit_case pt_test_amdv1_cases[] = {
	KUNIT_CASE_PARAM(pt_test_amdv1_grow, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_amdv1_dirty_replica, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_amdv1_above_top, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_amdv1_grow_race, pt_test_cfg_gen_params),
#if IS_ENABLED(CONFIG_AMD_IOMMU)
	KUNIT_CASE_PARAM(pt_test_amdv1_differential, pt_test_cfg_gen_params),
#endif
	{}
};

static struct kunit_suite pt_test_generic_suite = {
	.name = "generic-pt-amdv1",
	.test_cases = pt_test_generic_cases,
};

static struct kunit_suite pt_test_amdv1_suite = {
	.name = "generic-pt-amdv1-format",
	.test_cases = pt_test_amdv1_cases,
};

kunit_test_suites(&pt_test_generic_suite, &pt_test_amdv1_suite);

MODULE_DESCRIPTION("KUnit tests of the generic page table, AMD v1 format");
MODULE_LICENSE("GPL");
