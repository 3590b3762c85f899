// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the generic page table, AMD IOMMU v1 format.
 */
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/pci.h>
#include <linux/sizes.h>

#include "amdv1.h"

struct pt_test_amdv1 {
	struct pt_iommu_amdv1_cfg cfg;
	unsigned int flags;
};

#define PT_CFG	struct pt_test_amdv1

static const struct pt_test_amdv1 pt_test_cfgs[] = {
	{ { .va_lg2 = 52, .start_level = 2 } },
	{ { .va_lg2 = 64, .start_level = 0 } },
};

static void pt_test_cfg_name(const struct pt_test_amdv1 *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "va%u-start%u", c->cfg.va_lg2,
		 c->cfg.start_level);
}

static int pt_test_init(struct pt_iommu_amdv1 *t,
			const struct pt_test_amdv1 *c)
{
	return pt_iommu_amdv1_init(t, &c->cfg, c->flags, NUMA_NO_NODE,
				   GFP_KERNEL);
}

#if IS_ENABLED(CONFIG_AMD_IOMMU)
#define PT_TEST_DIFFERENTIAL
#endif
#include "../pt_kunit.h"
#include "../pt_old.h"

static bool pt_test_priv_moot(struct pt_test *pt_t)
{
	return true;
}

static bool pt_test_dirty_ok(struct pt_test *pt_t)
{
	return true;
}

/* What the IOMMU does on a write: set HD in the entry it wrote through. */
static void pt_test_make_dirty(struct pt_test *pt_t, unsigned long iova)
{
	u64 *ptep = pt_test_leaf_ptep(pt_t, iova);

	KUNIT_ASSERT_NOT_NULL(kunit_get_current_test(), ptep);
	*ptep |= AMDV1_PTE_HD;
}

/*
 * The top grows, through the driver's change_top, as far as a mapping
 * needs and no further; mappings made before stay.
 */
static void pt_test_amdv1_grow(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct pt_iommu *pt = pt_t->pt;
	unsigned int start = pt_t->cfg->cfg.start_level;
	size_t mapped;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 0, SZ_1M, SZ_4K, IOMMU_READ,
					  &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), start);
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 1UL << 40, SZ_2M, SZ_4K,
					  IOMMU_READ, &mapped), 0);
	/* Level 3 spans 2^48: the smallest top that reaches 2^40. */
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), 3);
	KUNIT_EXPECT_EQ(test, pt_t->top_changes, 3 - start);
	/* A 2^40 leaf needs a top at level 3 at least (it is one already). */
	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 1UL << 41, 1UL << 41,
					  1UL << 40, IOMMU_READ, &mapped), 0);
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), 3);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, 0x123), SZ_1M + 0x123);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, (1UL << 40) + 8),
			SZ_2M + 8);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, (1UL << 41) + SZ_1G),
			(1UL << 41) + SZ_1G);
	if (pt->va_lg2 == 64) {
		KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, ULONG_MAX - SZ_4K + 1,
						  0, SZ_4K, IOMMU_READ,
						  &mapped), 0);
		KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), 5);
	}
	pt_test_finish(test, pt_t);
}

/*
 * A sized leaf is dirty when any replica is (the IOMMU sets HD only in the
 * one it wrote through): the whole leaf is recorded once, and every
 * replica is clean afterwards.
 */
static void pt_test_amdv1_dirty_replica(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty = { .gather = &gather };
	unsigned long iova = SZ_64K;
	size_t mapped;
	u64 *ptep;
	int i;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, iova, SZ_1M, SZ_16K,
					  IOMMU_READ | IOMMU_WRITE, &mapped), 0);
	ptep = pt_test_leaf_ptep(pt_t, iova);
	KUNIT_ASSERT_NOT_NULL(test, ptep);
	KUNIT_ASSERT_EQ(test, pt_fmt_leaf_lg2(&pt_t->table, 0, *ptep), 14);
	/* The third replica only. */
	ptep[2] |= AMDV1_PTE_HD;
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, SZ_1M, 0,
							    &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, iova);
	KUNIT_EXPECT_EQ(test, gather.end, iova + SZ_16K - 1);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_FALSE(test, ptep[i] & AMDV1_PTE_HD);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, SZ_1M, 0,
							    &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, iova, SZ_16K), SZ_16K);
	pt_test_finish(test, pt_t);
}

