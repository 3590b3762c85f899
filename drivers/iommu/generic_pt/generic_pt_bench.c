// SPDX-License-Identifier: GPL-2.0-only
/*
 * A benchmark, not a test: map and unmap through the generic page table and
 * through the 6.12 implementation of the same format, in one run on one
 * kernel: io-pgtable-arm for ARM LPAE (4K granule, stage 1, 48 bits) and
 * the AMD IOMMU v1 io-pgtable code. Both are called through their ops, as
 * the IOMMU core would with iommu_pgsize()'s page size and count.
 *
 * Each row takes ITERS samples per variant after a warm-up, the variants
 * alternating in ROUNDS rounds so that neither always runs first. A sample
 * is a burst of maps of the row's range at consecutive ranges, then their
 * unmaps, each burst timed as a whole and divided by its length. It prints
 * the minimum and median nanoseconds per operation and new/old ratios of
 * both. It passes unless an operation fails.
 *
 * On arm64 with an SMMUv3, the same rows also go through iommu_map() and
 * iommu_unmap() on two paging domains of the first PCI device behind it,
 * one with io-pgtable-arm's tables and one with generic_pt's
 * (io_pgtable_arm.generic_pt switched for the allocation): the IOMMU core
 * splits the range, the driver flushes its TLB as it does for any domain.
 * On x86 with an AMD IOMMU, likewise with v1 domains on the 6.12 code and
 * on generic_pt (amd_iommu_set_generic_pt()). Beside them, the floor: the
 * same number of entries written with a loop of stores into a table
 * allocated beforehand.
 *
 * The clock is the CPU's cycle counter (get_cycles()), calibrated against
 * ktime_get_ns() once. Under QEMU TCG a ktime_get_ns() pair costs about as
 * much as a one-page map; timing single operations, the ratios moved with
 * the choice of clock by more than the noise. With bursts of 16 both clocks
 * give the same ratios. The header prints what a back-to-back pair of each
 * clock reads. On the command line, generic_pt_bench.ktime=1 times with
 * ktime_get_ns() and generic_pt_bench.burst=N sets the burst.
 */
#include <kunit/test.h>
#include <linux/generic_pt.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timex.h>

#include "pt_common.h"
#include "pt_old.h"

#define ITERS	10000
#define ROUNDS	50
#define WARMUP	200

struct bench_case {
	const char *name;
	size_t pgsize;
	size_t count;
};

static const struct bench_case bench_cases[] = {
	{ "1 x 4K", SZ_4K, 1 },
	{ "1 x 2M", SZ_2M, 1 },
	{ "256 x 4K", SZ_4K, 256 },
	{ "256 x 2M", SZ_2M, 256 },
	{ "1 x 1G", SZ_1G, 1 },
};

/*
 * One implementation under test: generic_pt, an io-pgtable, an IOMMU
 * domain, or the floor (@floor: stores into a table allocated once).
 */
struct bench_impl {
	struct pt_iommu *pt;
	struct io_pgtable_ops *ops;
	struct iommu_domain *dom;
	u64 *floor;
	bool amd;
	u64 *map_ns;
	u64 *unmap_ns;
};

/* ns per cycle, as a 32.32 fixed-point number; 0: use ktime_get_ns(). */
static u64 bench_ns_per_cycle;

static bool ktime;
module_param(ktime, bool, 0444);
MODULE_PARM_DESC(ktime, "time with ktime_get_ns(), not the cycle counter");

static unsigned int burst = 16;
module_param(burst, uint, 0444);
MODULE_PARM_DESC(burst, "operations per timed interval (1 to 64)");

static __always_inline u64 bench_now(void)
{
	return bench_ns_per_cycle ? get_cycles() : ktime_get_ns();
}

static u64 bench_to_ns(u64 delta)
{
	return bench_ns_per_cycle ? (delta * bench_ns_per_cycle) >> 32 : delta;
}

