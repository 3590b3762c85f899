// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the generic page table, ARM VMSAv8 LPAE format, and a
 * differential test against io-pgtable-arm.
 */
#include <linux/dma-mapping.h>
#include <linux/io-pgtable.h>
#include <linux/pci.h>
#include <kunit/device.h>
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/sizes.h>

#include "armv8.h"

struct pt_test_armv8 {
	struct pt_iommu_armv8_cfg cfg;
	unsigned int flags;
};

#define PT_CFG	struct pt_test_armv8

static const struct pt_test_armv8 pt_test_cfgs[] = {
	{ { .granule_lg2 = 12, .ias = 48, .oas = 48 } },
	{ { .granule_lg2 = 12, .ias = 39, .oas = 40, .ns = true } },
	{ { .granule_lg2 = 12, .ias = 32, .oas = 40 } },
	{ { .granule_lg2 = 12, .ias = 48, .oas = 48 }, PT_FLAG_DIRTY },
	{ { .granule_lg2 = 12, .ias = 48, .oas = 48 }, PT_FLAG_INCOHERENT },
	{ { .granule_lg2 = 12, .ias = 40, .oas = 44, .stage2 = true } },
	{ { .granule_lg2 = 14, .ias = 47, .oas = 48 } },
	{ { .granule_lg2 = 14, .ias = 40, .oas = 40, .stage2 = true } },
	{ { .granule_lg2 = 16, .ias = 48, .oas = 48 } },
	{ { .granule_lg2 = 16, .ias = 52, .oas = 52 } },
	{ { .granule_lg2 = 16, .ias = 42, .oas = 48, .stage2 = true } },
};

static void pt_test_cfg_name(const struct pt_test_armv8 *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%uK-s%u-ias%u-oas%u%s%s%s",
		 1U << (c->cfg.granule_lg2 - 10), c->cfg.stage2 ? 2 : 1,
		 c->cfg.ias, c->cfg.oas, c->cfg.ns ? "-ns" : "",
		 (c->flags & PT_FLAG_DIRTY) ? "-hd" : "",
		 (c->flags & PT_FLAG_INCOHERENT) ? "-incoherent" : "");
}

static int pt_test_init(struct pt_iommu_armv8 *t,
			const struct pt_test_armv8 *c)
{
	return pt_iommu_armv8_init(t, &c->cfg, c->flags, NUMA_NO_NODE,
				   GFP_KERNEL);
}

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
#define PT_TEST_DIFFERENTIAL
#endif
#include "../pt_kunit.h"
#include "../pt_old.h"

static bool pt_test_priv_moot(struct pt_test *pt_t)
{
	return pt_t->cfg->cfg.stage2;
}

static bool pt_test_dirty_ok(struct pt_test *pt_t)
{
	return pt_t->cfg->flags & PT_FLAG_DIRTY;
}

/* What an SMMU with HTTU does on a write to a DBM page: clear AP[2]. */
static void pt_test_make_dirty(struct pt_test *pt_t, unsigned long iova)
{
	u64 *ptep = pt_test_leaf_ptep(pt_t, iova);

	KUNIT_ASSERT_NOT_NULL(kunit_get_current_test(), ptep);
	KUNIT_EXPECT_TRUE(kunit_get_current_test(), *ptep & ARMV8_PTE_DBM);
	*ptep &= ~ARMV8_PTE_AP_RDONLY;
}