/*
 * The configured width allows IOVAs above what the top spans today: they
 * map nothing, and no walk may mask one into the top's index, where it
 * would alias a low IOVA. A dirty read that runs past the top's end stops
 * there.
 */
static void pt_test_amdv1_above_top(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty = { .gather = &gather };
	unsigned int level;
	unsigned long above;
	size_t mapped;

	KUNIT_ASSERT_EQ(test, pt_test_map(pt_t, 0, SZ_1M, SZ_4K,
					  IOMMU_READ | IOMMU_WRITE, &mapped), 0);
	level = pt_iommu_top_level(pt);
	above = 1UL << PT_FN(span_lg2)(&pt_t->table, level, level);
	KUNIT_ASSERT_LT(test, above - 1, 1UL << (pt->va_lg2 - 1));
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, above), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, above + 0x123), 0);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, above, SZ_4K), 0);
	KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, 0x123), SZ_1M + 0x123);

	pt_test_make_dirty(pt_t, 0);
	iommu_iotlb_gather_init(&gather);
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, above, SZ_4K,
							    0, &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, ULONG_MAX);
	/* From IOVA 0 to past the top's end: IOVA 0's leaf only. */
	KUNIT_EXPECT_EQ(test, pt->ops->read_and_clear_dirty(pt, 0, 2 * above,
							    0, &dirty), 0);
	KUNIT_EXPECT_EQ(test, gather.start, 0);
	KUNIT_EXPECT_EQ(test, gather.end, SZ_4K - 1);
	KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), level);
	KUNIT_EXPECT_EQ(test, pt_test_unmap_free(pt_t, 0, SZ_4K), SZ_4K);
	pt_test_finish(test, pt_t);
}

#define PT_GROW_RACE_RUNS	100

struct pt_test_grow_racer {
	struct pt_iommu *pt;
	struct completion *go;
	struct completion done;
	unsigned long iova;
	size_t size;
	bool wait;		/* map once the top is above @level */
	unsigned int level;
	int ret;
};

static int pt_test_grow_racer(void *arg)
{
	struct pt_test_grow_racer *r = arg;
	unsigned long until = jiffies + HZ;
	size_t mapped = 0;

	wait_for_completion(r->go);
	while (r->wait && pt_iommu_top_level(r->pt) <= r->level &&
	       time_before(jiffies, until))
		cpu_relax();
	r->ret = r->pt->ops->map_pages(r->pt, r->iova, r->iova, r->size, 1,
				       IOMMU_READ | IOMMU_WRITE, GFP_KERNEL,
				       &mapped);
	if (!r->ret && mapped != r->size)
		r->ret = -EIO;
	complete(&r->done);
	return 0;
}

/*
 * A map that grows the top frees the old top if it is empty, while another
 * thread, which saw the new top, maps one leaf over the old top's whole
 * span at IOVA 0 and so replaces the old top too: exactly one of them may
 * unlink it, and both maps succeed. Run many times on a new table each.
 */