/*
 * Calibrate the cycle counter over 20 ms of ktime, if there is one; once
 * for the suite.
 */
static int bench_clock_init(struct kunit_suite *suite)
{
	u64 c0, c1, t0, t1;

	bench_ns_per_cycle = 0;
	if (ktime)
		return 0;
	c0 = get_cycles();
	t0 = ktime_get_ns();
	do {
		cpu_relax();
		t1 = ktime_get_ns();
	} while (t1 - t0 < 20 * NSEC_PER_MSEC);
	c1 = get_cycles();
	if (c1 > c0)
		bench_ns_per_cycle = div64_u64((t1 - t0) << 32, c1 - c0);
	return 0;
}

#define BENCH_IOVA	SZ_1G
#define BENCH_PA	(2ULL * SZ_1G)

/* The entries a map of the case writes: one per page. */
static void bench_floor_write(struct bench_impl *b, const struct bench_case *c,
			      u64 pte)
{
	size_t j;

	for (j = 0; j < c->count; j++)
		WRITE_ONCE(b->floor[j & 511], pte ? pte + (j << 12) : 0);
}

static int bench_map(struct bench_impl *b, const struct bench_case *c,
		     unsigned long iova, u64 pa, size_t *mapped)
{
	size_t len = c->pgsize * c->count;
	int ret;

	if (b->floor) {
		bench_floor_write(b, c, pa | 3);
		*mapped += len;
		return 0;
	}
	if (b->dom) {
		ret = iommu_map(b->dom, iova, pa, len, IOMMU_READ | IOMMU_WRITE,
				GFP_KERNEL);
		if (!ret)
			*mapped += len;
		return ret;
	}
	if (b->pt)
		return b->pt->ops->map_pages(b->pt, iova, pa, c->pgsize,
					     c->count, IOMMU_READ | IOMMU_WRITE,
					     GFP_KERNEL, mapped);
	return b->ops->map_pages(b->ops, iova, pa, c->pgsize, c->count,
				 IOMMU_READ | IOMMU_WRITE, GFP_KERNEL, mapped);
}

static size_t bench_unmap(struct bench_impl *b, const struct bench_case *c,
			  unsigned long iova,
			  struct iommu_iotlb_gather *gather)
{
	size_t unmapped;

	if (b->floor) {
		bench_floor_write(b, c, 0);
		return c->pgsize * c->count;
	}
	if (b->dom)
		return iommu_unmap(b->dom, iova, c->pgsize * c->count);
	if (b->pt)
		return b->pt->ops->unmap_pages(b->pt, iova, c->pgsize,
					       c->count, gather);
	if (!b->amd)
		return b->ops->unmap_pages(b->ops, iova, c->pgsize, c->count,
					   gather);
	/* As amd_iommu_unmap_pages(): no gather below, then the range. */
	unmapped = b->ops->unmap_pages(b->ops, iova, c->pgsize, c->count,
				       NULL);
	iommu_iotlb_gather_add_range(gather, iova, unmapped);
	return unmapped;
}

/*
 * One sample: @burst maps of the case's range at consecutive ranges, then
 * their unmaps, each burst timed as a whole and divided by @burst.
 */
static int bench_one(struct bench_impl *b, const struct bench_case *c,
		     unsigned int slot)
{
	size_t len = c->pgsize * c->count, mapped = 0, unmapped = 0;
	struct iommu_iotlb_gather gather;
	unsigned int i;
	u64 t0, t1, t2;
	int ret = 0;

	iommu_iotlb_gather_init(&gather);
	t0 = bench_now();
	for (i = 0; i < burst && !ret; i++)
		ret = bench_map(b, c, BENCH_IOVA + i * len, BENCH_PA + i * len,
				&mapped);
	t1 = bench_now();
	for (i = 0; i < burst; i++)
		unmapped += bench_unmap(b, c, BENCH_IOVA + i * len, &gather);
	t2 = bench_now();
	/* a reader of the debugfs report may be walking the table */
	iommu_put_pages_list_rcu(&gather.freelist);
	if (ret || mapped != len * burst || unmapped != mapped)
		return ret ?: -EIO;
	if (slot < ITERS) {
		b->map_ns[slot] = div_u64(bench_to_ns(t1 - t0), burst);
		b->unmap_ns[slot] = div_u64(bench_to_ns(t2 - t1), burst);
	}
	return 0;
}