/* Bad configurations are refused. */
static void pt_test_armv8_bad_cfg(struct kunit *test)
{
	static const struct pt_iommu_armv8_cfg bad[] = {
		{ .granule_lg2 = 13, .ias = 48, .oas = 48 },
		{ .granule_lg2 = 12, .ias = 49, .oas = 48 },
		{ .granule_lg2 = 12, .ias = 48, .oas = 52 },
		{ .granule_lg2 = 12, .ias = 12, .oas = 48 },
		{ .granule_lg2 = 12, .ias = 40, .oas = 40, .stage2 = true,
		  .ns = true },
	};
	unsigned long nr = pt_test_nr_pages();
	struct pt_iommu_armv8 t = {};
	struct pt_iommu_armv8_cfg s2 = {
		.granule_lg2 = 12, .ias = 40, .oas = 40, .stage2 = true };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ(test,
				pt_iommu_armv8_init(&t, &bad[i], 0, NUMA_NO_NODE,
						    GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			pt_iommu_armv8_init(&t, &s2, PT_FLAG_DIRTY, NUMA_NO_NODE,
					    GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			pt_iommu_armv8_init(&t, &s2, 0, NUMA_NO_NODE,
					    GFP_KERNEL | __GFP_HIGHMEM),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pt_test_nr_pages(), nr);
}

/*
 * Clearing the dirty state races an unmap (read_and_clear_dirty may run at
 * any time): an entry emptied after the walk read it stays empty, a clean
 * or read-only leaf is left alone, a dirty one is write-protected again.
 */
static void pt_test_armv8_clear_dirty(struct kunit *test)
{
	const struct pt_iommu_armv8 t = { .granule_lg2 = 12 };
	u64 leaf = 0x40000000ULL | ARMV8_PTE_AF | ARMV8_PTE_TYPE_PAGE |
		   ARMV8_PTE_DBM;
	u64 pte = 0;

	pt_fmt_leaf_clear_dirty(&t, &pte);
	KUNIT_EXPECT_EQ(test, pte, 0);
	pte = leaf | ARMV8_PTE_AP_RDONLY;
	pt_fmt_leaf_clear_dirty(&t, &pte);
	KUNIT_EXPECT_EQ(test, pte, leaf | ARMV8_PTE_AP_RDONLY);
	pte = leaf;
	KUNIT_EXPECT_TRUE(test, pt_fmt_leaf_dirty(&t, pte));
	pt_fmt_leaf_clear_dirty(&t, &pte);
	KUNIT_EXPECT_EQ(test, pte, leaf | ARMV8_PTE_AP_RDONLY);
	KUNIT_EXPECT_FALSE(test, pt_fmt_leaf_dirty(&t, pte));
}

/*
 * The start table is aligned to a granule or a page, whichever is smaller,
 * however few entries it has (4 at 32 bits with 4K, 64 at 48 bits with
 * 64K), as io-pgtable-arm allocates it.
 */
static void pt_test_armv8_top(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	size_t align = min_t(size_t, 1UL << pt_t->table.granule_lg2, PAGE_SIZE);

	KUNIT_EXPECT_EQ(test, pt_iommu_top_pa(pt_t->pt) & (align - 1), 0);
	pt_test_finish(test, pt_t);
}

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
static u64 *pt_diff_armv8_top(struct pt_test_diff *d, unsigned int *level)
{
	struct io_pgtable_cfg *cfg = d->priv;

	*level = pt_iommu_top_level(d->pt_t->pt);
	return phys_to_virt(d->pt_t->cfg->cfg.stage2 ?
			    cfg->arm_lpae_s2_cfg.vttbr :
			    cfg->arm_lpae_s1_cfg.ttbr);
}

/* Against io-pgtable-arm, which frees tables on unmap as we do. */
static void pt_test_armv8_differential(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	const struct pt_test_armv8 *c = pt_t->cfg;
	struct device *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);
	struct io_pgtable_cfg cfg = {
		.pgsize_bitmap = pt_t->pt->pgsize_bitmap,
		.ias = c->cfg.ias,
		.oas = c->cfg.oas,
		.coherent_walk = true,
		.tlb = pt_old_tlb_ops(),
		/* The 6.12 code, whatever this boot builds LPAE tables with. */
		.impl = IO_PGTABLE_IMPL_CLASSIC,
		.quirks = (c->cfg.ns ? IO_PGTABLE_QUIRK_ARM_NS : 0) |
			  ((c->flags & PT_FLAG_DIRTY) ?
			   IO_PGTABLE_QUIRK_ARM_HD : 0),
	};
	struct pt_test_diff d = {
		.pt_t = pt_t,
		.top = pt_diff_armv8_top,
		.priv = &cfg,
		.gather = true,
		.prot = IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | IOMMU_NOEXEC |
			IOMMU_MMIO,
	};

	KUNIT_ASSERT_NOT_NULL(test, dev);
	set_dev_node(dev, NUMA_NO_NODE);
	cfg.iommu_dev = dev;
	/* Incoherent: both sync through the DMA API and mark table entries. */
	if (c->flags & PT_FLAG_INCOHERENT) {
		cfg.coherent_walk = false;
		cfg.iommu_dev = pt_t->pt->iommu_device;
	}
	d.ops = alloc_io_pgtable_ops(c->cfg.stage2 ? ARM_64_LPAE_S2 :
				     ARM_64_LPAE_S1, &cfg, pt_t);
	KUNIT_ASSERT_NOT_NULL(test, d.ops);
	KUNIT_ASSERT_EQ(test, cfg.pgsize_bitmap, pt_t->pt->pgsize_bitmap);
	pt_test_differential(test, &d);
	free_io_pgtable_ops(d.ops);
	pt_test_finish(test, pt_t);
}
#endif

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT)
/* A device the DMA API can sync tables for (incoherent walkers). */
static struct device *pt_test_iop_dev(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "generic-pt-iop");

	KUNIT_ASSERT_FALSE(test, IS_ERR(dev));
	KUNIT_ASSERT_EQ(test, dma_coerce_mask_and_coherent(dev,
							   DMA_BIT_MASK(64)),
			0);
	return dev;
}