static void pt_test_amdv1_grow_race(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, false);
	struct pt_iommu *pt = pt_t->pt;
	struct pt_test_grow_racer r[2];
	struct completion go;
	unsigned int i, k, level, span;

	level = pt_iommu_top_level(pt);
	span = PT_FN(span_lg2)(&pt_t->table, level, level);
	if (!(pt->pgsize_bitmap & (1UL << span))) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "no leaf of the top's span");
	}
	if (!pt_test_reclaims(pt_t)) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "tables are fragments: none freed when empty");
	}
	for (i = 0; i < PT_GROW_RACE_RUNS; i++) {
		if (i) {
			pt->ops->deinit(pt);
			KUNIT_ASSERT_EQ(test, pt_test_init(&pt_t->table,
							   pt_t->cfg), 0);
		}
		pt->driver_ops = &pt_test_unlink_ops;
		level = pt_iommu_top_level(pt);
		span = PT_FN(span_lg2)(&pt_t->table, level, level);
		init_completion(&go);
		/* [1] grows the top; [0] maps the old top's span once it has */
		r[0] = (struct pt_test_grow_racer){ .pt = pt, .go = &go,
			.iova = 0, .size = 1UL << span, .wait = true,
			.level = level };
		r[1] = (struct pt_test_grow_racer){ .pt = pt, .go = &go,
			.iova = 1UL << span, .size = SZ_4K };
		for (k = 0; k < 2; k++) {
			struct task_struct *task;

			init_completion(&r[k].done);
			task = kthread_run(pt_test_grow_racer, &r[k],
					   "pt-grow/%u", k);
			if (IS_ERR(task)) {
				r[k].ret = PTR_ERR(task);
				complete(&r[k].done);
			}
		}
		complete_all(&go);
		for (k = 0; k < 2; k++) {
			wait_for_completion(&r[k].done);
			KUNIT_EXPECT_EQ_MSG(test, r[k].ret, 0, "run %u map %u",
					    i, k);
		}
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, 0x123), 0x123);
		KUNIT_EXPECT_EQ(test, pt->ops->iova_to_phys(pt, r[1].iova),
				r[1].iova);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).leaves, 2);
		/* the old top is gone; [1]'s leaf has one table per level */
		KUNIT_EXPECT_EQ(test, pt_iommu_top_level(pt), level + 1);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, level + 1);
		KUNIT_EXPECT_EQ(test, pt->ops->unmap_pages(pt, 0, 1UL << span,
							   1, NULL),
				1UL << span);
		KUNIT_EXPECT_EQ(test, pt->ops->unmap_pages(pt, r[1].iova,
							   SZ_4K, 1, NULL),
				SZ_4K);
		KUNIT_EXPECT_EQ(test, pt_test_count(pt_t).tables, 0);
		if (test->status == KUNIT_FAILURE)
			break;
	}
	pt->driver_ops = NULL;
	pt_test_finish(test, pt_t);
}

#if IS_ENABLED(CONFIG_AMD_IOMMU)
static u64 *pt_diff_amdv1_top(struct pt_test_diff *d, unsigned int *level)
{
	struct protection_domain *pdom = d->priv;

	*level = pdom->iop.mode - 1;
	return pdom->iop.root;
}

/*
 * Against the 6.12 AMD v1 code (pt_old.h). It never frees tables on unmap,
 * so both unmap without a gather here.
 */
static void pt_test_amdv1_differential(struct kunit *test)
{
	struct pt_test *pt_t = pt_test_setup(test, true);
	struct protection_domain *pdom;
	struct pt_test_diff d = {
		.pt_t = pt_t,
		.top = pt_diff_amdv1_top,
		.prot = IOMMU_READ | IOMMU_WRITE,
	};

	if (pt_t->cfg->cfg.start_level != 2) {
		pt_test_finish(test, pt_t);
		kunit_skip(test, "6.12 starts with three levels");
	}
	d.ops = pt_old_amdv1_alloc(test, &pdom);
	KUNIT_ASSERT_NOT_NULL(test, d.ops);
	d.priv = pdom;
	/* As the driver's glue: amd_iommu=nohugepages restricts both alike. */
	pt_t->pt->pgsize_bitmap &= pdom->iop.pgtbl.cfg.pgsize_bitmap;
	KUNIT_ASSERT_EQ(test, pdom->iop.pgtbl.cfg.pgsize_bitmap,
			pt_t->pt->pgsize_bitmap);
	pt_test_differential(test, &d);
	free_io_pgtable_ops(d.ops);
	pt_test_finish(test, pt_t);
}
#endif

