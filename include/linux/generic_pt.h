/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Generic radix IO page tables: one implementation of map, unmap,
 * iova_to_phys, dirty tracking and freeing, instantiated per hardware format.
 * See Documentation/iommu/generic_pt.rst.
 */
#ifndef __LINUX_GENERIC_PT_H
#define __LINUX_GENERIC_PT_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/spinlock.h>

struct device;
struct iommu_iotlb_gather;
struct iommu_dirty_bitmap;
struct pt_iommu;

/**
 * enum pt_iommu_flags - Behaviour of one page table
 * @PT_FLAG_INCOHERENT: the IOMMU walks the table without snooping CPU
 *	caches; every table write is followed by cache maintenance (clflush on
 *	x86, a DMA API sync for @pt_iommu.iommu_device elsewhere)
 * @PT_FLAG_DIRTY: leaves are made so that the IOMMU records writes
 *	(ARM stage 1 DBM); read_and_clear_dirty() is refused without it on
 *	formats that need it
 * @PT_FLAG_SPLIT: an unmap that covers part of a leaf replaces the leaf by
 *	a table of smaller leaves and unmaps only what was asked, as
 *	io-pgtable-arm does; without it such a leaf is unmapped whole when it
 *	starts at the unmap's cursor, and unmap stops at one that starts
 *	before. Only formats with one leaf size per level (ARM) take it.
 * @PT_FLAG_KEEP_TABLES: keep tables that unmaps empty piecemeal, as 6.12
 *	did: an unmap frees only the tables whose whole range it covered, and
 *	no table counts its entries. Without it every table of a whole
 *	allocation (larger than PAGE_SIZE / 2) counts the entries it holds
 *	in its iommu-pages descriptor, and the unmap that takes the count to 0
 *	frees the table (see Documentation/iommu/generic_pt.rst).
 */
enum pt_iommu_flags {
	PT_FLAG_INCOHERENT = 1 << 0,
	PT_FLAG_DIRTY = 1 << 1,
	PT_FLAG_SPLIT = 1 << 2,
	PT_FLAG_KEEP_TABLES = 1 << 3,
};

/**
 * struct pt_iommu_driver_ops - What the library asks of the IOMMU driver
 * @flush_walk: invalidate every cached translation and walk-cache entry for
 *	[iova, iova + size) and wait for it. Only maps call it, always under
 *	rcu_read_lock(): when one replaces an empty table by a leaf, before
 *	the table is freed; after a failed map removed the leaves it had
 *	written; and (without @table_unlinked) for a table a map left empty,
 *	before it is freed, then also with interrupts off. Without it the
 *	first fails with -EEXIST and such a table stays until an unmap frees
 *	it.
 * @change_top: a format whose top level grows (AMD v1) calls this, under
 *	@pt_iommu.top_lock and before any map can use the new top, so that the
 *	driver points the hardware at @top_pa with @top_level + 1 levels.
 *	When it returns the hardware must no longer walk from the old top,
 *	which is an inner table from then on and freed when it is empty.
 * @leaves_unmapped: optional. Unmap calls it for every run of @count leaves
 *	of 1 << @lg2 bytes from @iova it cleared, with the caller's @gather
 *	(possibly NULL), and then leaves the gather's range to the driver.
 *	This is io-pgtable's tlb_add_page().
 * @table_unlinked: optional. Called for every table unmap unlinks (or a
 *	map that left it empty), which covered [@iova, @iova + @size); when
 *	it returns, no walk cache may hold the table. For an emptied table it
 *	is called under rcu_read_lock() with interrupts off, while the
 *	table's entry is closed to maps, so it may take no sleeping lock
 *	(a spinlock_t on PREEMPT_RT: the drivers that use it depend on
 *	!PREEMPT_RT). The library then frees such tables
 *	itself, after an RCU grace period, instead of putting them on the
 *	gather's freelist, with or without a gather. Without it unmap frees
 *	only the tables whose whole range it unmapped, and only with a
 *	gather: with neither, unmap frees no table. This is io-pgtable's
 *	tlb_flush_walk() before a table is freed.
 */
struct pt_iommu_driver_ops {
	void (*flush_walk)(struct pt_iommu *pt, unsigned long iova,
			   size_t size);
	void (*change_top)(struct pt_iommu *pt, phys_addr_t top_pa,
			   unsigned int top_level);
	void (*leaves_unmapped)(struct pt_iommu *pt,
				struct iommu_iotlb_gather *gather,
				unsigned long iova, unsigned int lg2,
				size_t count);
	void (*table_unlinked)(struct pt_iommu *pt, unsigned long iova,
			       size_t size);
};

/* Levels a pt_iommu_stats counts: every level PT_TOP_LEVEL_MASK can name. */
#define PT_STATS_LEVELS		8