static struct io_pgtable_ops *pt_test_iop_alloc(enum io_pgtable_fmt fmt,
						struct io_pgtable_cfg *cfg,
						enum io_pgtable_impl impl,
						void *cookie)
{
	cfg->impl = impl;
	return alloc_io_pgtable_ops(fmt, cfg, cookie);
}

/* One configuration through both: the same answer, the same registers. */
static void pt_test_iop_compare(struct kunit *test, enum io_pgtable_fmt fmt,
				const struct io_pgtable_cfg *base,
				unsigned int *built, unsigned int *refused)
{
	struct io_pgtable_cfg old = *base, new = *base;
	struct io_pgtable_ops *a, *b;
	size_t align;

	a = pt_test_iop_alloc(fmt, &old, IO_PGTABLE_IMPL_CLASSIC, NULL);
	b = pt_test_iop_alloc(fmt, &new, IO_PGTABLE_IMPL_GENERIC_PT, NULL);
	KUNIT_EXPECT_EQ_MSG(test, !a, !b,
			    "fmt %d pgsize %lx ias %u oas %u quirks %lx coherent %d",
			    fmt, base->pgsize_bitmap, base->ias, base->oas,
			    base->quirks, base->coherent_walk);
	if (!a || !b) {
		(*refused)++;
		goto out;
	}
	(*built)++;
	KUNIT_EXPECT_FALSE(test, arm_lpae_pt_owns(a));
	KUNIT_EXPECT_TRUE(test, arm_lpae_pt_owns(b));
	KUNIT_EXPECT_EQ(test, new.ias, old.ias);
	KUNIT_EXPECT_EQ(test, new.oas, old.oas);
	KUNIT_EXPECT_EQ(test, new.pgsize_bitmap,
			old.pgsize_bitmap & GENMASK_ULL(old.ias - 1, 0));
	align = min_t(size_t, 1UL << __ffs(old.pgsize_bitmap), PAGE_SIZE);
	if (fmt == ARM_64_LPAE_S2 || fmt == ARM_32_LPAE_S2) {
		KUNIT_EXPECT_EQ(test, memcmp(&new.arm_lpae_s2_cfg.vtcr,
					     &old.arm_lpae_s2_cfg.vtcr,
					     sizeof(old.arm_lpae_s2_cfg.vtcr)),
				0);
		KUNIT_EXPECT_EQ(test, new.arm_lpae_s2_cfg.vttbr & (align - 1),
				0);
	} else {
		KUNIT_EXPECT_EQ(test, memcmp(&new.arm_lpae_s1_cfg.tcr,
					     &old.arm_lpae_s1_cfg.tcr,
					     sizeof(old.arm_lpae_s1_cfg.tcr)),
				0);
		KUNIT_EXPECT_EQ(test, new.arm_lpae_s1_cfg.mair,
				old.arm_lpae_s1_cfg.mair);
		KUNIT_EXPECT_EQ(test, new.arm_lpae_s1_cfg.ttbr & (align - 1),
				0);
	}
	KUNIT_EXPECT_EQ(test, b->iova_to_phys(b, 0), 0);
out:
	if (a)
		free_io_pgtable_ops(a);
	if (b)
		free_io_pgtable_ops(b);
}