#if IS_ENABLED(CONFIG_AMD_IOMMU_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
/* QEMU's pci-testdev: no driver binds it, so a test may attach it. */
#define PT_TEST_PCI_TESTDEV	0x0005
/* Scattered maps: 2048 of 4 KiB, 1 GiB apart, two tables each. */
#define PT_DOM_MAPS		2048
#define PT_DOM_STRIDE		30
/* and one at the top of the 64-bit aperture: six levels */
#define PT_DOM_TOP		(~0UL & PAGE_MASK)
/* 2M of IOVA beside the maps of region 5, to 2M of PA (never accessed) */
#define PT_DOM_2M		(5UL * SZ_1G + SZ_4M)
#define PT_DOM_2M_PA		(64UL * SZ_2M)

/* NR_IOMMU_PAGES once the RCU frees queued so far are done. */
static long pt_dom_pages(void)
{
	rcu_barrier();
	rcu_barrier();
	return pt_test_nr_pages();
}

static unsigned long pt_dom_iova(unsigned int i)
{
	return ((unsigned long)i << PT_DOM_STRIDE) | ((i * 7UL % 512) << 12);
}

/*
 * The DTE of @dev names the top of @dom's table and its levels: the root
 * and mode the driver keeps, and with generic_pt the library's own top.
 */
static void pt_dom_expect_dte(struct kunit *test, struct device *dev,
			      struct iommu_domain *dom, unsigned int levels)
{
	struct protection_domain *pdom = to_pdomain(dom);
	struct pt_iommu *pt = amd_pt_v1_of_domain(dom);
	unsigned int mode;
	phys_addr_t root = amd_iommu_dte_root(dev, &mode);

	KUNIT_EXPECT_EQ(test, mode, levels);
	KUNIT_EXPECT_EQ(test, mode, pdom->iop.mode);
	KUNIT_EXPECT_EQ(test, root, virt_to_phys(pdom->iop.root));
	if (pt) {
		KUNIT_EXPECT_EQ(test, root, pt_iommu_top_pa(pt));
		KUNIT_EXPECT_EQ(test, mode, pt_iommu_top_level(pt) + 1);
	}
}

/*
 * A 2M map through the IOMMU core is one 2M leaf, or 512 of 4K where the
 * driver allows only 4K (amd_iommu=nohugepages), on generic_pt as on 6.12.
 */
static void pt_dom_sizes(struct kunit *test, struct iommu_domain *dom)
{
	struct pt_iommu *pt = amd_pt_v1_of_domain(dom);
	bool huge = dom->pgsize_bitmap & SZ_2M;
	struct pt_iommu_stats *st;

	KUNIT_EXPECT_EQ(test, dom->pgsize_bitmap & SZ_4K, SZ_4K);
	if (iommu_map(dom, PT_DOM_2M, PT_DOM_2M_PA, SZ_2M,
		      IOMMU_READ | IOMMU_WRITE, GFP_KERNEL)) {
		KUNIT_FAIL(test, "map of 2M at %#lx", PT_DOM_2M);
		return;
	}
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, PT_DOM_2M + SZ_1M),
			PT_DOM_2M_PA + SZ_1M);
	st = pt ? kunit_kzalloc(test, sizeof(*st), GFP_KERNEL) : NULL;
	KUNIT_EXPECT_TRUE(test, !pt || st);
	if (st) {
		pt->ops->stats(pt, st);
		KUNIT_EXPECT_EQ(test, st->leaves[21], huge ? 1 : 0);
		KUNIT_EXPECT_EQ(test, st->leaves[12], huge ? 0 : 512);
		KUNIT_EXPECT_EQ(test, st->mapped, SZ_2M);
	}
	KUNIT_EXPECT_EQ(test, iommu_unmap(dom, PT_DOM_2M, SZ_2M), SZ_2M);
}

struct pt_dom_run {
	struct iommu_domain *dom;
	long top, empty, mapped, unmapped;
};

/*
 * With @dev attached to @r->dom: scattered maps through the IOMMU core
 * that grow the table from three levels to four and then six, the DTE
 * checked after each growth, every map checked and unmapped in another
 * order; table memory after each phase.
 */
static void pt_dom_run(struct kunit *test, struct pt_dom_run *r,
		       struct device *dev, phys_addr_t pa)
{
	struct iommu_domain *dom = r->dom;
	unsigned int i, j, done;
	int ret;