/**
 * struct pt_iommu_stats - What one walk of a page table found
 * @levels: levels of the table when the walk started (top level plus one)
 * @tables: tables per level, the top included
 * @table_bytes: memory those tables take per level: a whole allocation's
 *	pages, a fragment's size (iommu_pages_footprint())
 * @whole_pages: pages of the tables that are whole allocations
 * @frag_bytes: bytes of the tables that are fragments of shared pages
 * @leaves: leaves per size, indexed by log2 of the size; a leaf made of
 *	replicated entries (AMD v1) counts once
 * @mapped: bytes the leaves map
 */
struct pt_iommu_stats {
	unsigned int levels;
	u64 tables[PT_STATS_LEVELS];
	u64 table_bytes[PT_STATS_LEVELS];
	u64 whole_pages;
	u64 frag_bytes;
	u64 leaves[64];
	u64 mapped;
};

/**
 * struct pt_iommu_ops - Operations of one instantiated format
 * @name: the format's name
 * @map_pages: map @pgsize * @pgcount bytes at @iova to @paddr with IOMMU_*
 *	@prot, using the largest leaves alignment and the format allow. Adds
 *	what it mapped to *@mapped. On error nothing stays mapped by this call.
 * @unmap_pages: unmap from @iova for @pgsize * @pgcount bytes; returns the
 *	bytes unmapped, stopping at a hole or inside a leaf that starts before
 *	the cursor (one starting at the cursor is unmapped whole; with
 *	PT_FLAG_SPLIT both are split instead). Tables it emptied are freed
 *	by the library when the driver flushes them itself
 *	(&pt_iommu_driver_ops.table_unlinked); else those whose whole range
 *	it unmapped go on @gather's freelist, their ranges added to @gather,
 *	and a driver whose maps may run at the same time puts that list after
 *	an RCU grace period (iommu_put_pages_list_rcu()). Without either, a
 *	table stays for reuse.
 * @iova_to_phys: translate @iova, 0 if unmapped
 * @read_and_clear_dirty: record dirty leaves in [@iova, @iova + @size) in
 *	@dirty and clear their dirty state unless IOMMU_DIRTY_NO_CLEAR
 * @stats: add what the table holds to @st (zeroed by the caller).
 *	Lockless, as iova_to_phys(), with maps and unmaps going on, in RCU
 *	read-side sections of one second-level entry each; sleeps between
 *	them. The caller keeps @pt from deinit.
 * @deinit: free every table. The hardware must no longer walk it. May
 *	sleep (with CONFIG_IOMMU_DEBUGFS it takes the report's mutex).
 */
struct pt_iommu_ops {
	const char *name;
	int (*map_pages)(struct pt_iommu *pt, unsigned long iova,
			 phys_addr_t paddr, size_t pgsize, size_t pgcount,
			 int prot, gfp_t gfp, size_t *mapped);
	size_t (*unmap_pages)(struct pt_iommu *pt, unsigned long iova,
			      size_t pgsize, size_t pgcount,
			      struct iommu_iotlb_gather *gather);
	phys_addr_t (*iova_to_phys)(struct pt_iommu *pt, unsigned long iova);
	int (*read_and_clear_dirty)(struct pt_iommu *pt, unsigned long iova,
				    size_t size, unsigned long flags,
				    struct iommu_dirty_bitmap *dirty);
	void (*stats)(struct pt_iommu *pt, struct pt_iommu_stats *st);
	void (*deinit)(struct pt_iommu *pt);
};

/**
 * struct pt_iommu - The format-independent part of a page table
 * @top: virtual address of the top table ORed with its level (tables are at
 *	least 64 byte aligned); read with READ_ONCE(), changed under @top_lock
 * @ops: the format's operations
 * @driver_ops: optional driver callbacks
 * @iommu_device: the device that walks the table, for DMA API cache
 *	maintenance with PT_FLAG_INCOHERENT
 * @pgsize_bitmap: every leaf size the format and configuration can map
 * @va_lg2: log2 of the input address space: IOVAs are below 1 << @va_lg2
 *	(sign extended from bit @va_lg2 - 1 for formats that do so)
 * @oa_lg2: log2 of the output address space
 * @max_top_level: the highest top level the table may grow to
 * @flags: enum pt_iommu_flags
 * @nid: NUMA node tables are allocated on
 * @top_lock: serialises growing the top level
 * @debug_node: with CONFIG_IOMMU_DEBUGFS, in the list of page tables that
 *	/sys/kernel/debug/iommu/generic_pt reports, from init to deinit
 * @debug_id: with CONFIG_IOMMU_DEBUGFS, the table's number in that report
 */
struct pt_iommu {
	unsigned long top;
	const struct pt_iommu_ops *ops;
	const struct pt_iommu_driver_ops *driver_ops;
	struct device *iommu_device;
	u64 pgsize_bitmap;
	u8 va_lg2;
	u8 oa_lg2;
	u8 max_top_level;
	u8 flags;
	int nid;
	spinlock_t top_lock;	/* growing the top level */
#ifdef CONFIG_IOMMU_DEBUGFS
	struct list_head debug_node;
	unsigned int debug_id;
#endif
};

