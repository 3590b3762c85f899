/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ARM VMSAv8 long descriptor format (LPAE), stage 1 and stage 2, 4K, 16K and
 * 64K granules, as the Arm SMMU drivers use it. The encoding matches
 * io-pgtable-arm bit for bit (the KUnit differential test checks it).
 *
 * Our level 0 is the architecture's level 3.
 */
#ifndef __GENERIC_PT_FMT_ARMV8_H
#define __GENERIC_PT_FMT_ARMV8_H

#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/generic_pt.h>
#include <linux/iommu.h>

#define PT_FMT		armv8
#define PT_TABLE	pt_iommu_armv8
#define PT_MAX_LEVELS	4
#define PT_FMT_DIRTY
#define PT_FMT_SPLIT
#define PT_FMT_TOP_MIN_SIZE

#define ARMV8_PTE_VALID		BIT_ULL(0)
#define ARMV8_PTE_TYPE		GENMASK_ULL(1, 0)
#define ARMV8_PTE_TYPE_BLOCK	1ULL
#define ARMV8_PTE_TYPE_TABLE	3ULL
#define ARMV8_PTE_TYPE_PAGE	3ULL
#define ARMV8_PTE_ATTRINDX_SHIFT	2
#define ARMV8_PTE_NS		BIT_ULL(5)
#define ARMV8_PTE_AP_UNPRIV	BIT_ULL(6)
#define ARMV8_PTE_AP_RDONLY	BIT_ULL(7)
#define ARMV8_PTE_SH_OS		(2ULL << 8)
#define ARMV8_PTE_SH_IS		(3ULL << 8)
#define ARMV8_PTE_AF		BIT_ULL(10)
#define ARMV8_PTE_NG		BIT_ULL(11)
#define ARMV8_PTE_ADDR		GENMASK_ULL(47, 12)
#define ARMV8_PTE_DBM		BIT_ULL(51)
#define ARMV8_PTE_XN		(3ULL << 53)
/* Software bit: this table entry was cleaned for an incoherent walker. */
#define ARMV8_PTE_SW_SYNC	BIT_ULL(55)
#define ARMV8_PTE_NSTABLE	BIT_ULL(63)
/* Stage 2 */
#define ARMV8_PTE_HAP_READ	BIT_ULL(6)
#define ARMV8_PTE_HAP_WRITE	(2ULL << 6)
#define ARMV8_PTE_MEMATTR_OIWB	(0xfULL << 2)
#define ARMV8_PTE_MEMATTR_NC	(0x5ULL << 2)
#define ARMV8_PTE_MEMATTR_DEV	(0x1ULL << 2)
/* MAIR indexes the Arm SMMU drivers program */
#define ARMV8_MAIR_IDX_CACHE	1ULL
#define ARMV8_MAIR_IDX_DEV	2ULL

#define PT_FMT_SYNCED		ARMV8_PTE_SW_SYNC

static __always_inline unsigned int pt_fmt_va_lg2(const struct pt_iommu_armv8 *t,
						  unsigned int level)
{
	return t->granule_lg2 + level * (t->granule_lg2 - 3);
}

static __always_inline unsigned int pt_fmt_items_lg2(const struct pt_iommu_armv8 *t,
						     unsigned int level,
						     bool top)
{
	return top ? t->top_items_lg2 : t->granule_lg2 - 3;
}

/*
 * The start table takes at least a granule or a page, whichever is smaller,
 * as io-pgtable-arm allocates it: not every walker of the format documents
 * less alignment for its table base register.
 */
static __always_inline size_t pt_fmt_top_min_size(const struct pt_iommu_armv8 *t)
{
	return min_t(size_t, 1UL << t->granule_lg2, PAGE_SIZE);
}

/* Of the bits that overlap, 51:48 or 15:12 are always RES0. */
static __always_inline u64 armv8_pa_to_pte(const struct pt_iommu_armv8 *t, u64 pa)
{
	return (pa | (pa >> (48 - 12))) & ARMV8_PTE_ADDR;
}

static __always_inline u64 armv8_pte_to_pa(const struct pt_iommu_armv8 *t, u64 pte)
{
	u64 pa = pte & ARMV8_PTE_ADDR;

	if (t->granule_lg2 < 16)
		return pa;
	return (pa | (pa << (48 - 12))) & (ARMV8_PTE_ADDR << 4);
}

/* @level is not 0; an empty entry is not a table. */
static __always_inline bool pt_fmt_is_table(const struct pt_iommu_armv8 *t, unsigned int level,
					    u64 pte)
{
	return (pte & ARMV8_PTE_TYPE) == ARMV8_PTE_TYPE_TABLE;
}

static __always_inline phys_addr_t pt_fmt_table_pa(const struct pt_iommu_armv8 *t, u64 pte)
{
	return armv8_pte_to_pa(t, pte);
}

static __always_inline u64 pt_fmt_table_entry(const struct pt_iommu_armv8 *t,
					      unsigned int level, u64 pa)
{
	return armv8_pa_to_pte(t, pa) | ARMV8_PTE_TYPE_TABLE |
	       (t->ns ? ARMV8_PTE_NSTABLE : 0);
}