/*
 * Every ARM LPAE format, granule choice, input and output size, quirk and
 * walker coherency: io-pgtable-arm and generic_pt refuse the same
 * configurations and program the same registers (TCR or VTCR, MAIR), the
 * same sizes (less a block the input space cannot hold), and a start table
 * as aligned; generic_pt built the one it says it built.
 */
static void pt_test_iop_registers(struct kunit *test)
{
	static const enum io_pgtable_fmt fmts[] = {
		ARM_64_LPAE_S1, ARM_64_LPAE_S2, ARM_32_LPAE_S1, ARM_32_LPAE_S2,
	};
	static const unsigned long pgsizes[] = {
		SZ_4K | SZ_2M | SZ_1G, SZ_16K | SZ_32M, SZ_64K | SZ_512M,
		SZ_4K | SZ_16K | SZ_64K | SZ_2M | SZ_32M | SZ_512M | SZ_1G,
		SZ_4K, SZ_8K,
	};
	static const unsigned int ias[] = { 32, 39, 40, 48, 52, 56 };
	static const unsigned int oas[] = { 32, 40, 44, 48, 52 };
	static const unsigned long quirks[] = {
		0, IO_PGTABLE_QUIRK_ARM_NS, IO_PGTABLE_QUIRK_ARM_TTBR1,
		IO_PGTABLE_QUIRK_ARM_OUTER_WBWA, IO_PGTABLE_QUIRK_ARM_HD,
		IO_PGTABLE_QUIRK_ARM_NS | IO_PGTABLE_QUIRK_ARM_HD,
		IO_PGTABLE_QUIRK_NO_PERMS,
	};
	const unsigned int all = ARRAY_SIZE(fmts) * ARRAY_SIZE(pgsizes) *
				 ARRAY_SIZE(ias) * ARRAY_SIZE(oas) *
				 ARRAY_SIZE(quirks) * 2;
	struct io_pgtable_cfg cfg = {
		.tlb = pt_old_tlb_ops(),
		.iommu_dev = pt_test_iop_dev(test),
	};
	unsigned long nr = pt_test_nr_pages();
	unsigned int n, built = 0, refused = 0;

	for (n = 0; n < all; n++) {
		unsigned int r = n;

		cfg.coherent_walk = r % 2;
		r /= 2;
		cfg.quirks = quirks[r % ARRAY_SIZE(quirks)];
		r /= ARRAY_SIZE(quirks);
		cfg.oas = oas[r % ARRAY_SIZE(oas)];
		r /= ARRAY_SIZE(oas);
		cfg.ias = ias[r % ARRAY_SIZE(ias)];
		r /= ARRAY_SIZE(ias);
		cfg.pgsize_bitmap = pgsizes[r % ARRAY_SIZE(pgsizes)];
		r /= ARRAY_SIZE(pgsizes);
		pt_test_iop_compare(test, fmts[r], &cfg, &built, &refused);
	}
	kunit_info(test, "%u configurations built by both, %u refused by both\n",
		   built, refused);
	KUNIT_EXPECT_GT(test, built, 500);
	KUNIT_EXPECT_GT(test, refused, 500);
	KUNIT_EXPECT_EQ(test, pt_test_nr_pages(), nr);
}

struct pt_test_tlb {
	unsigned int add_pages;
	unsigned long add_iova;
	size_t add_size;
	unsigned int walks;
	unsigned long walk_iova;
	size_t walk_size, walk_granule;
};

static void pt_test_tlb_all(void *cookie)
{
}

