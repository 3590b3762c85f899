/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AMD IOMMU host page table (v1): 512-entry tables, a next-level field in
 * every entry, a top level that grows with the IOVA, and any power-of-two
 * leaf size: a leaf larger than its level's entry is replicated over the
 * entries it covers (next level 7, size encoded in the low address bits).
 */
#ifndef __GENERIC_PT_FMT_AMDV1_H
#define __GENERIC_PT_FMT_AMDV1_H

#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/generic_pt.h>
#include <linux/iommu.h>
#include <linux/mem_encrypt.h>
#include <linux/sizes.h>

#define PT_FMT		amdv1
#define PT_TABLE	pt_iommu_amdv1
#define PT_MAX_LEVELS	6
#define PT_FMT_DIRTY
#define PT_FMT_GROWS
/* Several leaf sizes per level (replicated entries). */
#define PT_FMT_LEVEL_SIZES

#define AMDV1_PTE_PR		BIT_ULL(0)
#define AMDV1_PTE_HD_BIT	6
#define AMDV1_PTE_HD		BIT_ULL(AMDV1_PTE_HD_BIT)
#define AMDV1_PTE_NEXT		GENMASK_ULL(11, 9)
#define AMDV1_PTE_NEXT_SHIFT	9
#define AMDV1_NEXT_LEAF		0
#define AMDV1_NEXT_SIZED	7
#define AMDV1_PTE_ADDR		GENMASK_ULL(51, 12)
#define AMDV1_PTE_FC		BIT_ULL(60)
#define AMDV1_PTE_IR		BIT_ULL(61)
#define AMDV1_PTE_IW		BIT_ULL(62)

static __always_inline unsigned int pt_fmt_va_lg2(const struct pt_iommu_amdv1 *t,
						  unsigned int level)
{
	return 12 + 9 * level;
}

static __always_inline unsigned int pt_fmt_items_lg2(const struct pt_iommu_amdv1 *t,
						     unsigned int level,
						     bool top)
{
	return 9;
}

static __always_inline unsigned int amdv1_next(u64 pte)
{
	return (pte & AMDV1_PTE_NEXT) >> AMDV1_PTE_NEXT_SHIFT;
}

static __always_inline bool pt_fmt_is_table(const struct pt_iommu_amdv1 *t, unsigned int level,
					    u64 pte)
{
	unsigned int next = amdv1_next(pte);

	return next != AMDV1_NEXT_LEAF && next != AMDV1_NEXT_SIZED;
}

static __always_inline phys_addr_t pt_fmt_table_pa(const struct pt_iommu_amdv1 *t, u64 pte)
{
	return __sme_clr(pte & AMDV1_PTE_ADDR);
}

/* The next-level field names the child's level, counted from 1. */
static __always_inline u64 pt_fmt_table_entry(const struct pt_iommu_amdv1 *t,
					      unsigned int level, u64 pa)
{
	return __sme_set(pa) | ((u64)level << AMDV1_PTE_NEXT_SHIFT) |
	       AMDV1_PTE_PR | AMDV1_PTE_IR | AMDV1_PTE_IW;
}

/* A sized leaf's size is the lowest clear address bit, plus one. */
static __always_inline unsigned int pt_fmt_leaf_lg2(const struct pt_iommu_amdv1 *t,
						    unsigned int level,
						    u64 pte)
{
	if (amdv1_next(pte) != AMDV1_NEXT_SIZED)
		return pt_fmt_va_lg2(t, level);
	return __ffs64(~(__sme_clr(pte) | GENMASK_ULL(11, 0))) + 1;
}

static __always_inline phys_addr_t pt_fmt_leaf_pa(const struct pt_iommu_amdv1 *t,
						  unsigned int level, u64 pte)
{
	unsigned int lg2 = pt_fmt_leaf_lg2(t, level, pte);

	return __sme_clr(pte & AMDV1_PTE_ADDR) & ~((1ULL << lg2) - 1);
}

static __always_inline u64 pt_fmt_leaf_entry(const struct pt_iommu_amdv1 *t,
					     unsigned int level, u64 pa,
					     unsigned int lg2, u64 attrs)
{
	u64 size = 1ULL << lg2;

	if (lg2 == pt_fmt_va_lg2(t, level))
		return __sme_set(pa) | attrs;
	return __sme_set((pa | (size - 1)) & ~(size >> 1) & AMDV1_PTE_ADDR) |
	       ((u64)AMDV1_NEXT_SIZED << AMDV1_PTE_NEXT_SHIFT) | attrs;
}

/* What to add to a leaf entry for the next leaf: the address sits in place. */
static __always_inline u64 pt_fmt_leaf_step(const struct pt_iommu_amdv1 *t,
					    unsigned int lg2)
{
	return 1ULL << lg2;
}

/*
 * No privilege levels, so IOMMU_PRIV changes nothing (as in 6.12); caching
 * and execute are not controlled per page.
 */
static __always_inline int pt_fmt_attrs(const struct pt_iommu_amdv1 *t, int prot, u64 *attrs)
{
	*attrs = AMDV1_PTE_PR | AMDV1_PTE_FC |
		 ((prot & IOMMU_READ) ? AMDV1_PTE_IR : 0) |
		 ((prot & IOMMU_WRITE) ? AMDV1_PTE_IW : 0);
	return 0;
}

static __always_inline bool pt_fmt_dirty_enabled(const struct pt_iommu_amdv1 *t)
{
	return true;
}

/* Every replica of a sized leaf has its own dirty bit; the core ORs them. */
static __always_inline bool pt_fmt_leaf_dirty(const struct pt_iommu_amdv1 *t, u64 pte)
{
	return pte & AMDV1_PTE_HD;
}

static __always_inline void pt_fmt_leaf_clear_dirty(const struct pt_iommu_amdv1 *t, u64 *ptep)
{
	clear_bit(AMDV1_PTE_HD_BIT, (unsigned long *)ptep);
}

/* A top at @level covers @last and is at least the level of a 1 << @lg2 leaf. */
static __always_inline bool pt_fmt_top_fits(const struct pt_iommu_amdv1 *t, unsigned int level,
					    unsigned long last,
					    unsigned int lg2)
{
	unsigned int span = pt_fmt_va_lg2(t, level) + 9;

	return (span >= BITS_PER_LONG || !(last >> span)) &&
	       level >= (lg2 - 12) / 9;
}

#endif