static int bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void bench_stats(u64 *v, u64 *min, u64 *med)
{
	sort(v, ITERS, sizeof(*v), bench_cmp, NULL);
	*min = v[0];
	*med = v[ITERS / 2];
}

static unsigned int bench_ratio(u64 a, u64 b)
{
	return b ? div64_u64(a * 100, b) : 0;
}

/*
 * Rows for one format: @impl[0] generic_pt, @impl[1] the 6.12 code, and
 * with @floor the floor's minimum and median beside each row.
 */
static void bench_format(struct kunit *test, const char *fmt,
			 struct bench_impl impl[2], u64 sizes,
			 struct bench_impl *floor)
{
	unsigned int i, r, k, n;

	for (i = 0; i < ARRAY_SIZE(bench_cases); i++) {
		const struct bench_case *c = &bench_cases[i];
		char fmap[32] = "", funmap[32] = "";
		u64 st[2][4], fl[4];

		if (!(sizes & c->pgsize))
			continue;
		for (k = 0; k < 2; k++)
			for (n = 0; n < WARMUP; n++)
				KUNIT_ASSERT_EQ(test, bench_one(&impl[k], c,
								ITERS), 0);
		for (r = 0; r < ROUNDS; r++) {
			for (k = 0; k < 2; k++) {
				struct bench_impl *b = &impl[(k + r) & 1];

				for (n = 0; n < ITERS / ROUNDS; n++)
					KUNIT_ASSERT_EQ(test,
							bench_one(b, c, r * (ITERS / ROUNDS) + n),
							0);
				cond_resched();
			}
		}
		for (k = 0; k < 2; k++) {
			bench_stats(impl[k].map_ns, &st[k][0], &st[k][1]);
			bench_stats(impl[k].unmap_ns, &st[k][2], &st[k][3]);
		}
		if (floor) {
			for (n = 0; n < ITERS; n++)
				KUNIT_ASSERT_EQ(test, bench_one(floor, c, n), 0);
			bench_stats(floor->map_ns, &fl[0], &fl[1]);
			bench_stats(floor->unmap_ns, &fl[2], &fl[3]);
			snprintf(fmap, sizeof(fmap), " | %6llu %6llu", fl[0],
				 fl[1]);
			snprintf(funmap, sizeof(funmap), " | %6llu %6llu", fl[2],
				 fl[3]);
		}
		kunit_info(test, "%-5s map   %-8s | %6llu %6llu | %6llu %6llu | %3u%% %3u%%%s\n",
			   fmt, c->name, st[0][0], st[0][1], st[1][0],
			   st[1][1], bench_ratio(st[0][0], st[1][0]),
			   bench_ratio(st[0][1], st[1][1]), fmap);
		kunit_info(test, "%-5s unmap %-8s | %6llu %6llu | %6llu %6llu | %3u%% %3u%%%s\n",
			   fmt, c->name, st[0][2], st[0][3], st[1][2],
			   st[1][3], bench_ratio(st[0][2], st[1][2]),
			   bench_ratio(st[0][3], st[1][3]), funmap);
	}
}

/*
 * A large leaf where a small one was replaces the emptied table; like
 * io-pgtable-arm's tlb_flush_walk below, there is no IOTLB to flush here.
 */
static void bench_flush_walk(struct pt_iommu *pt, unsigned long iova,
			     size_t size)
{
}

