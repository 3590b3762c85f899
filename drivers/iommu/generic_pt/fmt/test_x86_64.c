// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the generic page table, x86-64 format.
 */
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/sizes.h>

#include "x86_64.h"

struct pt_test_x86_64 {
	struct pt_iommu_x86_64_cfg cfg;
	unsigned int flags;
};

#define PT_CFG	struct pt_test_x86_64

static const struct pt_test_x86_64 pt_test_cfgs[] = {
	{ { .levels = 4, .large_lg2_mask = SZ_2M | SZ_1G } },
	{ { .levels = 5, .large_lg2_mask = SZ_2M } },
};

static void pt_test_cfg_name(const struct pt_test_x86_64 *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%ulevel%s%s", c->cfg.levels,
		 (c->cfg.large_lg2_mask & SZ_2M) ? "-2M" : "",
		 (c->cfg.large_lg2_mask & SZ_1G) ? "-1G" : "");
}

static int pt_test_init(struct pt_iommu_x86_64 *t,
			const struct pt_test_x86_64 *c)
{
	return pt_iommu_x86_64_init(t, &c->cfg, c->flags, NUMA_NO_NODE,
				    GFP_KERNEL);
}

#include "../pt_kunit.h"

static bool pt_test_priv_moot(struct pt_test *pt_t)
{
	return false;
}

static bool pt_test_dirty_ok(struct pt_test *pt_t)
{
	return false;
}

static void pt_test_make_dirty(struct pt_test *pt_t, unsigned long iova)
{
}

/* Permission bits, and the upper half's index. */
static void pt_test_x86_64_bits(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	unsigned long upper = -(1UL << (pt->va_lg2 - 1));
	unsigned long top = READ_ONCE(pt->top);
	size_t mapped;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, SZ_4M, SZ_8M, SZ_4K,
					  IOMMU_READ | IOMMU_NOEXEC, &mapped), 0);
	KUNIT_EXPECT_EQ(test, *pt_test_leaf_ptep(pt_t, SZ_4M),
			SZ_8M | X86_64_PTE_P | X86_64_PTE_US | X86_64_PTE_A |
			X86_64_PTE_NX);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, upper, SZ_2M, SZ_2M,
					  IOMMU_WRITE | IOMMU_PRIV, &mapped), 0);
	KUNIT_EXPECT_EQ(test, *pt_test_leaf_ptep(pt_t, upper),
			SZ_2M | X86_64_PTE_P | X86_64_PTE_A | X86_64_PTE_RW |
			X86_64_PTE_D | X86_64_PTE_PS);
	/* The lowest upper-half address is the top table's middle entry. */
	KUNIT_EXPECT_NE(test, pt_top_table(top)[256], 0);
	KUNIT_EXPECT_EQ(test, pt_top_table(top)[255], 0);
	pt_test_finish(test, pt_t);
}

static struct kunit_case pt_test_x86_64_cases[] = {
	KUNIT_CASE_PARAM(pt_test_x86_64_bits, pt_test_cfg_gen_params),
	{}
};

static struct kunit_suite pt_test_generic_suite = {
	.name = "generic-pt-x86_64",
	.test_cases = pt_test_generic_cases,
};

static struct kunit_suite pt_test_x86_64_suite = {
	.name = "generic-pt-x86_64-format",
	.test_cases = pt_test_x86_64_cases,
};

kunit_test_suites(&pt_test_generic_suite, &pt_test_x86_64_suite);

MODULE_DESCRIPTION("KUnit tests of the generic page table, x86-64 format");
MODULE_LICENSE("GPL");
