// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the Intel IOMMU driver's attach checks, on an IOMMU and
 * a device made up for the test: nothing here touches hardware.
 */
#include <kunit/device.h>
#include <kunit/test.h>

#include "iommu.h"

/* A top table with nothing mapped: the checks may only read it. */
static struct dma_pte test_pgd[VTD_PAGE_SIZE / sizeof(struct dma_pte)]
	__aligned(VTD_PAGE_SIZE);

struct attach_test {
	struct intel_iommu iommu;
	struct device_domain_info info;
	struct dmar_domain domain;
	struct dev_iommu param;
	struct device *dev;
};

static void attach_test_release(void *arg)
{
	struct attach_test *at = arg;

	at->dev->iommu = NULL;
	xa_destroy(&at->domain.iommu_array);
}

/*
 * A device of an IOMMU with @iommu_agaw, and a domain with @domain_agaw
 * that no IOMMU uses yet.
 */
static struct attach_test *attach_test_setup(struct kunit *test,
					     int iommu_agaw, int domain_agaw)
{
	struct attach_test *at = kunit_kzalloc(test, sizeof(*at), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, at);
	at->dev = kunit_device_register(test, "vtd-attach-test");
	KUNIT_ASSERT_FALSE(test, IS_ERR(at->dev));
	/* MGAW as wide as the AGAW: the AGAW alone sets the width. */
	at->iommu.agaw = iommu_agaw;
	at->iommu.cap = (u64)(agaw_to_width(iommu_agaw) - 1) << 16;
	at->info.iommu = &at->iommu;
	at->param.priv = &at->info;
	at->dev->iommu = &at->param;
	xa_init(&at->domain.iommu_array);
	at->domain.agaw = domain_agaw;
	at->domain.gaw = agaw_to_width(domain_agaw);
	at->domain.pgd = test_pgd;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							attach_test_release,
							at), 0);
	return at;
}

/* A domain no IOMMU uses yet loses the levels this IOMMU lacks. */
static void attach_fresh_domain(struct kunit *test)
{
	struct attach_test *at = attach_test_setup(test, 1, 3);

	KUNIT_EXPECT_EQ(test, prepare_domain_attach_device(&at->domain.domain,
							   at->dev), 0);
	KUNIT_EXPECT_EQ(test, at->domain.agaw, 1);
	KUNIT_EXPECT_EQ(test, at->domain.gaw, 39);
	KUNIT_EXPECT_PTR_EQ(test, at->domain.pgd, &test_pgd[0]);
}

/*
 * A domain another IOMMU walks keeps its levels: the attach is refused
 * and nothing changes. A domain that fits this IOMMU is taken.
 */
static void attach_used_domain(struct kunit *test)
{
	struct attach_test *at = attach_test_setup(test, 1, 2);
	struct iommu_domain_info other = { .refcnt = 1, .did = 1 };

	KUNIT_ASSERT_EQ(test, xa_err(xa_store(&at->domain.iommu_array, 7,
					      &other, GFP_KERNEL)), 0);
	KUNIT_EXPECT_EQ(test, prepare_domain_attach_device(&at->domain.domain,
							   at->dev), -EINVAL);
	KUNIT_EXPECT_EQ(test, at->domain.agaw, 2);
	KUNIT_EXPECT_EQ(test, at->domain.gaw, 48);
	KUNIT_EXPECT_PTR_EQ(test, at->domain.pgd, &test_pgd[0]);

	at->iommu.agaw = 2;
	at->iommu.cap = (u64)(agaw_to_width(2) - 1) << 16;
	KUNIT_EXPECT_EQ(test, prepare_domain_attach_device(&at->domain.domain,
							   at->dev), 0);
	KUNIT_EXPECT_EQ(test, at->domain.agaw, 2);
	KUNIT_EXPECT_PTR_EQ(test, at->domain.pgd, &test_pgd[0]);
}

static struct kunit_case intel_iommu_attach_cases[] = {
	KUNIT_CASE(attach_fresh_domain),
	KUNIT_CASE(attach_used_domain),
	{}
};

static struct kunit_suite intel_iommu_attach_suite = {
	.name = "intel-iommu-attach",
	.test_cases = intel_iommu_attach_cases,
};

kunit_test_suite(intel_iommu_attach_suite);
