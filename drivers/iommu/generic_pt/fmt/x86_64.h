/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * x86-64 page table as IOMMUs walk it (AMD v2, VT-d first stage): 4 or 5
 * levels, the IOVA sign extended from its top bit, 4K, 2M and 1G leaves.
 */
#ifndef __GENERIC_PT_FMT_X86_64_H
#define __GENERIC_PT_FMT_X86_64_H

#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/generic_pt.h>
#include <linux/iommu.h>

#define PT_FMT		x86_64
#define PT_TABLE	pt_iommu_x86_64
#define PT_MAX_LEVELS	5
#define PT_FMT_SIGN_EXTEND

#define X86_64_PTE_P		BIT_ULL(0)
#define X86_64_PTE_RW		BIT_ULL(1)
#define X86_64_PTE_US		BIT_ULL(2)
#define X86_64_PTE_A		BIT_ULL(5)
#define X86_64_PTE_D		BIT_ULL(6)
#define X86_64_PTE_PS		BIT_ULL(7)
#define X86_64_PTE_ADDR		GENMASK_ULL(51, 12)
#define X86_64_PTE_NX		BIT_ULL(63)

static __always_inline unsigned int pt_fmt_va_lg2(const struct pt_iommu_x86_64 *t,
						  unsigned int level)
{
	return 12 + 9 * level;
}

static __always_inline unsigned int pt_fmt_items_lg2(const struct pt_iommu_x86_64 *t,
						     unsigned int level,
						     bool top)
{
	return 9;
}

static __always_inline bool pt_fmt_is_table(const struct pt_iommu_x86_64 *t, unsigned int level,
					    u64 pte)
{
	return pte && !(pte & X86_64_PTE_PS);
}

static __always_inline phys_addr_t pt_fmt_table_pa(const struct pt_iommu_x86_64 *t, u64 pte)
{
	return pte & X86_64_PTE_ADDR;
}

static __always_inline u64 pt_fmt_table_entry(const struct pt_iommu_x86_64 *t,
					      unsigned int level, u64 pa)
{
	return pa | X86_64_PTE_P | X86_64_PTE_RW | X86_64_PTE_US |
	       X86_64_PTE_A;
}

static __always_inline unsigned int pt_fmt_leaf_lg2(const struct pt_iommu_x86_64 *t,
						    unsigned int level,
						    u64 pte)
{
	return pt_fmt_va_lg2(t, level);
}

/* Bit 12 of a large leaf is PAT, never set here; mask it anyway. */
static __always_inline phys_addr_t pt_fmt_leaf_pa(const struct pt_iommu_x86_64 *t,
						  unsigned int level, u64 pte)
{
	return pte & X86_64_PTE_ADDR & ~((1ULL << pt_fmt_va_lg2(t, level)) - 1);
}

static __always_inline u64 pt_fmt_leaf_entry(const struct pt_iommu_x86_64 *t,
					     unsigned int level, u64 pa,
					     unsigned int lg2, u64 attrs)
{
	return pa | attrs | (level ? X86_64_PTE_PS : 0);
}

/* What to add to a leaf entry for the next leaf: the address sits in place. */
static __always_inline u64 pt_fmt_leaf_step(const struct pt_iommu_x86_64 *t,
					    unsigned int lg2)
{
	return 1ULL << lg2;
}

/*
 * Accessed (and dirty for writable pages) are set up front so the IOMMU
 * never has to write the entry. IOMMU_PRIV makes a supervisor page.
 */
static __always_inline int pt_fmt_attrs(const struct pt_iommu_x86_64 *t, int prot, u64 *attrs)
{
	u64 pte = X86_64_PTE_P | X86_64_PTE_A;

	if (!(prot & IOMMU_PRIV))
		pte |= X86_64_PTE_US;
	if (prot & IOMMU_WRITE)
		pte |= X86_64_PTE_RW | X86_64_PTE_D;
	if (prot & IOMMU_NOEXEC)
		pte |= X86_64_PTE_NX;
	*attrs = pte;
	return 0;
}

#endif