/* The low bits of pt_iommu::top that hold the top level. */
#define PT_TOP_LEVEL_MASK	7UL

/**
 * struct pt_iommu_armv8_cfg - ARM VMSAv8 long descriptor (LPAE) table
 * @granule_lg2: 12, 14 or 16 (4K, 16K or 64K granule)
 * @ias: input address bits, at most 48 (52 with a 64K granule)
 * @oas: output address bits, at most 48 (52 with a 64K granule)
 * @stage2: stage 2 permissions and memory attributes; start tables are
 *	concatenated at level 1 when that saves a level (up to 16 tables)
 * @ns: set NS in leaves and NSTable in tables (stage 1 only)
 * @outer_wbwa: the walker's outer cacheability (stage 1, incoherent only);
 *	it changes no PTE, the driver programs it in the TCR
 */
struct pt_iommu_armv8_cfg {
	u8 granule_lg2;
	u8 ias;
	u8 oas;
	bool stage2;
	bool ns;
	bool outer_wbwa;
};

/**
 * struct pt_iommu_armv8 - ARM VMSAv8 long descriptor page table
 * @iommu: common part
 * @granule_lg2: log2 of the granule
 * @levels: table levels walked (after concatenation)
 * @top_items_lg2: log2 of the entries in the start table
 * @stage2: stage 2 encoding
 * @ns: non-secure attributes
 */
struct pt_iommu_armv8 {
	struct pt_iommu iommu;
	u8 granule_lg2;
	u8 levels;
	u8 top_items_lg2;
	bool stage2;
	bool ns;
};

/**
 * struct pt_iommu_amdv1_cfg - AMD IOMMU host (v1) page table
 * @va_lg2: input address bits, at most 64
 * @start_level: level of the first top table (2 means three levels); the
 *	top grows, up to six levels, as mapped IOVAs and leaves require
 */
struct pt_iommu_amdv1_cfg {
	u8 va_lg2;
	u8 start_level;
};

/**
 * struct pt_iommu_amdv1 - AMD IOMMU host (v1) page table
 * @iommu: common part
 */
struct pt_iommu_amdv1 {
	struct pt_iommu iommu;
};

/**
 * struct pt_iommu_vtdss_cfg - Intel VT-d second-stage page table
 * @levels: 3, 4 or 5
 * @large_lg2_mask: BIT(21) and/or BIT(30) when the IOMMU supports 2M / 1G
 * @force_snoop: set the snoop bit in every leaf
 */
struct pt_iommu_vtdss_cfg {
	u8 levels;
	u64 large_lg2_mask;
	bool force_snoop;
};

/**
 * struct pt_iommu_vtdss - Intel VT-d second-stage page table
 * @iommu: common part
 * @force_snoop: snoop bit in leaves
 */
struct pt_iommu_vtdss {
	struct pt_iommu iommu;
	bool force_snoop;
};

/**
 * struct pt_iommu_x86_64_cfg - x86-64 page table (AMD v2, VT-d first stage)
 * @levels: 4 or 5; the IOVA is sign extended from bit 47 or 56
 * @large_lg2_mask: BIT(21) and/or BIT(30) for 2M / 1G leaves
 */
struct pt_iommu_x86_64_cfg {
	u8 levels;
	u64 large_lg2_mask;
};

/**
 * struct pt_iommu_x86_64 - x86-64 page table
 * @iommu: common part
 */
struct pt_iommu_x86_64 {
	struct pt_iommu iommu;
};

int pt_iommu_armv8_init(struct pt_iommu_armv8 *table,
			const struct pt_iommu_armv8_cfg *cfg,
			unsigned int flags, int nid, gfp_t gfp);
int pt_iommu_amdv1_init(struct pt_iommu_amdv1 *table,
			const struct pt_iommu_amdv1_cfg *cfg,
			unsigned int flags, int nid, gfp_t gfp);
int pt_iommu_vtdss_init(struct pt_iommu_vtdss *table,
			const struct pt_iommu_vtdss_cfg *cfg,
			unsigned int flags, int nid, gfp_t gfp);
int pt_iommu_x86_64_init(struct pt_iommu_x86_64 *table,
			 const struct pt_iommu_x86_64_cfg *cfg,
			 unsigned int flags, int nid, gfp_t gfp);

phys_addr_t pt_iommu_top_pa(struct pt_iommu *pt);

/**
 * pt_iommu_top_level() - Level of the top table
 * @pt: the page table
 *
 * Return: 0 for a single-level table; the number of levels minus one.
 */
static inline unsigned int pt_iommu_top_level(struct pt_iommu *pt)
{
	return READ_ONCE(pt->top) & PT_TOP_LEVEL_MASK;
}

#endif