static const struct pt_iommu_driver_ops bench_driver_ops = {
	.flush_walk = bench_flush_walk,
};

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE) || IS_ENABLED(CONFIG_AMD_IOMMU)
static void bench_deinit(void *pt)
{
	((struct pt_iommu *)pt)->ops->deinit(pt);
}
#endif

static void bench_alloc_samples(struct kunit *test, struct bench_impl *b)
{
	b->map_ns = kunit_kcalloc(test, ITERS, sizeof(u64), GFP_KERNEL);
	b->unmap_ns = kunit_kcalloc(test, ITERS, sizeof(u64), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->map_ns);
	KUNIT_ASSERT_NOT_NULL(test, b->unmap_ns);
}

/* Min and median of @ITERS back-to-back reads of a clock, in ns. */
static void bench_floor(u64 *buf, bool ktime, u64 *min, u64 *med)
{
	unsigned int n;
	u64 t0;

	for (n = 0; n < ITERS; n++) {
		if (ktime) {
			t0 = ktime_get_ns();
			buf[n] = ktime_get_ns() - t0;
		} else {
			t0 = bench_now();
			buf[n] = bench_to_ns(bench_now() - t0);
		}
	}
	bench_stats(buf, min, med);
}

/* @buf: ITERS samples of scratch space. */
static void bench_header(struct kunit *test, u64 *buf)
{
	u64 kmin, kmed, cmin, cmed;

	KUNIT_ASSERT_TRUE_MSG(test, burst >= 1 && burst <= 64,
			      "generic_pt_bench.burst=%u: must be 1 to 64",
			      burst);
	bench_floor(buf, true, &kmin, &kmed);
	bench_floor(buf, false, &cmin, &cmed);
	kunit_info(test, "clock: %s; empty interval min %llu med %llu ns (ktime_get_ns(): min %llu med %llu)\n",
		   bench_ns_per_cycle ? "cycle counter" : "ktime_get_ns()",
		   cmin, cmed, kmin, kmed);
	kunit_info(test, "ns per operation, %u iterations after %u warm-up, %u rounds, %u per timed burst\n",
		   ITERS, WARMUP, ROUNDS, burst);
	kunit_info(test, "fmt   op    case     | generic_pt    | 6.12          | new/old\n");
	kunit_info(test, "                     |    min    med |    min    med |  min  med\n");
}

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
static void bench_lpae(struct kunit *test)
{
	struct pt_iommu_armv8_cfg pcfg = {
		.granule_lg2 = 12, .ias = 48, .oas = 48 };
	struct device *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);
	struct pt_iommu_armv8 *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct io_pgtable_cfg cfg = {
		.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
		.ias = 48,
		.oas = 48,
		.coherent_walk = true,
		.tlb = pt_old_tlb_ops(),
		.impl = IO_PGTABLE_IMPL_CLASSIC,
	};
	struct bench_impl impl[2] = {};

	KUNIT_ASSERT_NOT_NULL(test, dev);
	KUNIT_ASSERT_NOT_NULL(test, t);
	set_dev_node(dev, NUMA_NO_NODE);
	cfg.iommu_dev = dev;
	t->iommu.driver_ops = &bench_driver_ops;
	KUNIT_ASSERT_EQ(test, pt_iommu_armv8_init(t, &pcfg, 0, NUMA_NO_NODE,
						  GFP_KERNEL), 0);
	/* an assert below must not leave the table in the report */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bench_deinit,
							&t->iommu), 0);
	impl[0].pt = &t->iommu;
	impl[1].ops = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &cfg, NULL);
	KUNIT_ASSERT_NOT_NULL(test, impl[1].ops);
	bench_alloc_samples(test, &impl[0]);
	bench_alloc_samples(test, &impl[1]);
	bench_header(test, impl[0].map_ns);
	bench_format(test, "LPAE", impl, cfg.pgsize_bitmap, NULL);
	free_io_pgtable_ops(impl[1].ops);
}
#endif

