// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ARM LPAE io-pgtable formats with their tables built by the generic
 * page table library (drivers/iommu/generic_pt). io-pgtable-arm.c checks
 * the configuration and computes the registers, as it always has; this
 * file builds the tables behind the same io_pgtable_ops and calls the
 * driver's TLB callbacks where io-pgtable-arm calls them.
 */
#define pr_fmt(fmt)	"arm-lpae io-pgtable: " fmt

#include <kunit/visibility.h>
#include <linux/device.h>
#include <linux/generic_pt.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "io-pgtable-arm.h"

/**
 * struct arm_lpae_pt - An LPAE io-pgtable whose tables generic_pt builds
 * @iop: what io-pgtable and its users see
 * @table: the generic page table
 * @ias: input address bits
 * @ttbr1: the table serves the upper half of the address space
 *	(IO_PGTABLE_QUIRK_ARM_TTBR1): IOVAs are sign extended from bit @ias
 */
struct arm_lpae_pt {
	struct io_pgtable iop;
	struct pt_iommu_armv8 table;
	u8 ias;
	bool ttbr1;
};

static atomic_long_t arm_lpae_pt_live;

/**
 * arm_lpae_pt_live_tables() - Tables generic_pt built and has not freed
 *
 * Return: their number, as the live_tables parameter reads.
 */
long arm_lpae_pt_live_tables(void)
{
	return atomic_long_read(&arm_lpae_pt_live);
}
EXPORT_SYMBOL_IF_KUNIT(arm_lpae_pt_live_tables);

static int arm_lpae_pt_live_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", arm_lpae_pt_live_tables());
}

static const struct kernel_param_ops arm_lpae_pt_live_ops = {
	.get = arm_lpae_pt_live_get,
};

/* Read-only: the tables generic_pt built that are not freed yet. */
module_param_cb(live_tables, &arm_lpae_pt_live_ops, NULL, 0444);
MODULE_PARM_DESC(live_tables, "LPAE io-pgtables built by generic_pt and not freed");

static struct arm_lpae_pt *arm_lpae_pt_of(struct pt_iommu *pt)
{
	return container_of(pt, struct arm_lpae_pt, table.iommu);
}

static struct arm_lpae_pt *arm_lpae_pt_ops(struct io_pgtable_ops *ops)
{
	return container_of(ops, struct arm_lpae_pt, iop.ops);
}

/* The IOVA the driver knows, from the library's. */
static unsigned long arm_lpae_pt_iova(struct arm_lpae_pt *p,
				      unsigned long iova)
{
	return p->ttbr1 ? iova | ~(BIT_ULL(p->ias) - 1) : iova;
}

/*
 * The library's IOVA, from the driver's, as io-pgtable-arm checks it: the
 * bits above @ias are all zero, or all one with TTBR1. False otherwise.
 */
static bool arm_lpae_pt_in(struct arm_lpae_pt *p, unsigned long *iova)
{
	long iaext = (s64)*iova >> p->ias;

	if (p->ttbr1)
		iaext = ~iaext;
	if (iaext)
		return false;
	*iova &= BIT_ULL(p->ias) - 1;
	return true;
}

static size_t arm_lpae_pt_granule(struct arm_lpae_pt *p)
{
	return 1UL << p->table.granule_lg2;
}

static void arm_lpae_pt_flush_walk(struct pt_iommu *pt, unsigned long iova,
				   size_t size)
{
	struct arm_lpae_pt *p = arm_lpae_pt_of(pt);

	io_pgtable_tlb_flush_walk(&p->iop, arm_lpae_pt_iova(p, iova), size,
				  arm_lpae_pt_granule(p));
}

