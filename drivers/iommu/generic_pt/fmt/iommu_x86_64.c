// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic page table instantiated for the x86-64 format.
 */
#include <linux/sizes.h>

#include "x86_64.h"
#include "../pt_core.h"

/**
 * pt_iommu_x86_64_init() - Set up an x86-64 format page table
 * @table: the table; @table->iommu.iommu_device and .driver_ops may be set
 *	beforehand
 * @cfg: levels and large page support
 * @flags: enum pt_iommu_flags
 * @nid: NUMA node for the tables
 * @gfp: allocation flags for the top table
 *
 * IOVAs are canonical: the lower half [0, 2^(va - 1)) and the upper half
 * down from ~0UL, va being 48 for 4 levels and 57 for 5.
 *
 * Return: 0, -EINVAL for a bad configuration, or -ENOMEM.
 */
int pt_iommu_x86_64_init(struct pt_iommu_x86_64 *table,
			 const struct pt_iommu_x86_64_cfg *cfg,
			 unsigned int flags, int nid, gfp_t gfp)
{
	struct pt_iommu *pt = &table->iommu;

	if (cfg->levels < 4 || cfg->levels > 5 ||
	    (cfg->large_lg2_mask & ~(u64)(SZ_2M | SZ_1G)) ||
	    (flags & ~(PT_FLAG_INCOHERENT | PT_FLAG_KEEP_TABLES)))
		return -EINVAL;
	pt->pgsize_bitmap = SZ_4K | cfg->large_lg2_mask;
	pt->va_lg2 = 12 + 9 * cfg->levels;
	pt->oa_lg2 = 52;
	pt->max_top_level = cfg->levels - 1;
	return PT_FN(init_common)(table, cfg->levels - 1, flags, nid, gfp);
}
EXPORT_SYMBOL_GPL(pt_iommu_x86_64_init);
