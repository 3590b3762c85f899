// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the generic page table, ARM VMSAv8 LPAE format, and a
 * differential test against io-pgtable-arm.
 */
#include <linux/io-pgtable.h>
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/sizes.h>

#include "armv8.h"

struct pt_test_armv8 {
	struct pt_iommu_armv8_cfg cfg;
	unsigned int flags;
};

#define PT_CFG	struct pt_test_armv8

static const struct pt_test_armv8 pt_test_cfgs[] = {
	{ { .granule_lg2 = 12, .ias = 48, .oas = 48 } },
	{ { .granule_lg2 = 12, .ias = 39, .oas = 40, .ns = true } },
	{ { .granule_lg2 = 12, .ias = 48, .oas = 48 }, PT_FLAG_DIRTY },
	{ { .granule_lg2 = 12, .ias = 48, .oas = 48 }, PT_FLAG_INCOHERENT },
	{ { .granule_lg2 = 12, .ias = 40, .oas = 44, .stage2 = true } },
	{ { .granule_lg2 = 14, .ias = 47, .oas = 48 } },
	{ { .granule_lg2 = 14, .ias = 40, .oas = 40, .stage2 = true } },
	{ { .granule_lg2 = 16, .ias = 48, .oas = 48 } },
	{ { .granule_lg2 = 16, .ias = 52, .oas = 52 } },
	{ { .granule_lg2 = 16, .ias = 42, .oas = 48, .stage2 = true } },
};

static void pt_test_cfg_name(const struct pt_test_armv8 *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%uK-s%u-ias%u-oas%u%s%s%s",
		 1U << (c->cfg.granule_lg2 - 10), c->cfg.stage2 ? 2 : 1,
		 c->cfg.ias, c->cfg.oas, c->cfg.ns ? "-ns" : "",
		 (c->flags & PT_FLAG_DIRTY) ? "-hd" : "",
		 (c->flags & PT_FLAG_INCOHERENT) ? "-incoherent" : "");
}

static int pt_test_init(struct pt_iommu_armv8 *t,
			const struct pt_test_armv8 *c)
{
	return pt_iommu_armv8_init(t, &c->cfg, c->flags, NUMA_NO_NODE,
				   GFP_KERNEL);
}

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
#define PT_TEST_DIFFERENTIAL
#endif
#include "../pt_kunit.h"
#include "../pt_old.h"

static bool pt_test_priv_ok(struct pt_test *pt_t)
{
	return !pt_t->cfg->cfg.stage2;
}

static bool pt_test_dirty_ok(struct pt_test *pt_t)
{
	return pt_t->cfg->flags & PT_FLAG_DIRTY;
}

/* What an SMMU with HTTU does on a write to a DBM page: clear AP[2]. */
static void pt_test_make_dirty(struct pt_test *pt_t, unsigned long iova)
{
	u64 *ptep = pt_test_leaf_ptep(pt_t, iova);

	KUNIT_ASSERT_NOT_NULL(kunit_get_current_test(), ptep);
	KUNIT_EXPECT_TRUE(kunit_get_current_test(), *ptep & ARMV8_PTE_DBM);
	*ptep &= ~ARMV8_PTE_AP_RDONLY;
}

/* Bad configurations are refused. */
static void pt_test_armv8_bad_cfg(struct kunit *test)
{
	static const struct pt_iommu_armv8_cfg bad[] = {
		{ .granule_lg2 = 13, .ias = 48, .oas = 48 },
		{ .granule_lg2 = 12, .ias = 49, .oas = 48 },
		{ .granule_lg2 = 12, .ias = 48, .oas = 52 },
		{ .granule_lg2 = 12, .ias = 12, .oas = 48 },
		{ .granule_lg2 = 12, .ias = 40, .oas = 40, .stage2 = true,
		  .ns = true },
	};
	unsigned long nr = pt_test_nr_pages();
	struct pt_iommu_armv8 t = {};
	struct pt_iommu_armv8_cfg s2 = {
		.granule_lg2 = 12, .ias = 40, .oas = 40, .stage2 = true };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ(test,
				pt_iommu_armv8_init(&t, &bad[i], 0, NUMA_NO_NODE,
						    GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			pt_iommu_armv8_init(&t, &s2, PT_FLAG_DIRTY, NUMA_NO_NODE,
					    GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			pt_iommu_armv8_init(&t, &s2, 0, NUMA_NO_NODE,
					    GFP_KERNEL | __GFP_HIGHMEM),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pt_test_nr_pages(), nr);
}

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
static u64 *pt_diff_armv8_top(struct pt_test_diff *d, unsigned int *level)
{
	struct io_pgtable_cfg *cfg = d->priv;

	*level = pt_iommu_top_level(d->pt_t->pt);
	return phys_to_virt(d->pt_t->cfg->cfg.stage2 ?
			    cfg->arm_lpae_s2_cfg.vttbr :
			    cfg->arm_lpae_s1_cfg.ttbr);
}

/* Against io-pgtable-arm, which frees tables on unmap as we do. */
static void pt_test_armv8_differential(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	const struct pt_test_armv8 *c = pt_t->cfg;
	struct device *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);
	struct io_pgtable_cfg cfg = {
		.pgsize_bitmap = pt_t->pt->pgsize_bitmap,
		.ias = c->cfg.ias,
		.oas = c->cfg.oas,
		.coherent_walk = true,
		.tlb = pt_old_tlb_ops(),
		.quirks = (c->cfg.ns ? IO_PGTABLE_QUIRK_ARM_NS : 0) |
			  ((c->flags & PT_FLAG_DIRTY) ?
			   IO_PGTABLE_QUIRK_ARM_HD : 0),
	};
	struct pt_test_diff d = {
		.pt_t = pt_t,
		.top = pt_diff_armv8_top,
		.priv = &cfg,
		.gather = true,
		.prot = IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | IOMMU_NOEXEC |
			IOMMU_MMIO,
	};

	KUNIT_ASSERT_NOT_NULL(test, dev);
	set_dev_node(dev, NUMA_NO_NODE);
	cfg.iommu_dev = dev;
	d.ops = alloc_io_pgtable_ops(c->cfg.stage2 ? ARM_64_LPAE_S2 :
				     ARM_64_LPAE_S1, &cfg, pt_t);
	KUNIT_ASSERT_NOT_NULL(test, d.ops);
	KUNIT_ASSERT_EQ(test, cfg.pgsize_bitmap, pt_t->pt->pgsize_bitmap);
	pt_test_differential(test, &d);
	free_io_pgtable_ops(d.ops);
	pt_test_finish(test, pt_t);
}
#endif

static struct kunit_case pt_test_armv8_cases[] = {
	KUNIT_CASE(pt_test_armv8_bad_cfg),
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
	KUNIT_CASE_PARAM(pt_test_armv8_differential, pt_test_cfg_gen_params),
#endif
	{}
};

static struct kunit_suite pt_test_generic_suite = {
	.name = "generic-pt-armv8",
	.test_cases = pt_test_generic_cases,
};

static struct kunit_suite pt_test_armv8_suite = {
	.name = "generic-pt-armv8-format",
	.test_cases = pt_test_armv8_cases,
};

kunit_test_suites(&pt_test_generic_suite, &pt_test_armv8_suite);

MODULE_DESCRIPTION("KUnit tests of the generic page table, ARM LPAE format");
MODULE_LICENSE("GPL");