static void pt_test_tlb_walk(unsigned long iova, size_t size, size_t granule,
			     void *cookie)
{
	struct pt_test_tlb *r = cookie;

	r->walks++;
	r->walk_iova = iova;
	r->walk_size = size;
	r->walk_granule = granule;
}

static void pt_test_tlb_add(struct iommu_iotlb_gather *gather,
			    unsigned long iova, size_t granule, void *cookie)
{
	struct pt_test_tlb *r = cookie;

	if (!r->add_pages)
		r->add_iova = iova;
	r->add_pages++;
	r->add_size = granule;
	/* What arm-smmu-v3 does: the gather's range and page size. */
	iommu_iotlb_gather_add_range(gather, iova, granule);
	gather->pgsize = granule;
}

static const struct iommu_flush_ops pt_test_tlb_ops = {
	.tlb_flush_all = pt_test_tlb_all,
	.tlb_flush_walk = pt_test_tlb_walk,
	.tlb_add_page = pt_test_tlb_add,
};

/*
 * The driver's TLB callbacks through io_pgtable_ops, both implementations
 * for what both do alike: a partial unmap splits a block and adds the one
 * page (the gather gets its pgsize, which arm-smmu-v3's iotlb_sync needs),
 * a block unmap adds the block, a queued gather gets nothing; and with
 * TTBR1, upper-half IOVAs. generic_pt alone also frees a table an unmap
 * emptied: after a walk flush of its range.
 */