#if IS_ENABLED(CONFIG_AMD_IOMMU)
/*
 * The 6.12 AMD v1 code in a device-less domain (pt_old.h), both called
 * through their ops with the row's page size and count: not as the IOMMU
 * core would call them, whose split by AMD's bitmap asks for one 1M page
 * where these rows ask for 256 x 4K. generic_pt then writes one 1M leaf and
 * the 6.12 code 256 4K leaves, so "AMDop" rows compare the two table codes
 * on the same request, not the two drivers; bench_amd_domains ("AMD" rows)
 * does that.
 */
static void bench_amd(struct kunit *test)
{
	struct pt_iommu_amdv1_cfg pcfg = { .va_lg2 = 52, .start_level = 2 };
	struct pt_iommu_amdv1 *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct protection_domain *pdom;
	struct bench_impl impl[2] = {};

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->iommu.driver_ops = &bench_driver_ops;
	KUNIT_ASSERT_EQ(test, pt_iommu_amdv1_init(t, &pcfg, 0, NUMA_NO_NODE,
						  GFP_KERNEL), 0);
	/* an assert below must not leave the table in the report */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bench_deinit,
							&t->iommu), 0);
	impl[0].pt = &t->iommu;
	impl[1].ops = pt_old_amdv1_alloc(test, &pdom);
	impl[1].amd = true;
	KUNIT_ASSERT_NOT_NULL(test, impl[1].ops);
	bench_alloc_samples(test, &impl[0]);
	bench_alloc_samples(test, &impl[1]);
	bench_header(test, impl[0].map_ns);
	bench_format(test, "AMDop", impl, SZ_4K | SZ_2M | SZ_1G, NULL);
	free_io_pgtable_ops(impl[1].ops);
}
#endif

#if (IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT) || \
	IS_ENABLED(CONFIG_AMD_IOMMU_GENERIC_PT)) && IS_ENABLED(CONFIG_PCI)
static void bench_pci_dev_put(void *pdev)
{
	pci_dev_put(pdev);
}

/* The first PCI device behind an IOMMU, held until the test ends; or NULL. */
static struct pci_dev *bench_pci_dev(struct kunit *test)
{
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev)
		if (device_iommu_mapped(&pdev->dev))
			break;
	if (pdev)
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
								bench_pci_dev_put,
								pdev), 0);
	return pdev;
}

/*
 * The rows through iommu_map() and iommu_unmap() on @dom[0] (generic_pt's
 * tables) and @dom[1] (the 6.12 code's), paging domains of @pdev's IOMMU
 * that no device is attached to, with the floor beside each row; then
 * frees both domains.
 */
static void bench_domains(struct kunit *test, const char *fmt,
			  struct pci_dev *pdev, struct iommu_domain *dom[2])
{
	struct bench_impl impl[2] = {}, floor = {};
	u64 sizes;

	kunit_info(test, "%s: paging domains of its IOMMU (%s), generic_pt's and the 6.12 code's; floor: stores into a table\n",
		   pci_name(pdev), dev_driver_string(pdev->dev.iommu->iommu_dev->dev));
	impl[0].dom = dom[0];
	impl[1].dom = dom[1];
	floor.floor = kunit_kzalloc(test, SZ_4K, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, floor.floor);
	bench_alloc_samples(test, &impl[0]);
	bench_alloc_samples(test, &impl[1]);
	bench_alloc_samples(test, &floor);
	bench_header(test, impl[0].map_ns);
	sizes = dom[0]->pgsize_bitmap & dom[1]->pgsize_bitmap;
	KUNIT_EXPECT_EQ(test, dom[0]->pgsize_bitmap, dom[1]->pgsize_bitmap);
	bench_format(test, fmt, impl, sizes, &floor);
	iommu_domain_free(dom[0]);
	iommu_domain_free(dom[1]);
}

/* Frees the domains allocated, then skips. */
static void bench_domains_skip(struct kunit *test, struct pci_dev *pdev,
			       struct iommu_domain *dom[2], const char *why)
{
	unsigned int k;