static __always_inline unsigned int pt_fmt_leaf_lg2(const struct pt_iommu_armv8 *t,
						    unsigned int level,
						    u64 pte)
{
	return pt_fmt_va_lg2(t, level);
}

static __always_inline phys_addr_t pt_fmt_leaf_pa(const struct pt_iommu_armv8 *t,
						  unsigned int level, u64 pte)
{
	return armv8_pte_to_pa(t, pte);
}

static __always_inline u64 pt_fmt_leaf_entry(const struct pt_iommu_armv8 *t,
					     unsigned int level, u64 pa,
					     unsigned int lg2, u64 attrs)
{
	return attrs | armv8_pa_to_pte(t, pa) |
	       (level ? ARMV8_PTE_TYPE_BLOCK : ARMV8_PTE_TYPE_PAGE);
}

/* The attributes of a leaf, for leaves of the same mapping one level down. */
static __always_inline u64 pt_fmt_leaf_attrs(const struct pt_iommu_armv8 *t,
					     unsigned int level, u64 pte)
{
	return pte & ~(ARMV8_PTE_ADDR | ARMV8_PTE_TYPE);
}

/*
 * What to add to a leaf entry for the next leaf of 1 << @lg2, or 0 when it
 * must be encoded again: the address sits in place except with a 64K
 * granule, where bits 51:48 go in 15:12.
 */
static __always_inline u64 pt_fmt_leaf_step(const struct pt_iommu_armv8 *t,
					    unsigned int lg2)
{
	return t->granule_lg2 < 16 ? 1ULL << lg2 : 0;
}

/* Same choices as io-pgtable-arm's prot_to_pte for the LPAE formats. */
static __always_inline int pt_fmt_attrs(const struct pt_iommu_armv8 *t, int prot, u64 *attrs)
{
	u64 pte;

	if (!t->stage2) {
		pte = ARMV8_PTE_NG;
		if (!(prot & IOMMU_WRITE) && (prot & IOMMU_READ))
			pte |= ARMV8_PTE_AP_RDONLY;
		else if (t->iommu.flags & PT_FLAG_DIRTY)
			pte |= ARMV8_PTE_DBM;
		if (!(prot & IOMMU_PRIV))
			pte |= ARMV8_PTE_AP_UNPRIV;
		if (prot & IOMMU_MMIO)
			pte |= ARMV8_MAIR_IDX_DEV << ARMV8_PTE_ATTRINDX_SHIFT;
		else if (prot & IOMMU_CACHE)
			pte |= ARMV8_MAIR_IDX_CACHE << ARMV8_PTE_ATTRINDX_SHIFT;
		if (t->ns)
			pte |= ARMV8_PTE_NS;
	} else {
		/* Stage 2 has no privilege distinction: IOMMU_PRIV is moot. */
		pte = 0;
		if (prot & IOMMU_READ)
			pte |= ARMV8_PTE_HAP_READ;
		if (prot & IOMMU_WRITE)
			pte |= ARMV8_PTE_HAP_WRITE;
		if (prot & IOMMU_MMIO)
			pte |= ARMV8_PTE_MEMATTR_DEV;
		else if (prot & IOMMU_CACHE)
			pte |= ARMV8_PTE_MEMATTR_OIWB;
		else
			pte |= ARMV8_PTE_MEMATTR_NC;
	}
	pte |= (prot & IOMMU_CACHE) ? ARMV8_PTE_SH_IS : ARMV8_PTE_SH_OS;
	if (prot & IOMMU_NOEXEC)
		pte |= ARMV8_PTE_XN;
	*attrs = pte | ARMV8_PTE_AF;
	return 0;
}

static __always_inline bool pt_fmt_dirty_enabled(const struct pt_iommu_armv8 *t)
{
	return !t->stage2 && (t->iommu.flags & PT_FLAG_DIRTY);
}

/* Writable-dirty: DBM set and the IOMMU cleared AP[2] on a write. */
static __always_inline bool pt_fmt_leaf_dirty(const struct pt_iommu_armv8 *t, u64 pte)
{
	return (pte & (ARMV8_PTE_AP_RDONLY | ARMV8_PTE_DBM)) == ARMV8_PTE_DBM;
}

/*
 * Write-protect a dirty leaf again (set AP[2]), but only while it is still
 * a dirty leaf: an unmap may have emptied the entry since the walk read
 * it, and an atomic OR would then leave AP[2] in an empty entry, which
 * every later map there refuses as occupied.
 */
static __always_inline void pt_fmt_leaf_clear_dirty(const struct pt_iommu_armv8 *t, u64 *ptep)
{
	u64 pte = READ_ONCE(*ptep);

	do {
		if (!pt_fmt_leaf_dirty(t, pte))
			return;
	} while (!try_cmpxchg64(ptep, &pte, pte | ARMV8_PTE_AP_RDONLY));
}

#endif