/* As io-pgtable-arm: each leaf unmapped, unless the gather is queued. */
static void arm_lpae_pt_leaves_unmapped(struct pt_iommu *pt,
					struct iommu_iotlb_gather *gather,
					unsigned long iova, unsigned int lg2,
					size_t count)
{
	struct arm_lpae_pt *p = arm_lpae_pt_of(pt);
	size_t i;

	if (!gather || iommu_iotlb_gather_queued(gather))
		return;
	iova = arm_lpae_pt_iova(p, iova);
	for (i = 0; i < count; i++)
		io_pgtable_tlb_add_page(&p->iop, gather, iova + (i << lg2),
					1UL << lg2);
}

static const struct pt_iommu_driver_ops arm_lpae_pt_driver_ops = {
	.flush_walk = arm_lpae_pt_flush_walk,
	.leaves_unmapped = arm_lpae_pt_leaves_unmapped,
	/* Before a table is freed: the walk caches, as io-pgtable-arm. */
	.table_unlinked = arm_lpae_pt_flush_walk,
};

static int arm_lpae_pt_map_pages(struct io_pgtable_ops *ops,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct arm_lpae_pt *p = arm_lpae_pt_ops(ops);
	struct pt_iommu *pt = &p->table.iommu;
	int ret;

	/* The library refuses a bad size, address or prot as 6.12 does. */
	if (WARN_ON(!arm_lpae_pt_in(p, &iova)))
		return -ERANGE;
	ret = pt->ops->map_pages(pt, iova, paddr, pgsize, pgcount, prot, gfp,
				 mapped);
	/* The entries before any walk the caller can start. */
	wmb();
	return ret;
}

static size_t arm_lpae_pt_unmap_pages(struct io_pgtable_ops *ops,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct arm_lpae_pt *p = arm_lpae_pt_ops(ops);
	struct pt_iommu *pt = &p->table.iommu;

	if (WARN_ON(!pgsize || (pgsize & p->iop.cfg.pgsize_bitmap) != pgsize ||
		    !pgcount))
		return 0;
	if (WARN_ON(!arm_lpae_pt_in(p, &iova)))
		return 0;
	return pt->ops->unmap_pages(pt, iova, pgsize, pgcount, gather);
}

static phys_addr_t arm_lpae_pt_iova_to_phys(struct io_pgtable_ops *ops,
					    unsigned long iova)
{
	struct arm_lpae_pt *p = arm_lpae_pt_ops(ops);
	struct pt_iommu *pt = &p->table.iommu;

	if (!arm_lpae_pt_in(p, &iova))
		return 0;
	return pt->ops->iova_to_phys(pt, iova);
}

static int arm_lpae_pt_read_and_clear_dirty(struct io_pgtable_ops *ops,
					    unsigned long iova, size_t size,
					    unsigned long flags,
					    struct iommu_dirty_bitmap *dirty)
{
	struct arm_lpae_pt *p = arm_lpae_pt_ops(ops);
	struct pt_iommu *pt = &p->table.iommu;

	/* As io-pgtable-arm: the lower half only, TTBR1 or not. */
	if (WARN_ON(!size) || p->iop.fmt != ARM_64_LPAE_S1 ||
	    WARN_ON((iova + size - 1) & ~(BIT_ULL(p->ias) - 1)))
		return -EINVAL;
	/* As io-pgtable-arm: without HD no leaf is dirty. */
	if (!(p->iop.cfg.quirks & IO_PGTABLE_QUIRK_ARM_HD))
		return 0;
	return pt->ops->read_and_clear_dirty(pt, iova, size, flags, dirty);
}

/**
 * arm_lpae_pt_alloc() - Build an LPAE table with generic_pt
 * @cfg: the configuration io-pgtable-arm checked and restricted
 * @stage2: stage 2 format
 * @levels: levels io-pgtable-arm computed, after concatenation
 * @pgd_bits: log2 of the entries io-pgtable-arm computed for the start table
 * @pgd_pa: the start table's physical address, for TTBR or VTTBR
 *
 * Return: the io_pgtable, or NULL if the library cannot build this table
 * (an error is logged if it disagrees with io-pgtable-arm on its shape).
 */
