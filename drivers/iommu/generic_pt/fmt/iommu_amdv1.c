// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic page table instantiated for the AMD IOMMU v1 format.
 */
#include "amdv1.h"
#include "../pt_core.h"

/**
 * pt_iommu_amdv1_init() - Set up an AMD IOMMU v1 page table
 * @table: the table; @table->iommu.iommu_device and .driver_ops may be set
 *	beforehand (.driver_ops->change_top updates the DTE when the top grows)
 * @cfg: input address bits and the starting top level
 * @flags: enum pt_iommu_flags
 * @nid: NUMA node for the tables
 * @gfp: allocation flags for the top table
 *
 * Leaves of every power of two from 4 KiB to 2^51 bytes except 512 GiB,
 * which the IOMMU does not support, as in the 6.12 driver.
 *
 * Return: 0, -EINVAL for a bad configuration, or -ENOMEM.
 */
int pt_iommu_amdv1_init(struct pt_iommu_amdv1 *table,
			const struct pt_iommu_amdv1_cfg *cfg,
			unsigned int flags, int nid, gfp_t gfp)
{
	struct pt_iommu *pt = &table->iommu;
	unsigned int va = cfg->va_lg2;

	if (va < 21 || va > 64 || cfg->start_level > 5 ||
	    (flags & ~(PT_FLAG_INCOHERENT | PT_FLAG_KEEP_TABLES)))
		return -EINVAL;
	pt->pgsize_bitmap = GENMASK_ULL(min(va, 52U) - 1, 12) & ~(u64)SZ_512G;
	pt->va_lg2 = va;
	pt->oa_lg2 = 52;
	pt->max_top_level = 5;
	return PT_FN(init_common)(table, cfg->start_level, flags, nid, gfp);
}
EXPORT_SYMBOL_GPL(pt_iommu_amdv1_init);