static void pt_test_iop_tlb(struct kunit *test)
{
	enum io_pgtable_impl impls[] = { IO_PGTABLE_IMPL_CLASSIC,
					 IO_PGTABLE_IMPL_GENERIC_PT };
	struct device *dev = pt_test_iop_dev(test);
	unsigned int n;

	/* Each implementation, with TTBR0 and with TTBR1. */
	for (n = 0; n < 2 * ARRAY_SIZE(impls); n++) {
		unsigned int k = n / 2, ttbr1 = n % 2;
		struct pt_test_tlb *r = kunit_kzalloc(test, sizeof(*r),
						      GFP_KERNEL);
		struct io_pgtable_cfg cfg = {
			.quirks = ttbr1 ? IO_PGTABLE_QUIRK_ARM_TTBR1 : 0,
			.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
			.ias = 48,
			.oas = 48,
			.coherent_walk = true,
			.tlb = &pt_test_tlb_ops,
			.iommu_dev = dev,
		};
		unsigned long hi = ttbr1 ? ~(BIT_ULL(48) - 1) : 0;
		struct iommu_iotlb_gather gather;
		struct io_pgtable_ops *ops;
		size_t mapped = 0;

		KUNIT_ASSERT_NOT_NULL(test, r);
		ops = pt_test_iop_alloc(ARM_64_LPAE_S1, &cfg, impls[k], r);
		KUNIT_ASSERT_NOT_NULL(test, ops);
		KUNIT_EXPECT_EQ(test, arm_lpae_pt_owns(ops), k == 1);

		/* Part of a block: split, one page added. */
		KUNIT_ASSERT_EQ(test, ops->map_pages(ops, hi | SZ_2M, SZ_2M,
						     SZ_2M, 1, IOMMU_READ,
						     GFP_KERNEL, &mapped), 0);
		iommu_iotlb_gather_init(&gather);
		KUNIT_EXPECT_EQ(test, ops->unmap_pages(ops, hi | (SZ_2M + SZ_4K),
						       SZ_4K, 1, &gather),
				SZ_4K);
		KUNIT_EXPECT_EQ(test, r->add_pages, 1);
		KUNIT_EXPECT_EQ(test, r->add_iova, hi | (SZ_2M + SZ_4K));
		KUNIT_EXPECT_EQ(test, r->add_size, SZ_4K);
		KUNIT_EXPECT_EQ(test, gather.pgsize, SZ_4K);
		KUNIT_EXPECT_EQ(test, ops->iova_to_phys(ops, hi | SZ_2M),
				SZ_2M);
		KUNIT_EXPECT_EQ(test, ops->iova_to_phys(ops,
							hi | (SZ_2M + SZ_4K)),
				0);
		KUNIT_EXPECT_EQ(test, ops->iova_to_phys(ops,
							hi | (SZ_4M - 1)),
				SZ_4M - 1);

		/* A block: the block. Queued: nothing. */
		KUNIT_ASSERT_EQ(test, ops->map_pages(ops, hi | SZ_1G, SZ_1G,
						     SZ_2M, 2, IOMMU_READ,
						     GFP_KERNEL, &mapped), 0);
		r->add_pages = 0;
		iommu_iotlb_gather_init(&gather);
		KUNIT_EXPECT_EQ(test, ops->unmap_pages(ops, hi | SZ_1G, SZ_2M,
						       1, &gather), SZ_2M);
		KUNIT_EXPECT_EQ(test, r->add_pages, 1);
		KUNIT_EXPECT_EQ(test, r->add_iova, hi | SZ_1G);
		KUNIT_EXPECT_EQ(test, r->add_size, SZ_2M);
		r->add_pages = 0;
		iommu_iotlb_gather_init(&gather);
		gather.queued = true;
		KUNIT_EXPECT_EQ(test, ops->unmap_pages(ops,
						       hi | (SZ_1G + SZ_2M),
						       SZ_2M, 1, &gather),
				SZ_2M);
		KUNIT_EXPECT_EQ(test, r->add_pages, 0);

		if (k == 1) {
			/*
			 * A table of 4K pages, all unmapped: every page
			 * added, the table freed after a walk flush.
			 */
			KUNIT_ASSERT_EQ(test,
					ops->map_pages(ops, hi | SZ_4M,
						       SZ_4K, SZ_4K, 512,
						       IOMMU_READ, GFP_KERNEL,
						       &mapped), 0);
			r->add_pages = 0;
			r->walks = 0;
			iommu_iotlb_gather_init(&gather);
			KUNIT_EXPECT_EQ(test,
					ops->unmap_pages(ops, hi | SZ_4M,
							 SZ_4K, 512, &gather),
					SZ_2M);
			KUNIT_EXPECT_EQ(test, r->add_pages, 512);
			KUNIT_EXPECT_EQ(test, r->add_iova, hi | SZ_4M);
			KUNIT_EXPECT_EQ(test, r->walks, 1);
			KUNIT_EXPECT_EQ(test, r->walk_iova, hi | SZ_4M);
			KUNIT_EXPECT_EQ(test, r->walk_size, SZ_2M);
			KUNIT_EXPECT_EQ(test, r->walk_granule, SZ_4K);
			KUNIT_EXPECT_TRUE(test,
					  iommu_pages_list_empty(&gather.freelist));
		}
		/* Bad input: the error io-pgtable-arm gives, nothing changed. */
		if (!ttbr1) {
			struct iommu_dirty_bitmap dirty = { .gather = &gather };

			/*
			 * Without HD no leaf is dirty: 0, nothing recorded
			 * (over a mapped range: io-pgtable-arm WARNs at a
			 * hole).
			 */
			KUNIT_ASSERT_EQ(test,
					ops->map_pages(ops, SZ_16M, SZ_16M,
						       SZ_4K, 1,
						       IOMMU_READ | IOMMU_WRITE,
						       GFP_KERNEL, &mapped), 0);
			iommu_iotlb_gather_init(&gather);
			KUNIT_EXPECT_EQ(test,
					ops->read_and_clear_dirty(ops, SZ_16M,
								  SZ_4K, 0,
								  &dirty),
					0);
			KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);
			KUNIT_EXPECT_EQ(test, ops->iova_to_phys(ops, BIT_ULL(48)),
					0);
			KUNIT_EXPECT_EQ(test,
					ops->map_pages(ops, SZ_8M, SZ_8M,
						       SZ_4K, 1, 0, GFP_KERNEL,
						       &mapped), -EINVAL);
		}
		free_io_pgtable_ops(ops);
	}
}
#endif

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
/* Table memory the workload may take on each domain. */
#define PT_STRESS_BYTES		SZ_16M

struct pt_stress {
	struct iommu_domain *dom;
	long top;		/* NR_IOMMU_PAGES the domain took */
	long empty;		/* with the domain, nothing mapped */
	long mapped;		/* after the maps */
	long unmapped;		/* after the unmaps */
};