struct io_pgtable *arm_lpae_pt_alloc(struct io_pgtable_cfg *cfg, bool stage2,
				     unsigned int levels, unsigned int pgd_bits,
				     phys_addr_t *pgd_pa)
{
	struct pt_iommu_armv8_cfg pcfg = {
		.granule_lg2 = __ffs(cfg->pgsize_bitmap),
		.ias = cfg->ias,
		.oas = cfg->oas,
		.stage2 = stage2,
		.ns = cfg->quirks & IO_PGTABLE_QUIRK_ARM_NS,
		.outer_wbwa = cfg->quirks & IO_PGTABLE_QUIRK_ARM_OUTER_WBWA,
	};
	unsigned int flags = PT_FLAG_SPLIT;
	struct arm_lpae_pt *p;
	struct pt_iommu *pt;
	int nid = NUMA_NO_NODE;

	if (!cfg->coherent_walk)
		flags |= PT_FLAG_INCOHERENT;
	if (cfg->quirks & IO_PGTABLE_QUIRK_ARM_HD)
		flags |= PT_FLAG_DIRTY;
	if (cfg->iommu_dev)
		nid = dev_to_node(cfg->iommu_dev);

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	p->ias = cfg->ias;
	p->ttbr1 = cfg->quirks & IO_PGTABLE_QUIRK_ARM_TTBR1;
	pt = &p->table.iommu;
	pt->iommu_device = cfg->iommu_dev;
	pt->driver_ops = &arm_lpae_pt_driver_ops;
	if (pt_iommu_armv8_init(&p->table, &pcfg, flags, nid, GFP_KERNEL))
		goto err_free;
	if (p->table.levels != levels || p->table.top_items_lg2 != pgd_bits) {
		pr_err("generic_pt: %u levels, start table 2^%u, not %u, 2^%u\n",
		       p->table.levels, p->table.top_items_lg2, levels,
		       pgd_bits);
		goto err_deinit;
	}
	/* Sizes the table cannot hold (a 4 TiB block below 43 bits) go. */
	pt->pgsize_bitmap &= cfg->pgsize_bitmap;
	cfg->pgsize_bitmap = pt->pgsize_bitmap;

	p->iop.ops = (struct io_pgtable_ops) {
		.map_pages = arm_lpae_pt_map_pages,
		.unmap_pages = arm_lpae_pt_unmap_pages,
		.iova_to_phys = arm_lpae_pt_iova_to_phys,
		.read_and_clear_dirty = arm_lpae_pt_read_and_clear_dirty,
	};
	/* The empty start table before any TTBR write. */
	wmb();
	*pgd_pa = pt_iommu_top_pa(pt);
	atomic_long_inc(&arm_lpae_pt_live);
	return &p->iop;

err_deinit:
	pt->ops->deinit(pt);
err_free:
	kfree(p);
	return NULL;
}

/**
 * arm_lpae_pt_free() - Free an io_pgtable if generic_pt built it
 * @iop: an LPAE io_pgtable
 *
 * Return: true if it was one of ours and is freed.
 */
bool arm_lpae_pt_free(struct io_pgtable *iop)
{
	struct arm_lpae_pt *p;

	if (iop->ops.map_pages != arm_lpae_pt_map_pages)
		return false;
	p = container_of(iop, struct arm_lpae_pt, iop);
	p->table.iommu.ops->deinit(&p->table.iommu);
	kfree(p);
	atomic_long_dec(&arm_lpae_pt_live);
	return true;
}

/**
 * arm_lpae_pt_owns() - Whether generic_pt built an io_pgtable's tables
 * @ops: the io_pgtable's operations
 *
 * Return: true for an LPAE table built by generic_pt.
 */
bool arm_lpae_pt_owns(struct io_pgtable_ops *ops)
{
	return ops->map_pages == arm_lpae_pt_map_pages;
}
EXPORT_SYMBOL_GPL(arm_lpae_pt_owns);