	for (k = 0; k < 2; k++)
		if (!IS_ERR_OR_NULL(dom[k]))
			iommu_domain_free(dom[k]);
	kunit_skip(test, "%s: %s", pci_name(pdev), why);
}
#endif

#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
/*
 * A paging domain of @dev's IOMMU with tables from generic_pt (@pt) or
 * io-pgtable-arm; NULL if the driver does not use io-pgtable-arm's LPAE
 * formats (no new table of generic_pt's appeared for @pt).
 */
static struct iommu_domain *bench_domain(struct device *dev, bool pt)
{
	long live = arm_lpae_pt_live_tables();
	bool was = io_pgtable_arm_set_generic_pt(pt);
	struct iommu_domain *dom = iommu_paging_domain_alloc(dev);

	io_pgtable_arm_set_generic_pt(was);
	if (IS_ERR(dom))
		return NULL;
	if (arm_lpae_pt_live_tables() - live != pt) {
		iommu_domain_free(dom);
		return NULL;
	}
	return dom;
}

static void bench_smmu(struct kunit *test)
{
	struct pci_dev *pdev = bench_pci_dev(test);
	struct iommu_domain *dom[2] = {};

	if (!pdev)
		kunit_skip(test, "no PCI device behind an IOMMU");
	dom[0] = bench_domain(&pdev->dev, true);
	dom[1] = bench_domain(&pdev->dev, false);
	if (!dom[0] || !dom[1])
		bench_domains_skip(test, pdev, dom,
				   "its IOMMU does not use io-pgtable-arm LPAE");
	bench_domains(test, "SMMU", pdev, dom);
}
#endif

#if IS_ENABLED(CONFIG_AMD_IOMMU_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
/*
 * As bench_smmu, on the AMD IOMMU: v1 paging domains with generic_pt's
 * tables and with the 6.12 code's (amd_iommu_set_generic_pt() switched
 * for the allocation). The IOMMU core splits each row by the domains'
 * pgsize_bitmap, every power of two, so that 256 x 4K is one 1M page for
 * both.
 */
static void bench_amd_domains(struct kunit *test)
{
	struct pci_dev *pdev = bench_pci_dev(test);
	struct iommu_domain *dom[2] = {};
	unsigned int k;
	bool was;

	if (!pdev)
		kunit_skip(test, "no PCI device behind an IOMMU");
	for (k = 0; k < 2; k++) {
		was = amd_iommu_set_generic_pt(!k);
		dom[k] = iommu_paging_domain_alloc(&pdev->dev);
		amd_iommu_set_generic_pt(was);
	}
	if (IS_ERR(dom[0]) || IS_ERR(dom[1]) ||
	    !amd_pt_v1_of_domain(dom[0]) || amd_pt_v1_of_domain(dom[1]))
		bench_domains_skip(test, pdev, dom, "not an AMD IOMMU with v1 tables");
	bench_domains(test, "AMD", pdev, dom);
}
#endif

static struct kunit_case bench_cases_list[] = {
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE)
	KUNIT_CASE_SLOW(bench_lpae),
#endif
#if IS_ENABLED(CONFIG_AMD_IOMMU)
	KUNIT_CASE_SLOW(bench_amd),
#endif
#if IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
	KUNIT_CASE_SLOW(bench_smmu),
#endif
#if IS_ENABLED(CONFIG_AMD_IOMMU_GENERIC_PT) && IS_ENABLED(CONFIG_PCI)
	KUNIT_CASE_SLOW(bench_amd_domains),
#endif
	{}
};

static struct kunit_suite bench_suite = {
	.name = "generic-pt-bench",
	.suite_init = bench_clock_init,
	.test_cases = bench_cases_list,
};

kunit_test_suite(bench_suite);

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_DESCRIPTION("Benchmark of the generic IO page table against 6.12's");
MODULE_LICENSE("GPL");
