/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The 6.12 implementations of the formats, set up the way the differential
 * tests and the benchmark drive them: io-pgtable-arm with TLB callbacks
 * that do what arm-smmu-v3's do without hardware, and the AMD v1 io-pgtable
 * inside a protection domain with no device and no IOMMU attached (its
 * flushes then have nothing to do).
 */
#ifndef __GENERIC_PT_OLD_H
#define __GENERIC_PT_OLD_H

#include <kunit/test.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>

#if IS_ENABLED(CONFIG_AMD_IOMMU)
#include "../amd/amd_iommu_types.h"
#include "../amd/amd_iommu.h"
#endif

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
static inline void pt_old_tlb_flush_all(void *cookie)
{
}

static inline void pt_old_tlb_flush_walk(unsigned long iova, size_t size,
					 size_t granule, void *cookie)
{
}

/* arm-smmu-v3 per unmapped page, without an SMMU: extend the gather. */
static inline void pt_old_tlb_add_page(struct iommu_iotlb_gather *gather,
				       unsigned long iova, size_t granule,
				       void *cookie)
{
	iommu_iotlb_gather_add_range(gather, iova, granule);
}

static inline const struct iommu_flush_ops *pt_old_tlb_ops(void)
{
	static const struct iommu_flush_ops ops = {
		.tlb_flush_all = pt_old_tlb_flush_all,
		.tlb_flush_walk = pt_old_tlb_flush_walk,
		.tlb_add_page = pt_old_tlb_add_page,
	};

	return &ops;
}
#endif

#if IS_ENABLED(CONFIG_AMD_IOMMU)
/*
 * A 6.12 AMD v1 page table in a test-owned, device-less domain, whatever
 * amd_iommu=generic_pt asks for the driver's domains.
 */
static inline struct io_pgtable_ops *
pt_old_amdv1_alloc(struct kunit *test, struct protection_domain **pdomp)
{
	struct protection_domain *pdom;
	struct io_pgtable_ops *ops;
	bool was;

	pdom = kunit_kzalloc(test, sizeof(*pdom), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pdom);
	spin_lock_init(&pdom->lock);
	INIT_LIST_HEAD(&pdom->dev_list);
	INIT_LIST_HEAD(&pdom->dev_data_list);
	xa_init(&pdom->iommu_array);
	pdom->pd_mode = PD_MODE_V1;
	pdom->iop.pgtbl.cfg.amd.nid = NUMA_NO_NODE;
	*pdomp = pdom;
	was = IS_ENABLED(CONFIG_AMD_IOMMU_GENERIC_PT) &&
	      amd_iommu_set_generic_pt(false);
	ops = alloc_io_pgtable_ops(AMD_IOMMU_V1, &pdom->iop.pgtbl.cfg, pdom);
	if (was)
		amd_iommu_set_generic_pt(true);
	return ops;
}
#endif

#endif
