// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the generic page table, Intel VT-d second-stage format.
 */
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/sizes.h>

#include "vtdss.h"

struct pt_test_vtdss {
	struct pt_iommu_vtdss_cfg cfg;
	unsigned int flags;
};

#define PT_CFG	struct pt_test_vtdss

static const struct pt_test_vtdss pt_test_cfgs[] = {
	{ { .levels = 3, .large_lg2_mask = SZ_2M | SZ_1G,
	    .force_snoop = true } },
	{ { .levels = 4, .large_lg2_mask = SZ_2M } },
	{ { .levels = 5 } },
	{ { .levels = 4, .large_lg2_mask = SZ_2M | SZ_1G },
	  PT_FLAG_INCOHERENT },
};

static void pt_test_cfg_name(const struct pt_test_vtdss *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%ulevel%s%s%s%s",
		 c->cfg.levels,
		 (c->cfg.large_lg2_mask & SZ_2M) ? "-2M" : "",
		 (c->cfg.large_lg2_mask & SZ_1G) ? "-1G" : "",
		 c->cfg.force_snoop ? "-snoop" : "",
		 (c->flags & PT_FLAG_INCOHERENT) ? "-incoherent" : "");
}

static int pt_test_init(struct pt_iommu_vtdss *t,
			const struct pt_test_vtdss *c)
{
	return pt_iommu_vtdss_init(t, &c->cfg, c->flags, NUMA_NO_NODE,
				   GFP_KERNEL);
}

#include "../pt_kunit.h"

static bool pt_test_priv_moot(struct pt_test *pt_t)
{
	return true;
}

static bool pt_test_dirty_ok(struct pt_test *pt_t)
{
	return true;
}

static void pt_test_make_dirty(struct pt_test *pt_t, unsigned long iova)
{
	u64 *ptep = pt_test_leaf_ptep(pt_t, iova);

	KUNIT_ASSERT_NOT_NULL(kunit_get_current_test(), ptep);
	*ptep |= VTDSS_PTE_DIRTY;
}

/* Leaves carry R/W, snoop and PS exactly as the 6.12 driver wrote them. */
static void pt_test_vtdss_bits(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	u64 snp = pt_t->cfg->cfg.force_snoop ? VTDSS_PTE_SNP : 0;
	size_t mapped;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, SZ_4M, SZ_8M, SZ_4K,
					  IOMMU_READ | IOMMU_CACHE, &mapped), 0);
	KUNIT_EXPECT_EQ(test, *pt_test_leaf_ptep(pt_t, SZ_4M),
			SZ_8M | VTDSS_PTE_R | snp);
	if (pt->pgsize_bitmap & SZ_2M) {
		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, SZ_2M, SZ_2M, SZ_2M,
						  IOMMU_WRITE, &mapped), 0);
		KUNIT_EXPECT_EQ(test, *pt_test_leaf_ptep(pt_t, SZ_2M),
				SZ_2M | VTDSS_PTE_W | VTDSS_PTE_PS | snp);
	}
	pt_test_finish(test, pt_t);
}

static struct kunit_case pt_test_vtdss_cases[] = {
	KUNIT_CASE_PARAM(pt_test_vtdss_bits, pt_test_cfg_gen_params),
	{}
};

static struct kunit_suite pt_test_generic_suite = {
	.name = "generic-pt-vtdss",
	.test_cases = pt_test_generic_cases,
};

static struct kunit_suite pt_test_vtdss_suite = {
	.name = "generic-pt-vtdss-format",
	.test_cases = pt_test_vtdss_cases,
};

kunit_test_suites(&pt_test_generic_suite, &pt_test_vtdss_suite);

MODULE_DESCRIPTION("KUnit tests of the generic page table, VT-d second stage");
MODULE_LICENSE("GPL");
