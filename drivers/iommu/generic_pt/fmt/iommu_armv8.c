// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic page table instantiated for the ARM VMSAv8 long descriptor
 * format.
 */
#include <linux/sizes.h>

#include "armv8.h"
#include "../pt_core.h"

#define ARMV8_S2_MAX_CONCAT	16

/**
 * pt_iommu_armv8_init() - Set up an ARM LPAE page table
 * @table: the table; @table->iommu.iommu_device and .driver_ops may be set
 *	beforehand, every other field is written here
 * @cfg: granule, address sizes, stage and attributes
 * @flags: enum pt_iommu_flags; PT_FLAG_DIRTY only at stage 1
 * @nid: NUMA node for the tables
 * @gfp: allocation flags for the top table
 *
 * Levels and the start table follow the architecture (and io-pgtable-arm):
 * enough levels of 1 << (@granule_lg2 - 3) entries to cover @cfg->ias, a
 * smaller start table for the remainder, which stage 2 concatenates into
 * level 1 when level 0 would have at most 16 entries.
 *
 * Return: 0, -EINVAL for a configuration the format cannot express, or
 * -ENOMEM.
 */
int pt_iommu_armv8_init(struct pt_iommu_armv8 *table,
			const struct pt_iommu_armv8_cfg *cfg,
			unsigned int flags, int nid, gfp_t gfp)
{
	struct pt_iommu *pt = &table->iommu;
	unsigned int g = cfg->granule_lg2, bpl = g - 3, max_bits = 48;
	unsigned int va_bits, levels, top_items;
	u64 sizes;

	switch (g) {
	case 12:
		sizes = SZ_4K | SZ_2M | SZ_1G;
		break;
	case 14:
		sizes = SZ_16K | SZ_32M;
		break;
	case 16:
		max_bits = 52;
		sizes = SZ_64K | SZ_512M;
		if (cfg->oas > 48)
			sizes |= BIT_ULL(42);
		break;
	default:
		return -EINVAL;
	}
	if (cfg->ias <= g || cfg->ias > max_bits || cfg->oas < 32 ||
	    cfg->oas > max_bits)
		return -EINVAL;
	if (cfg->stage2 && (cfg->ns || cfg->outer_wbwa ||
			    (flags & PT_FLAG_DIRTY)))
		return -EINVAL;
	if (flags & ~(PT_FLAG_INCOHERENT | PT_FLAG_DIRTY | PT_FLAG_SPLIT |
		      PT_FLAG_KEEP_TABLES))
		return -EINVAL;

	va_bits = cfg->ias - g;
	levels = DIV_ROUND_UP(va_bits, bpl);
	top_items = va_bits - bpl * (levels - 1);
	if (cfg->stage2 && levels == 4 &&
	    BIT(top_items) <= ARMV8_S2_MAX_CONCAT) {
		levels--;
		top_items += bpl;
	}

	table->granule_lg2 = g;
	table->levels = levels;
	table->top_items_lg2 = top_items;
	table->stage2 = cfg->stage2;
	table->ns = cfg->ns;
	pt->pgsize_bitmap = sizes & GENMASK_ULL(cfg->ias - 1, 0);
	pt->va_lg2 = cfg->ias;
	pt->oa_lg2 = cfg->oas;
	pt->max_top_level = levels - 1;
	return PT_FN(init_common)(table, levels - 1, flags, nid, gfp);
}
EXPORT_SYMBOL_GPL(pt_iommu_armv8_init);
