// SPDX-License-Identifier: GPL-2.0-only
/*
 * Format-independent part of the generic page table library: table memory
 * (through iommu-pages) and cache maintenance for incoherent walkers.
 */
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/generic_pt.h>
#include <linux/io.h>

#ifdef CONFIG_X86
#include <asm/cacheflush.h>
#endif

#include "pt_common.h"

/*
 * An incoherent walker on x86 is served by clflush (VT-d without coherent
 * page walks); elsewhere every table is mapped for DMA once, and each write
 * is followed by a sync, as io-pgtable-arm does. The IOMMU uses physical
 * addresses, so a DMA address that differs from it cannot be used.
 */
static bool pt_use_dma_api(struct pt_iommu *pt)
{
	return !IS_ENABLED(CONFIG_X86) && (pt->flags & PT_FLAG_INCOHERENT);
}

/**
 * pt_table_alloc() - Allocate a zeroed table for @pt
 * @pt: the page table
 * @size: bytes, a power of two
 * @gfp: allocation flags
 *
 * Return: the table, visible to an incoherent walker, or NULL.
 */
void *pt_table_alloc(struct pt_iommu *pt, size_t size, gfp_t gfp)
{
	void *table;
	dma_addr_t dma;

	KUNIT_STATIC_STUB_REDIRECT(pt_table_alloc, pt, size, gfp);
	table = iommu_alloc_pages_node_sz(pt->nid, gfp, size);
	if (!table || !(pt->flags & PT_FLAG_INCOHERENT))
		return table;

	if (!pt_use_dma_api(pt)) {
		pt_table_sync(pt, table, size);
		return table;
	}

	dma = dma_map_single(pt->iommu_device, table, size, DMA_TO_DEVICE);
	if (dma_mapping_error(pt->iommu_device, dma))
		goto err_free;
	if (dma != virt_to_phys(table)) {
		dev_err(pt->iommu_device,
			"page table memory is not DMA-addressable 1:1\n");
		dma_unmap_single(pt->iommu_device, dma, size, DMA_TO_DEVICE);
		goto err_free;
	}
	return table;

err_free:
	iommu_free_pages(table);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(pt_table_alloc);

/**
 * pt_table_release() - Undo pt_table_alloc()'s DMA mapping
 * @pt: the page table
 * @table: a table unlinked from @pt
 * @size: its size
 *
 * After this the table may go on a free list.
 */
void pt_table_release(struct pt_iommu *pt, void *table, size_t size)
{
	if (pt_use_dma_api(pt))
		dma_unmap_single(pt->iommu_device, virt_to_phys(table), size,
				 DMA_TO_DEVICE);
}

/**
 * pt_table_free() - Release and free a table no walker can reach
 * @pt: the page table
 * @table: the table
 * @size: its size
 */
void pt_table_free(struct pt_iommu *pt, void *table, size_t size)
{
	pt_table_release(pt, table, size);
	iommu_free_pages(table);
}

/**
 * pt_table_sync() - Make CPU writes to a table visible to the walker
 * @pt: a page table with PT_FLAG_INCOHERENT
 * @start: first byte written
 * @len: bytes written
 */
void pt_table_sync(struct pt_iommu *pt, void *start, size_t len)
{
#ifdef CONFIG_X86
	clflush_cache_range(start, len);
#else
	dma_sync_single_for_device(pt->iommu_device, virt_to_phys(start), len,
				   DMA_TO_DEVICE);
#endif
}

/**
 * pt_iommu_top_pa() - Physical address of the top table
 * @pt: the page table
 *
 * Return: the address to program into the IOMMU.
 */
phys_addr_t pt_iommu_top_pa(struct pt_iommu *pt)
{
	return virt_to_phys(pt_top_table(READ_ONCE(pt->top)));
}
EXPORT_SYMBOL_GPL(pt_iommu_top_pa);
