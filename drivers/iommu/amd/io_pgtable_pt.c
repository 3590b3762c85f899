// SPDX-License-Identifier: GPL-2.0-only
/*
 * AMD IOMMU v1 host page tables built by the generic page table library
 * (drivers/iommu/generic_pt), behind the io_pgtable_ops the driver calls,
 * when booted with amd_iommu=generic_pt. The library grows the top level;
 * the driver points the DTEs at the new top under the domain lock, as
 * increase_address_space() does for the 6.12 tables.
 */
#define pr_fmt(fmt)	"AMD-Vi: " fmt
#define dev_fmt(fmt)	pr_fmt(fmt)

#include <kunit/visibility.h>
#include <linux/generic_pt.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/mem_encrypt.h>

#include "amd_iommu_types.h"
#include "amd_iommu.h"

/* amd_iommu=generic_pt: the v1 tables allocated from then on */
bool amd_iommu_generic_pt __read_mostly;

/**
 * amd_iommu_set_generic_pt() - Choose who builds the next v1 tables
 * @on: generic_pt, or the driver's own code
 *
 * For the tests and benchmarks that compare the two in one boot.
 *
 * Return: the previous choice.
 */
bool amd_iommu_set_generic_pt(bool on)
{
	return xchg(&amd_iommu_generic_pt, on);
}
EXPORT_SYMBOL_IF_KUNIT(amd_iommu_set_generic_pt);

static struct amd_io_pgtable *amd_pt_of(struct pt_iommu *pt)
{
	return container_of(pt, struct amd_io_pgtable, pt.iommu);
}

static struct amd_io_pgtable *amd_pt_ops(struct io_pgtable_ops *ops)
{
	return container_of(ops, struct amd_io_pgtable, pgtbl.ops);
}

static struct protection_domain *amd_pt_domain(struct pt_iommu *pt)
{
	return container_of(amd_pt_of(pt), struct protection_domain, iop);
}

/*
 * Under the library's top lock, before any map can use the new top: the
 * root and mode that set_dte_entry() reads, and every DTE of the domain,
 * change in one section of the domain lock, which attach and detach take
 * to program a DTE. When this returns no DTE names the old top.
 */
static void amd_pt_change_top(struct pt_iommu *pt, phys_addr_t top_pa,
			      unsigned int top_level)
{
	struct protection_domain *dom = amd_pt_domain(pt);
	unsigned long flags;

	spin_lock_irqsave(&dom->lock, flags);
	dom->iop.root = phys_to_virt(top_pa);
	dom->iop.mode = top_level + 1;
	amd_iommu_update_and_flush_device_table(dom);
	spin_unlock_irqrestore(&dom->lock, flags);
}

/*
 * Invalidate [@iova, @iova + @size) and wait: the IOTLB and the cached
 * PDEs, as every INVALIDATE_IOMMU_PAGES the driver sends has PDE set.
 */
static void amd_pt_flush(struct pt_iommu *pt, unsigned long iova, size_t size)
{
	struct protection_domain *dom = amd_pt_domain(pt);
	unsigned long flags;

	spin_lock_irqsave(&dom->lock, flags);
	amd_iommu_domain_flush_pages(dom, iova, size);
	spin_unlock_irqrestore(&dom->lock, flags);
}

/*
 * table_unlinked: an unmap that empties a table has it flushed at once,
 * and the library frees it after an RCU grace period, so that a map in its
 * range can install a new table without the IOMMU walking the old one from
 * its walk cache. The unmap's leaves stay for the driver's gather.
 */
static const struct pt_iommu_driver_ops amd_pt_driver_ops = {
	.flush_walk = amd_pt_flush,
	.change_top = amd_pt_change_top,
	.table_unlinked = amd_pt_flush,
};

static int amd_pt_map_pages(struct io_pgtable_ops *ops, unsigned long iova,
			    phys_addr_t paddr, size_t pgsize, size_t pgcount,
			    int prot, gfp_t gfp, size_t *mapped)
{
	struct pt_iommu *pt = &amd_pt_ops(ops)->pt.iommu;
	/* IOMMU_PROT_* back to IOMMU_*: with neither, -EINVAL, as in 6.12. */
	int iommu_prot = ((prot & IOMMU_PROT_IR) ? IOMMU_READ : 0) |
			 ((prot & IOMMU_PROT_IW) ? IOMMU_WRITE : 0);

	return pt->ops->map_pages(pt, iova, paddr, pgsize, pgcount, iommu_prot,
				  gfp, mapped);
}

/* The driver adds what was unmapped to its gather itself. */
static size_t amd_pt_unmap_pages(struct io_pgtable_ops *ops,
				 unsigned long iova, size_t pgsize,
				 size_t pgcount,
				 struct iommu_iotlb_gather *gather)
{
	struct pt_iommu *pt = &amd_pt_ops(ops)->pt.iommu;

	return pt->ops->unmap_pages(pt, iova, pgsize, pgcount, gather);
}

static phys_addr_t amd_pt_iova_to_phys(struct io_pgtable_ops *ops,
				       unsigned long iova)
{
	struct pt_iommu *pt = &amd_pt_ops(ops)->pt.iommu;

	return pt->ops->iova_to_phys(pt, iova);
}

static int amd_pt_read_and_clear_dirty(struct io_pgtable_ops *ops,
				       unsigned long iova, size_t size,
				       unsigned long flags,
				       struct iommu_dirty_bitmap *dirty)
{
	struct pt_iommu *pt = &amd_pt_ops(ops)->pt.iommu;