	/* the test owns the device's DMA: no assert until it is detached */
	ret = iommu_attach_device(dom, dev);
	if (ret) {
		KUNIT_FAIL(test, "attach: %d", ret);
		return;
	}
	r->empty = pt_dom_pages();
	pt_dom_expect_dte(test, dev, dom, 3);
	/* Refused as 6.12 refuses it, leaving nothing behind. */
	KUNIT_EXPECT_EQ(test, iommu_map(dom, 0, pa, SZ_4K, 0, GFP_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, 0), 0);
	for (done = 0; done < PT_DOM_MAPS; done++) {
		ret = iommu_map(dom, pt_dom_iova(done), pa, SZ_4K,
				IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
		if (ret) {
			KUNIT_FAIL(test, "map %u at %#lx: %d", done,
				   pt_dom_iova(done), ret);
			break;
		}
	}
	pt_dom_expect_dte(test, dev, dom, 4);
	KUNIT_EXPECT_EQ(test, iommu_map(dom, PT_DOM_TOP, pa, SZ_4K,
					IOMMU_READ, GFP_KERNEL), 0);
	pt_dom_expect_dte(test, dev, dom, 6);
	r->mapped = pt_dom_pages();
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, PT_DOM_TOP), pa);
	KUNIT_EXPECT_EQ(test, iommu_unmap(dom, PT_DOM_TOP, SZ_4K), SZ_4K);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, PT_DOM_TOP), 0);
	/* a power of two: an odd step visits every map once */
	for (i = 0; i < PT_DOM_MAPS; i++) {
		j = (i * 1031U) & (PT_DOM_MAPS - 1);
		if (j >= done)
			continue;
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, pt_dom_iova(j)),
				pa);
		KUNIT_EXPECT_EQ(test, iommu_unmap(dom, pt_dom_iova(j), SZ_4K),
				SZ_4K);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, pt_dom_iova(j)),
				0);
	}
	r->unmapped = pt_dom_pages();
	/* the top stays where the growths left it */
	pt_dom_expect_dte(test, dev, dom, 6);
	pt_dom_sizes(test, dom);
	/* IOVA 0 to PA 0 is a mapping like any other */
	KUNIT_EXPECT_EQ(test, iommu_map(dom, 0, 0, SZ_4K,
					IOMMU_READ | IOMMU_WRITE, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, 0x10), 0x10);
	KUNIT_EXPECT_EQ(test, iommu_unmap(dom, 0, SZ_4K), SZ_4K);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(dom, 0x10), 0);
	iommu_detach_device(dom, dev);
}

/*
 * Real paging domains of the AMD IOMMU, one on generic_pt and one on the
 * 6.12 code, the pci-testdev attached to each in turn: the DTE follows
 * every growth of the top, both build the same tables, and generic_pt
 * gives back every table the unmaps emptied while 6.12 keeps them all.
 */
