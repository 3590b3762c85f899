/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel VT-d second-stage page table: 512-entry tables, 3 to 5 levels,
 * 4K leaves and optional 2M / 1G ones (PS bit), read/write permissions,
 * a snoop bit and a hardware dirty bit.
 */
#ifndef __GENERIC_PT_FMT_VTDSS_H
#define __GENERIC_PT_FMT_VTDSS_H

#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/generic_pt.h>
#include <linux/iommu.h>

#define PT_FMT		vtdss
#define PT_TABLE	pt_iommu_vtdss
#define PT_MAX_LEVELS	5
#define PT_FMT_DIRTY

#define VTDSS_PTE_R		BIT_ULL(0)
#define VTDSS_PTE_W		BIT_ULL(1)
#define VTDSS_PTE_PS		BIT_ULL(7)
#define VTDSS_PTE_DIRTY_BIT	9
#define VTDSS_PTE_DIRTY		BIT_ULL(VTDSS_PTE_DIRTY_BIT)
#define VTDSS_PTE_SNP		BIT_ULL(11)
#define VTDSS_PTE_ADDR		GENMASK_ULL(51, 12)

static __always_inline unsigned int pt_fmt_va_lg2(const struct pt_iommu_vtdss *t,
						  unsigned int level)
{
	return 12 + 9 * level;
}

static __always_inline unsigned int pt_fmt_items_lg2(const struct pt_iommu_vtdss *t,
						     unsigned int level,
						     bool top)
{
	return 9;
}

static __always_inline bool pt_fmt_is_table(const struct pt_iommu_vtdss *t, unsigned int level,
					    u64 pte)
{
	return pte && !(pte & VTDSS_PTE_PS);
}

static __always_inline phys_addr_t pt_fmt_table_pa(const struct pt_iommu_vtdss *t, u64 pte)
{
	return pte & VTDSS_PTE_ADDR;
}

static __always_inline u64 pt_fmt_table_entry(const struct pt_iommu_vtdss *t,
					      unsigned int level, u64 pa)
{
	return pa | VTDSS_PTE_R | VTDSS_PTE_W;
}

static __always_inline unsigned int pt_fmt_leaf_lg2(const struct pt_iommu_vtdss *t,
						    unsigned int level,
						    u64 pte)
{
	return pt_fmt_va_lg2(t, level);
}

static __always_inline phys_addr_t pt_fmt_leaf_pa(const struct pt_iommu_vtdss *t,
						  unsigned int level, u64 pte)
{
	return pte & VTDSS_PTE_ADDR & ~((1ULL << pt_fmt_va_lg2(t, level)) - 1);
}

static __always_inline u64 pt_fmt_leaf_entry(const struct pt_iommu_vtdss *t,
					     unsigned int level, u64 pa,
					     unsigned int lg2, u64 attrs)
{
	return pa | attrs | (level ? VTDSS_PTE_PS : 0);
}

/* What to add to a leaf entry for the next leaf: the address sits in place. */
static __always_inline u64 pt_fmt_leaf_step(const struct pt_iommu_vtdss *t,
					    unsigned int lg2)
{
	return 1ULL << lg2;
}

/*
 * No privilege levels, so IOMMU_PRIV changes nothing (as in 6.12); the
 * memory type comes from the snoop setting.
 */
static __always_inline int pt_fmt_attrs(const struct pt_iommu_vtdss *t, int prot, u64 *attrs)
{
	*attrs = ((prot & IOMMU_READ) ? VTDSS_PTE_R : 0) |
		 ((prot & IOMMU_WRITE) ? VTDSS_PTE_W : 0) |
		 (t->force_snoop ? VTDSS_PTE_SNP : 0);
	return 0;
}

static __always_inline bool pt_fmt_dirty_enabled(const struct pt_iommu_vtdss *t)
{
	return true;
}

static __always_inline bool pt_fmt_leaf_dirty(const struct pt_iommu_vtdss *t, u64 pte)
{
	return pte & VTDSS_PTE_DIRTY;
}

static __always_inline void pt_fmt_leaf_clear_dirty(const struct pt_iommu_vtdss *t, u64 *ptep)
{
	clear_bit(VTDSS_PTE_DIRTY_BIT, (unsigned long *)ptep);
}

#endif