	return pt->ops->read_and_clear_dirty(pt, iova, size, flags, dirty);
}

/**
 * amd_pt_v1_alloc() - Build a v1 page table with generic_pt
 * @pgtable: the domain's page table
 * @cfg: its io-pgtable configuration (@cfg->amd.nid read)
 *
 * Three levels to start with, as the 6.12 code, growing to six; the leaf
 * sizes amd_iommu_pgsize_bitmap allows (nohugepages, v2_pgsizes_only).
 *
 * Return: the io_pgtable, or NULL without memory.
 */
struct io_pgtable *amd_pt_v1_alloc(struct amd_io_pgtable *pgtable,
				   struct io_pgtable_cfg *cfg)
{
	const struct pt_iommu_amdv1_cfg pcfg = {
		.va_lg2 = 64,
		.start_level = PAGE_MODE_3_LEVEL - 1,
	};
	struct pt_iommu *pt = &pgtable->pt.iommu;

	pt->driver_ops = &amd_pt_driver_ops;
	if (pt_iommu_amdv1_init(&pgtable->pt, &pcfg, 0, cfg->amd.nid,
				GFP_KERNEL))
		return NULL;
	pt->pgsize_bitmap &= amd_iommu_pgsize_bitmap;
	pgtable->root = phys_to_virt(pt_iommu_top_pa(pt));
	pgtable->mode = pt_iommu_top_level(pt) + 1;

	cfg->pgsize_bitmap = pt->pgsize_bitmap;
	cfg->ias = IOMMU_IN_ADDR_BIT_SIZE;
	cfg->oas = IOMMU_OUT_ADDR_BIT_SIZE;
	pgtable->pgtbl.ops = (struct io_pgtable_ops) {
		.map_pages = amd_pt_map_pages,
		.unmap_pages = amd_pt_unmap_pages,
		.iova_to_phys = amd_pt_iova_to_phys,
		.read_and_clear_dirty = amd_pt_read_and_clear_dirty,
	};
	pr_info_once("v1 page tables built by generic_pt\n");
	return &pgtable->pgtbl;
}

/**
 * amd_pt_v1_set_iommu() - Name the IOMMU that walks a v1 table
 * @pgtable: the domain's page table
 * @iommu: an IOMMU a device of the domain is attached to
 *
 * The first one names the table in /sys/kernel/debug/iommu/generic_pt
 * (the table is walked coherently, so no cache maintenance uses it), and
 * the tables of a domain allocated without a device go on the node that
 * pdom_attach_iommu() chose, as the 6.12 code's do.
 */
void amd_pt_v1_set_iommu(struct amd_io_pgtable *pgtable,
			 struct amd_iommu *iommu)
{
	struct pt_iommu *pt = &pgtable->pt.iommu;

	if (pgtable->pgtbl.ops.map_pages != amd_pt_map_pages)
		return;
	if (!READ_ONCE(pt->iommu_device))
		WRITE_ONCE(pt->iommu_device, iommu->iommu.dev);
	if (READ_ONCE(pt->nid) == NUMA_NO_NODE)
		WRITE_ONCE(pt->nid, pgtable->pgtbl.cfg.amd.nid);
}

/**
 * amd_pt_v1_free() - Free a v1 page table if generic_pt built it
 * @pgtable: the domain's page table; no DTE may name it any more
 *
 * Return: true if it was one of ours and is freed.
 */
bool amd_pt_v1_free(struct amd_io_pgtable *pgtable)
{
	if (pgtable->pgtbl.ops.map_pages != amd_pt_map_pages)
		return false;
	pgtable->pt.iommu.ops->deinit(&pgtable->pt.iommu);
	pgtable->root = NULL;
	pgtable->mode = PAGE_MODE_NONE;
	return true;
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * amd_pt_v1_of_domain() - generic_pt's table of an AMD v1 paging domain
 * @dom: a paging domain of any driver
 *
 * Return: the table, or NULL if @dom is not an AMD v1 domain whose tables
 * generic_pt builds.
 */
struct pt_iommu *amd_pt_v1_of_domain(struct iommu_domain *dom)
{
	struct protection_domain *pdom;

	if (!dom->ops || dom->ops != amd_iommu_ops.default_domain_ops)
		return NULL;
	pdom = to_pdomain(dom);
	if (pdom->pd_mode != PD_MODE_V1 ||
	    pdom->iop.pgtbl.ops.map_pages != amd_pt_map_pages)
		return NULL;
	return &pdom->iop.pt.iommu;
}
EXPORT_SYMBOL_IF_KUNIT(amd_pt_v1_of_domain);

/**
 * amd_iommu_dte_root() - Where the DTE of a device points its IOMMU
 * @dev: a device behind an AMD IOMMU
 * @mode: the DTE's paging mode (levels walked)
 *
 * Return: the physical address of the top table the DTE holds, without
 * the C-bit.
 */
phys_addr_t amd_iommu_dte_root(struct device *dev, unsigned int *mode)
{
	struct iommu_dev_data *dev_data = dev_iommu_priv_get(dev);
	struct amd_iommu *iommu = get_amd_iommu_from_dev(dev);
	u64 dte = READ_ONCE(get_dev_table(iommu)[dev_data->devid].data[0]);

	*mode = (dte >> DEV_ENTRY_MODE_SHIFT) & DEV_ENTRY_MODE_MASK;
	return __sme_clr(dte) & GENMASK_ULL(51, 12);
}
EXPORT_SYMBOL_IF_KUNIT(amd_iommu_dte_root);
#endif