/* NR_IOMMU_PAGES once the RCU frees queued so far are done. */
static long pt_stress_pages(void)
{
	/* a fragment's callback queues its page's own: two barriers */
	rcu_barrier();
	rcu_barrier();
	return pt_test_nr_pages();
}

/*
 * A paging domain of @dev's IOMMU with LPAE tables from generic_pt (@pt)
 * or io-pgtable-arm; NULL if its driver does not use io-pgtable-arm's
 * LPAE formats (no generic_pt table appeared for @pt).
 */
static struct iommu_domain *pt_stress_domain(struct device *dev, bool pt)
{
	long tables = arm_lpae_pt_live_tables();
	bool was = io_pgtable_arm_set_generic_pt(pt);
	struct iommu_domain *dom = iommu_paging_domain_alloc(dev);

	io_pgtable_arm_set_generic_pt(was);
	if (IS_ERR(dom))
		return NULL;
	if (arm_lpae_pt_live_tables() - tables != pt) {
		iommu_domain_free(dom);
		return NULL;
	}
	return dom;
}

/* The i-th IOVA: region @i of 1 << @stride, an offset of its own inside. */
static unsigned long pt_stress_iova(unsigned int i, unsigned int stride,
				    unsigned int gran_lg2)
{
	unsigned long slots = 1UL << (gran_lg2 - 3);

	return ((unsigned long)i << stride) |
	       ((i * 7UL % slots) << gran_lg2);
}

/*
 * As Tatashin's iova_stress: @n maps of one granule, each in a region of
 * its own, through the IOMMU core, then unmapped in another order; table
 * memory after each phase.
 */
static void pt_stress_run(struct kunit *test, struct pt_stress *s,
			  unsigned int n, unsigned int stride, phys_addr_t pa)
{
	size_t gran = s->dom->pgsize_bitmap & -s->dom->pgsize_bitmap;
	unsigned int g = __ffs(gran), i, j, done;
	unsigned long iova;
	int ret;

	s->empty = pt_stress_pages();
	for (done = 0; done < n; done++) {
		iova = pt_stress_iova(done, stride, g);
		ret = iommu_map(s->dom, iova, pa, gran,
				IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
		if (ret) {
			KUNIT_FAIL(test, "map %u at %#lx: %d", done, iova, ret);
			break;
		}
	}
	s->mapped = pt_stress_pages();
	/* @n is a power of two: an odd step visits every map once */
	for (i = 0; i < n; i++) {
		j = (i * 1031U) & (n - 1);
		if (j >= done)
			continue;
		iova = pt_stress_iova(j, stride, g);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(s->dom, iova), pa);
		KUNIT_EXPECT_EQ(test, iommu_unmap(s->dom, iova, gran), gran);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(s->dom, iova), 0);
	}
	s->unmapped = pt_stress_pages();
}

/*
 * Scattered single-page maps over a large IOVA range on real paging
 * domains of the device's SMMU, then unmapped: with generic_pt the table
 * memory returns exactly to the empty domain's, io-pgtable-arm (as 6.12)
 * keeps every table the maps made. Both build the same tables.
 */
