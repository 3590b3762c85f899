/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Level geometry of the generic page table over a format's pt_fmt_*()
 * functions: shared by the instantiation (pt_core.h) and the KUnit tests.
 * Include a format header first.
 */
#ifndef __GENERIC_PT_DEFS_H
#define __GENERIC_PT_DEFS_H

#ifndef PT_FMT
#error "include a format header first"
#endif

#include <linux/io.h>

#include "pt_common.h"

#define __PT_CAT(a, b, c)	a##b##c
#define _PT_CAT(a, b, c)	__PT_CAT(a, b, c)
#define PT_FN(name)		_PT_CAT(pt_, PT_FMT, _##name)
#define PT_EXPORT(name)		_PT_CAT(pt_iommu_, PT_FMT, _##name)

#define pt_from_iommu(pt)	container_of(pt, struct PT_TABLE, iommu)

static __always_inline unsigned int PT_FN(items_lg2)(const struct PT_TABLE *t,
						     unsigned int level,
						     unsigned int top_level)
{
	return pt_fmt_items_lg2(t, level, level == top_level);
}

/* log2 of the IOVA range one table at @level covers. */
static __always_inline unsigned int PT_FN(span_lg2)(const struct PT_TABLE *t,
						    unsigned int level,
						    unsigned int top_level)
{
	return pt_fmt_va_lg2(t, level) + PT_FN(items_lg2)(t, level, top_level);
}

static __always_inline unsigned int PT_FN(index)(const struct PT_TABLE *t,
						 unsigned long iova,
						 unsigned int level,
						 unsigned int top_level)
{
	return (iova >> pt_fmt_va_lg2(t, level)) &
	       ((1U << PT_FN(items_lg2)(t, level, top_level)) - 1);
}

static __always_inline size_t PT_FN(table_size)(const struct PT_TABLE *t,
						unsigned int level,
						unsigned int top_level)
{
	return sizeof(u64) << PT_FN(items_lg2)(t, level, top_level);
}

/*
 * Bytes allocated for a table at @level: its entries, but the top table
 * rounded up to the format's minimum where it has one (a walker's base
 * register may need more alignment than the entries give).
 */
static __always_inline size_t PT_FN(alloc_size)(const struct PT_TABLE *t,
						unsigned int level,
						unsigned int top_level)
{
	size_t size = PT_FN(table_size)(t, level, top_level);

#ifdef PT_FMT_TOP_MIN_SIZE
	if (level == top_level)
		size = max(size, pt_fmt_top_min_size(t));
#endif
	return size;
}

/* The live-entry count of @table at @level (pt_live()), or NULL. */
static __always_inline atomic_t *PT_FN(live)(const struct PT_TABLE *t,
					     u64 *table, unsigned int level,
					     unsigned int top_level)
{
	return pt_live(&t->iommu, table, PT_FN(alloc_size)(t, level, top_level));
}

/*
 * A top that grows becomes an inner table of the new top and is released
 * at the inner size, so a format that grows cannot round its top up.
 */
#if defined(PT_FMT_TOP_MIN_SIZE) && defined(PT_FMT_GROWS)
#error "a format that grows its top cannot have a minimum top size"
#endif

static __always_inline u64 *PT_FN(table_va)(const struct PT_TABLE *t, u64 pte)
{
	return phys_to_virt(pt_fmt_table_pa(t, pte));
}

/* The largest leaf size, as log2, that alignment and length allow. */
static __always_inline unsigned int PT_FN(lim)(unsigned long iova, u64 pa,
					       size_t len)
{
	return min_t(unsigned int, pt_align_lg2(iova | pa), __fls(len));
}

/* The leaf sizes, as a mask of log2 bits, the format has at @level. */
static __always_inline u64 PT_FN(level_sizes)(const struct PT_TABLE *t,
					      unsigned int level,
					      unsigned int top_level)
{
	u64 sizes = t->iommu.pgsize_bitmap &
		    GENMASK_ULL(63, pt_fmt_va_lg2(t, level));

	if (level != top_level)
		sizes &= GENMASK_ULL(pt_fmt_va_lg2(t, level + 1) - 1, 0);
	return sizes;
}

/*
 * The largest leaf to put at @level when alignment and length allow up to
 * 1 << @lim, or 0 when a smaller leaf (a lower level) is needed.
 */
static __always_inline unsigned int
PT_FN(leaf_lg2)(const struct PT_TABLE *t, unsigned int level,
		unsigned int top_level, unsigned int lim)
{
	u64 sizes;

	if (lim < pt_fmt_va_lg2(t, level))
		return 0;
	sizes = PT_FN(level_sizes)(t, level, top_level) &
		GENMASK_ULL(lim, 0);
	return sizes ? __fls(sizes) : 0;
}

/*
 * Check the IOVA range [@iova, @iova + @len - 1]: inside the input address
 * space, not wrapping; sign-extended formats take either canonical half.
 */
static __always_inline bool PT_FN(iova_ok)(const struct PT_TABLE *t, unsigned long iova,
					   size_t len)
{
	unsigned int va = t->iommu.va_lg2;
	unsigned long last;

	if (!len || check_add_overflow(iova, len - 1, &last))
		return false;
#ifdef PT_FMT_SIGN_EXTEND
	if (sign_extend64(iova, va - 1) != iova ||
	    sign_extend64(last, va - 1) != last)
		return false;
	return (iova >> (va - 1)) == (last >> (va - 1));
#else
	return va >= BITS_PER_LONG || !(last >> va);
#endif
}

/*
 * The part of [@iova, @iova + @len) that a top at @top_level covers. A
 * format that grows may have a top that spans less than the input address
 * space: a walk from it masks the IOVA into the top's index, so an IOVA
 * above the span would alias one inside. Returns @len clamped to the span,
 * 0 when @iova is above it.
 */
static __always_inline size_t PT_FN(top_len)(const struct PT_TABLE *t,
					     unsigned int top_level,
					     unsigned long iova, size_t len)
{
#ifdef PT_FMT_GROWS
	unsigned int span = PT_FN(span_lg2)(t, top_level, top_level);

	if (span < BITS_PER_LONG) {
		if (iova >> span)
			return 0;
		return min_t(size_t, len, (1UL << span) - iova);
	}
#endif
	return len;
}

#endif
