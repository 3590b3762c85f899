// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic page table instantiated for the Intel VT-d second stage.
 */
#include <linux/sizes.h>

#include "vtdss.h"
#include "../pt_core.h"

/**
 * pt_iommu_vtdss_init() - Set up a VT-d second-stage page table
 * @table: the table; @table->iommu.iommu_device and .driver_ops may be set
 *	beforehand
 * @cfg: levels (the AGAW), large page support, snooping
 * @flags: enum pt_iommu_flags; PT_FLAG_INCOHERENT for an IOMMU without
 *	coherent page walks (ECAP.C clear)
 * @nid: NUMA node for the tables
 * @gfp: allocation flags for the top table
 *
 * Return: 0, -EINVAL for a bad configuration, or -ENOMEM.
 */
int pt_iommu_vtdss_init(struct pt_iommu_vtdss *table,
			const struct pt_iommu_vtdss_cfg *cfg,
			unsigned int flags, int nid, gfp_t gfp)
{
	struct pt_iommu *pt = &table->iommu;

	if (cfg->levels < 3 || cfg->levels > 5 ||
	    (cfg->large_lg2_mask & ~(u64)(SZ_2M | SZ_1G)) ||
	    (flags & ~(PT_FLAG_INCOHERENT | PT_FLAG_KEEP_TABLES)))
		return -EINVAL;
	table->force_snoop = cfg->force_snoop;
	pt->pgsize_bitmap = SZ_4K | cfg->large_lg2_mask;
	pt->va_lg2 = 12 + 9 * cfg->levels;
	pt->oa_lg2 = 52;
	pt->max_top_level = cfg->levels - 1;
	return PT_FN(init_common)(table, cfg->levels - 1, flags, nid, gfp);
}
EXPORT_SYMBOL_GPL(pt_iommu_vtdss_init);