static void pt_test_armv8_iova_stress(struct kunit *test)
{
	const long kib = PAGE_SIZE / SZ_1K;
	unsigned int g, b, ias, stride, n, k;
	struct pt_stress s[2] = {};
	struct pci_dev *pdev = NULL;
	struct page *page = NULL;
	long before, pages;
	size_t gran;

	for_each_pci_dev(pdev)
		if (device_iommu_mapped(&pdev->dev))
			break;
	if (!pdev)
		kunit_skip(test, "no PCI device behind an IOMMU");
	before = pt_stress_pages();
	pages = before;
	/* [0] generic_pt's, [1] io-pgtable-arm's */
	for (k = 0; k < 2; k++) {
		s[k].dom = pt_stress_domain(&pdev->dev, !k);
		s[k].top = pt_stress_pages() - pages;
		pages += s[k].top;
	}
	if (!s[0].dom || !s[1].dom) {
		for (k = 0; k < 2; k++)
			if (s[k].dom)
				iommu_domain_free(s[k].dom);
		pci_dev_put(pdev);
		kunit_skip(test, "its IOMMU does not use io-pgtable-arm LPAE");
	}
	KUNIT_EXPECT_EQ(test, s[0].dom->pgsize_bitmap, s[1].dom->pgsize_bitmap);
	gran = s[0].dom->pgsize_bitmap & -s[0].dom->pgsize_bitmap;
	g = __ffs(gran);
	b = g - 3;
	ias = fls64(s[0].dom->geometry.aperture_end);
	/* two tables per map if the space has room for them, else one */
	stride = g + 2 * b;
	n = rounddown_pow_of_two((PT_STRESS_BYTES >> g) / 2);
	if (((u64)(n - 1) << stride) >> ias) {
		stride = g + b;
		n = rounddown_pow_of_two(PT_STRESS_BYTES >> g);
	}
	if (!(((u64)(n - 1) << stride) >> ias))
		page = alloc_pages(GFP_KERNEL, get_order(gran));
	KUNIT_EXPECT_NOT_NULL_MSG(test, page, "ias %u granule %zu", ias, gran);
	for (k = 0; k < 2 && page; k++)
		pt_stress_run(test, &s[k], n, stride, page_to_phys(page));
	for (k = 0; k < 2; k++)
		iommu_domain_free(s[k].dom);
	/* and each domain's tables went with it */
	KUNIT_EXPECT_EQ(test, pt_stress_pages(), before);
	if (page) {
		long tables = s[0].mapped - s[0].empty;

		__free_pages(page, get_order(gran));
		kunit_info(test, "%s behind %s: granule %zu KiB, ias %u, %u maps of a granule %lu MiB apart\n",
			   pci_name(pdev),
			   dev_name(pdev->dev.iommu->iommu_dev->dev),
			   gran / SZ_1K, ias, n, (1UL << stride) / SZ_1M);
		for (k = 0; k < 2; k++)
			kunit_info(test, "%-14s table KiB: empty domain %ld, after the maps %ld, after the unmaps %ld\n",
				   k ? "io-pgtable-arm" : "generic_pt",
				   s[k].top * kib,
				   (s[k].top + s[k].mapped - s[k].empty) * kib,
				   (s[k].top + s[k].unmapped - s[k].empty) * kib);
		/* the same tables built, one at least per map */
		KUNIT_EXPECT_EQ(test, tables, s[1].mapped - s[1].empty);
		KUNIT_EXPECT_GE(test, tables, (long)n);
		/* generic_pt gives every one back (unless told to keep) */
		KUNIT_EXPECT_EQ(test, s[0].unmapped,
				pt_keep_tables() ? s[0].mapped : s[0].empty);
		KUNIT_EXPECT_EQ(test, s[1].unmapped, s[1].mapped);
	}
	pci_dev_put(pdev);
}
#endif

static struct kunit_case pt_test_armv8_cases[] = {
	KUNIT_CASE(pt_test_armv8_bad_cfg),
	KUNIT_CASE(pt_test_armv8_clear_dirty),
	KUNIT_CASE_PARAM(pt_test_armv8_top, pt_test_cfg_gen_params),
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
	KUNIT_CASE_PARAM(pt_test_armv8_differential, pt_test_cfg_gen_params),
#endif
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT)
	KUNIT_CASE(pt_test_iop_registers),
	KUNIT_CASE(pt_test_iop_tlb),
#endif
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
	KUNIT_CASE(pt_test_armv8_iova_stress),
#endif
	{}
};

static struct kunit_suite pt_test_generic_suite = {
	.name = "generic-pt-armv8",
	.test_cases = pt_test_generic_cases,
};

static struct kunit_suite pt_test_armv8_suite = {
	.name = "generic-pt-armv8-format",
	.test_cases = pt_test_armv8_cases,
};

kunit_test_suites(&pt_test_generic_suite, &pt_test_armv8_suite);

MODULE_DESCRIPTION("KUnit tests of the generic page table, ARM LPAE format");
MODULE_LICENSE("GPL");