static void pt_test_amdv1_domains(struct kunit *test)
{
	const long kib = PAGE_SIZE / SZ_1K;
	struct pt_dom_run r[2] = {};
	struct pci_dev *pdev;
	struct page *page;
	long before, pages;
	unsigned int k;
	bool was;

	pdev = pci_get_device(PCI_VENDOR_ID_REDHAT, PT_TEST_PCI_TESTDEV, NULL);
	if (!pdev || !device_iommu_mapped(&pdev->dev)) {
		pci_dev_put(pdev);
		kunit_skip(test, "no pci-testdev behind an IOMMU");
	}
	/* as VFIO does: no driver may bind and use DMA meanwhile */
	if (iommu_device_claim_dma_owner(&pdev->dev, test)) {
		pci_dev_put(pdev);
		kunit_skip(test, "the pci-testdev's DMA is owned elsewhere");
	}
	page = alloc_page(GFP_KERNEL);
	if (!page) {
		iommu_device_release_dma_owner(&pdev->dev);
		pci_dev_put(pdev);
		KUNIT_FAIL(test, "no page");
		return;
	}
	before = pt_dom_pages();
	pages = before;
	/* [0] generic_pt's, [1] the 6.12 code's */
	for (k = 0; k < 2; k++) {
		was = amd_iommu_set_generic_pt(!k);
		r[k].dom = iommu_paging_domain_alloc(&pdev->dev);
		amd_iommu_set_generic_pt(was);
		if (IS_ERR(r[k].dom)) {
			r[k].dom = NULL;
			break;
		}
		r[k].top = pt_dom_pages() - pages;
		pages += r[k].top;
	}
	if (!r[0].dom || !r[1].dom || !amd_pt_v1_of_domain(r[0].dom) ||
	    amd_pt_v1_of_domain(r[1].dom)) {
		for (k = 0; k < 2; k++)
			if (r[k].dom)
				iommu_domain_free(r[k].dom);
		__free_page(page);
		iommu_device_release_dma_owner(&pdev->dev);
		pci_dev_put(pdev);
		kunit_skip(test, "not an AMD IOMMU with v1 tables");
	}
	KUNIT_EXPECT_EQ(test, r[0].dom->pgsize_bitmap, r[1].dom->pgsize_bitmap);
	for (k = 0; k < 2; k++)
		pt_dom_run(test, &r[k], &pdev->dev, page_to_phys(page));
	for (k = 0; k < 2; k++)
		iommu_domain_free(r[k].dom);
	iommu_device_release_dma_owner(&pdev->dev);
	/* and each domain's tables went with it */
	KUNIT_EXPECT_EQ(test, pt_dom_pages(), before);
	__free_page(page);
	kunit_info(test, "%s: %u maps of 4 KiB %lu MiB apart and one at %#lx\n",
		   pci_name(pdev), PT_DOM_MAPS, BIT(PT_DOM_STRIDE) / SZ_1M,
		   PT_DOM_TOP);
	for (k = 0; k < 2; k++)
		kunit_info(test, "%-10s table KiB: empty domain %ld, after the maps %ld, after the unmaps %ld\n",
			   k ? "6.12 code" : "generic_pt", r[k].top * kib,
			   (r[k].top + r[k].mapped - r[k].empty) * kib,
			   (r[k].top + r[k].unmapped - r[k].empty) * kib);
	/* the same tables built, two at least per map */
	KUNIT_EXPECT_EQ(test, r[0].mapped - r[0].empty,
			r[1].mapped - r[1].empty);
	KUNIT_EXPECT_GE(test, r[0].mapped - r[0].empty, 2L * PT_DOM_MAPS);
	/* generic_pt gives every one back (unless told to keep), 6.12 none */
	KUNIT_EXPECT_EQ(test, r[0].unmapped,
			pt_keep_tables() ? r[0].mapped : r[0].empty);
	KUNIT_EXPECT_EQ(test, r[1].unmapped, r[1].mapped);
	pci_dev_put(pdev);
}
#endif

static struct kunit_case pt_test_amdv1_cases[] = {
	KUNIT_CASE_PARAM(pt_test_amdv1_grow, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_amdv1_dirty_replica, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_amdv1_above_top, pt_test_cfg_gen_params),
	KUNIT_CASE_PARAM(pt_test_amdv1_grow_race, pt_test_cfg_gen_params),
#if IS_ENABLED(CONFIG_AMD_IOMMU)
	KUNIT_CASE_PARAM(pt_test_amdv1_differential, pt_test_cfg_gen_params),
#endif
#if IS_ENABLED(CONFIG_AMD_IOMMU_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
	KUNIT_CASE(pt_test_amdv1_domains),
#endif
	{}
};

static struct kunit_suite pt_test_generic_suite = {
	.name = "generic-pt-amdv1",
	.test_cases = pt_test_generic_cases,
};

static struct kunit_suite pt_test_amdv1_suite = {
	.name = "generic-pt-amdv1-format",
	.test_cases = pt_test_amdv1_cases,
};

kunit_test_suites(&pt_test_generic_suite, &pt_test_amdv1_suite);

MODULE_DESCRIPTION("KUnit tests of the generic page table, AMD v1 format");
MODULE_LICENSE("GPL");
