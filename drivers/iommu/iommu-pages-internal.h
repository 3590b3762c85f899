/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommu-pages internals shared with its KUnit test only.
 */
#ifndef __IOMMU_PAGES_INTERNAL_H
#define __IOMMU_PAGES_INTERNAL_H

#include <linux/gfp_types.h>

struct folio;

/* Byte written over freed memory with CONFIG_IOMMU_PAGES_DEBUG. */
#define IOMMU_PAGES_POISON 0x6d
/* Mixed into the address of a live allocation to tag its descriptor. */
#define IOMMU_PAGES_LIVE_TAG 0x10a7de5cUL

enum iommu_pages_misuse {
	IOMMU_PAGES_BAD_GFP,
	IOMMU_PAGES_DOUBLE_FREE,
	IOMMU_PAGES_FOREIGN_FREE,
};

#if IS_ENABLED(CONFIG_KUNIT)
struct folio *iommu_pages_alloc_folio(gfp_t gfp, unsigned int order, int nid);
void iommu_pages_put_folio(struct folio *folio);
void iommu_pages_report(enum iommu_pages_misuse what, const void *virt);
#endif

#endif /* __IOMMU_PAGES_INTERNAL_H */
