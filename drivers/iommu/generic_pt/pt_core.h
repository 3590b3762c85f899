/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The generic page table algorithms, written once. A format's instantiation
 * file includes its format header (fmt/<name>.h), which defines PT_FMT,
 * struct PT_TABLE, PT_CFG, PT_MAX_LEVELS and the pt_fmt_*() functions, and then this
 * file. Every pt_fmt_*() call is inlined: the loops below make no indirect
 * call per entry.
 *
 * Levels count up from the leaf level 0 to the top table; the top level is
 * kept in the low bits of pt_iommu::top. Each loop keeps the tables it went
 * through in tables[level], so it moves to the next table through the
 * parent instead of walking again from the top.
 */
#ifndef PT_FMT
#error "include a format header first"
#endif

#include <linux/bug.h>
#include <linux/export.h>
#include <linux/iommu.h>
#include <linux/io.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/stringify.h>

#include "pt_common.h"

#include "pt_defs.h"

/* Can a map free a table it leaves empty (it has no gather)? */
static __always_inline bool PT_FN(map_can_free)(struct pt_iommu *pt)
{
	const struct pt_iommu_driver_ops *ops = pt->driver_ops;

	return !(pt->flags & PT_FLAG_KEEP_TABLES) && ops &&
	       (ops->table_unlinked || ops->flush_walk);
}

/*
 * A table that covered [@iova, @iova + @size) was unlinked: make sure no
 * walk cache keeps it before it is freed. The driver's table_unlinked()
 * does; else the gather's range grows to cover it; else (a map, which has
 * no gather) flush_walk().
 */
static void PT_FN(unlinked)(struct pt_iommu *pt,
			    struct iommu_iotlb_gather *gather,
			    unsigned long iova, size_t size)
{
	const struct pt_iommu_driver_ops *ops = pt->driver_ops;

	if (ops && ops->table_unlinked)
		ops->table_unlinked(pt, iova, size);
	else if (gather)
		iommu_iotlb_gather_add_range(gather, iova, size);
	else
		ops->flush_walk(pt, iova, size);
}

/*
 * Replace *@ptep, which held @pte, a table entry at @level for @table, by
 * @new. The claim of @table keeps every other thread from changing the
 * entry (a map that replaces the table claims it first), but for a map
 * that marks it cleaned (PT_FMT_SYNCED): false if it no longer points to
 * @table.
 */
static bool PT_FN(unlink_entry)(struct PT_TABLE *t, u64 *ptep, u64 pte,
				unsigned int level, u64 *table, u64 new)
{
	do {
		if (!pt_fmt_is_table(t, level, pte) ||
		    PT_FN(table_va)(t, pte) != table)
			return false;
	} while (!try_cmpxchg64(ptep, &pte, new));
	return true;
}

/*
 * @table, at @level below the top and covering @iova, holds no entry any
 * more: claim it (unless a map reserved an entry since), unlink it from
 * its parent, have it flushed and put it on @free; its parent loses an
 * entry and, if that was its last, goes the same way. The parent is found
 * from the top again, as the caller's path may predate a growth of the
 * top, which stays. Under rcu_read_lock(), as every walk: a map that still
 * sees the table finds it claimed and walks again.
 *
 * With a flush now (the driver's table_unlinked(), or flush_walk() when a
 * map frees; @gather NULL), the entry holds PT_ENTRY_UNLINKING until the
 * flush is done, and interrupts stay off from the claim to the end, so
 * that no map spins on this CPU waiting for it. With a flush later (the
 * gather's, @gather set), a map in the table's range could meet the old
 * table in the walk cache before it: only a table that lies wholly in
 * [@start, @last], the range the caller unmaps, is freed.
 */
static noinline void PT_FN(emptied)(struct PT_TABLE *t, u64 *table,
				    unsigned int level, unsigned long iova,
				    struct iommu_pages_list *free,
				    struct iommu_iotlb_gather *gather,
				    unsigned long start, unsigned long last)
{
	struct pt_iommu *pt = &t->iommu;
	const struct pt_iommu_driver_ops *ops = pt->driver_ops;
	bool later = gather && !(ops && ops->table_unlinked);

	while (true) {
		const unsigned long top = READ_ONCE(pt->top);
		const unsigned int top_level = pt_top_level(top);
		u64 *parent = pt_top_table(top), *ptep;
		unsigned int l = top_level, span;
		unsigned long flags, base;
		atomic_t *live;
		u64 pte;

		if (table == parent || level >= top_level)
			return;
		span = PT_FN(span_lg2)(t, level, top_level);
		base = iova & ~((1UL << span) - 1);
		if (later && (base < start || base + (1UL << span) - 1 > last))
			return;
		live = PT_FN(live)(t, table, level, top_level);
		local_irq_save(flags);
		if (!pt_live_claim(live)) {
			local_irq_restore(flags);
			return;
		}
		while (true) {
			ptep = &parent[PT_FN(index)(t, iova, l, top_level)];
			pte = READ_ONCE(*ptep);
			if (l == level + 1 || !pt_fmt_is_table(t, l, pte))
				break;
			parent = PT_FN(table_va)(t, pte);
			l--;
		}
		if (WARN_ON(l != level + 1 ||
			    !PT_FN(unlink_entry)(t, ptep, pte, l, table,
						 later ? 0 :
						 PT_ENTRY_UNLINKING))) {
			atomic_set(live, 0);
			local_irq_restore(flags);
			return;
		}
		pt_sync(pt, ptep, sizeof(*ptep));
		if (later) {
			iommu_iotlb_gather_add_range(gather, base, 1UL << span);
		} else {
			if (ops->table_unlinked)
				ops->table_unlinked(pt, base, 1UL << span);
			else
				ops->flush_walk(pt, base, 1UL << span);
			WRITE_ONCE(*ptep, 0);
			pt_sync(pt, ptep, sizeof(*ptep));
		}
		local_irq_restore(flags);
		pt_table_release(pt, table, PT_FN(table_size)(t, level,
							      top_level));
		iommu_pages_list_add(free, table);
		if (!pt_live_sub(PT_FN(live)(t, parent, level + 1, top_level),
				 1))
			return;
		table = parent;
		level++;
	}
}

/*
 * A map gives back @n entries of @table (at @level, covering @iova) that it
 * reserved and did not fill; a table that leaves empty is freed when the
 * driver can flush for it.
 */
static noinline void PT_FN(map_undo)(struct PT_TABLE *t, u64 *table,
				     unsigned int level, unsigned int top_level,
				     unsigned long iova, unsigned int n)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct pt_iommu *pt = &t->iommu;

	if (!pt_live_sub(PT_FN(live)(t, table, level, top_level), n) ||
	    !PT_FN(map_can_free)(pt))
		return;
	PT_FN(emptied)(t, table, level, iova, &list, NULL, 0, ULONG_MAX);
	iommu_put_pages_list_rcu(&list);
}

/* True if nothing is mapped below @table (used before replacing it). */
static bool PT_FN(subtree_empty)(const struct PT_TABLE *t, u64 *table,
				 unsigned int level)
{
	unsigned int i, n = 1U << pt_fmt_items_lg2(t, level, false);

	for (i = 0; i < n; i++) {
		u64 pte = READ_ONCE(table[i]);

		if (!pte)
			continue;
		if (!level || !pt_fmt_is_table(t, level, pte) ||
		    !PT_FN(subtree_empty)(t, PT_FN(table_va)(t, pte), level - 1))
			return false;
	}
	return true;
}

/* Put @table and every table below it on @list (for freeing). */
static void PT_FN(collect)(const struct PT_TABLE *t, u64 *table, unsigned int level,
			   unsigned int top_level, struct iommu_pages_list *list)
{
	struct pt_iommu *pt = (struct pt_iommu *)&t->iommu;
	unsigned int i, n = 1U << PT_FN(items_lg2)(t, level, top_level);

	for (i = 0; level && i < n; i++) {
		u64 pte = READ_ONCE(table[i]);

		if (pte && pt_fmt_is_table(t, level, pte))
			PT_FN(collect)(t, PT_FN(table_va)(t, pte), level - 1,
				       top_level, list);
	}
	pt_table_release(pt, table, PT_FN(alloc_size)(t, level, top_level));
	iommu_pages_list_add(list, table);
}

/*
 * A leaf is to go where an entry holds a table: allowed when nothing is
 * mapped below it and the driver can flush the walk caches before the
 * table is freed. Rare (a range once mapped with small pages, unmapped page
 * by page, now mapped with a large one), so out of line. A lockless
 * iova_to_phys() may still be reading the table: it is freed after an RCU
 * grace period. An empty old top can be freed by grown() at the same time:
 * the thread that claims the table unlinks it, the other walks again
 * (-EAGAIN). A table that counts entries (empty tables below it) is one
 * that nothing else frees.
 */
static noinline int PT_FN(replace_table)(struct PT_TABLE *t, u64 *parent,
					 u64 *ptep, u64 pte, unsigned int level,
					 unsigned int top_level,
					 unsigned long iova)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	struct pt_iommu *pt = &t->iommu;
	u64 *table = PT_FN(table_va)(t, pte);
	atomic_t *live = PT_FN(live)(t, table, level - 1, PT_MAX_LEVELS);
	bool claimed;

	if (!pt->driver_ops || !pt->driver_ops->flush_walk ||
	    !PT_FN(subtree_empty)(t, table, level - 1))
		return -EEXIST;
	claimed = pt_live_claim(live);
	if (live && !claimed && atomic_read(live) == PT_LIVE_DEAD)
		return -EAGAIN;
	if (cmpxchg64(ptep, pte, 0) != pte) {
		if (claimed)
			atomic_set(live, 0);
		return -EEXIST;
	}
	pt_sync(pt, ptep, sizeof(*ptep));
	/* The entry is empty now; the caller's reservation keeps @parent. */
	WARN_ON_ONCE(pt_live_sub(PT_FN(live)(t, parent, level, top_level), 1));
	pt->driver_ops->flush_walk(pt, iova, 1UL << pt_fmt_va_lg2(t, level));
	PT_FN(collect)(t, table, level - 1, PT_MAX_LEVELS, &list);
	iommu_put_pages_list_rcu(&list);
	return 0;
}

static noinline size_t PT_FN(unmap_range)(struct PT_TABLE *t,
					  unsigned long iova, size_t len,
					  struct iommu_pages_list *free,
					  struct iommu_iotlb_gather *gather,
					  bool report);

/*
 * An incoherent walker can only use a table entry once it is cleaned to
 * memory, and a map must not return before the walker can see every table
 * on its path. The thread that installs an entry cleans it, but another
 * thread can find the entry first (or lose the race to install one) and go
 * on. So every thread that goes through a table entry of an incoherent table
 * makes sure it was cleaned: the format's software bit PT_FMT_SYNCED says it
 * was; without one, the entry is cleaned each time.
 */
static noinline void PT_FN(sync_table_entry)(struct PT_TABLE *t, u64 *ptep,
					     u64 pte)
{
	pt_table_sync(&t->iommu, ptep, sizeof(*ptep));
#ifdef PT_FMT_SYNCED
	/* Fails only if the entry changed; its writer cleans it then. */
	try_cmpxchg64(ptep, &pte, pte | PT_FMT_SYNCED);
#endif
}

static __always_inline void PT_FN(table_seen)(struct PT_TABLE *t, u64 *ptep,
					      u64 pte)
{
	if (likely(!(t->iommu.flags & PT_FLAG_INCOHERENT)))
		return;
#ifdef PT_FMT_SYNCED
	if (pte & PT_FMT_SYNCED)
		return;
#endif
	PT_FN(sync_table_entry)(t, ptep, pte);
}

/*
 * Install a new table for @level - 1 in the empty entry *@ptep of @parent,
 * which covers @iova. The entry is reserved in @parent's count first: that
 * keeps @parent, and so every table above it, while the allocation sleeps
 * outside the caller's RCU read-side section. Concurrent maps of disjoint
 * ranges may race here: the loser frees its table and uses the winner's.
 * *@entry is what *@ptep then holds (the new table, or what the winner put
 * there, which the caller checks is a table); a table entry returned was
 * cleaned for an incoherent walker. Returns 0, -ENOMEM, or -EAGAIN when
 * @parent was claimed for freeing (the caller walks again from the top).
 */
static noinline int PT_FN(new_table)(struct PT_TABLE *t, u64 *parent,
				     u64 *ptep, unsigned int level,
				     unsigned int top_level, unsigned long iova,
				     gfp_t gfp, u64 *entry)
	__must_hold(RCU)
{
	struct pt_iommu *pt = &t->iommu;
	size_t size = PT_FN(table_size)(t, level - 1, PT_MAX_LEVELS);
	u64 *table, old = 0, new;

	if (!pt_live_add(PT_FN(live)(t, parent, level, top_level), 1))
		return -EAGAIN;
	/* the reservation keeps @parent: @gfp may sleep */
	rcu_read_unlock();
	table = pt_table_alloc(pt, size, gfp);
	rcu_read_lock();
	if (!table) {
		PT_FN(map_undo)(t, parent, level, top_level, iova, 1);
		return -ENOMEM;
	}
	new = pt_fmt_table_entry(t, level, virt_to_phys(table));
	/* A successful cmpxchg is fully ordered: the zeroed table first. */
	if (!try_cmpxchg64(ptep, &old, new)) {
		pt_table_free(pt, table, size);
		new = old;
		/* the winner reserved its own entry */
		PT_FN(map_undo)(t, parent, level, top_level, iova, 1);
		if (old == PT_ENTRY_UNLINKING)
			return -EAGAIN;
	}
	if (pt_fmt_is_table(t, level, new))
		PT_FN(table_seen)(t, ptep, new);
	*entry = new;
	return 0;
}

/*
 * The table at *@level ended at @iova: go up to the first parent that goes
 * on past it. False (and a WARN) if that would leave the top, which the
 * range checks rule out.
 */
static __always_inline bool PT_FN(up)(const struct PT_TABLE *t,
				      unsigned int *level,
				      unsigned int top_level,
				      unsigned long iova)
{
	do {
		if (WARN_ON(*level == top_level))
			return false;
		(*level)++;
	} while (*level != top_level &&
		 !(iova & (BIT_ULL(PT_FN(span_lg2)(t, *level, top_level)) - 1)));
	return true;
}

/* An entry in the way of a batch of leaves: see whether each can go. */
static noinline int PT_FN(map_check_slow)(struct PT_TABLE *t, u64 *table,
					  unsigned int idx, unsigned int nent,
					  unsigned int level,
					  unsigned int top_level,
					  unsigned long iova)
{
	unsigned int i;

	for (i = 0; i < nent; i++) {
		u64 old = READ_ONCE(table[idx + i]);
		unsigned long at;
		int ret;

		if (likely(!old))
			continue;
		if (old == PT_ENTRY_UNLINKING)
			return -EAGAIN;
		if (!level || !pt_fmt_is_table(t, level, old))
			return -EEXIST;
		at = iova + ((unsigned long)i << pt_fmt_va_lg2(t, level));
		ret = PT_FN(replace_table)(t, table, &table[idx + i], old, level,
					   top_level, at);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Check that the @nent entries from @idx are empty before a batch of
 * leaves goes there; an empty table in the way is replaced when allowed.
 */
static __always_inline int PT_FN(map_check)(struct PT_TABLE *t, u64 *table,
					    unsigned int idx,
					    unsigned int nent,
					    unsigned int level,
					    unsigned int top_level,
					    unsigned long iova)
{
	u64 any = 0;
	unsigned int i;

	for (i = 0; i < nent; i++)
		any |= READ_ONCE(table[idx + i]);
	if (likely(!any))
		return 0;
	return PT_FN(map_check_slow)(t, table, idx, nent, level, top_level,
				     iova);
}

/*
 * Write @count leaves of 1 << @lg2 from @pa, each over 1 << @n_lg2 entries
 * from @ptep. Where the format allows, each entry is the one before plus a
 * step, not encoded again.
 */
static __always_inline void PT_FN(write_leaves)(struct PT_TABLE *t, u64 *ptep,
						unsigned int count,
						unsigned int n_lg2,
						unsigned int level, u64 pa,
						unsigned int lg2, u64 attrs)
{
	u64 step = pt_fmt_leaf_step(t, lg2);
	u64 pte = pt_fmt_leaf_entry(t, level, pa, lg2, attrs);
	unsigned int i, k;

	if (likely(step)) {
		for (k = 0; k < count; k++, pte += step)
			for (i = 0; i < (1U << n_lg2); i++)
				WRITE_ONCE(ptep[(k << n_lg2) + i], pte);
		return;
	}
	for (k = 0; k < count; k++) {
		pte = pt_fmt_leaf_entry(t, level, pa + ((u64)k << lg2), lg2,
					attrs);
		for (i = 0; i < (1U << n_lg2); i++)
			WRITE_ONCE(ptep[(k << n_lg2) + i], pte);
	}
}

/*
 * Map any range: leaves of the sizes alignment and length allow, batched per
 * table. Out of line, so that the one-leaf path of map_pages() keeps a small
 * stack frame (this loop's state would be saved and restored on every call).
 * Each batch reserves its entries in the table's count before it checks and
 * writes them; a table claimed for freeing meanwhile sends the walk back to
 * the top (nothing of this call is in such a table).
 */
static noinline int PT_FN(map_range)(struct PT_TABLE *t, unsigned long iova,
				     u64 pa, size_t len, u64 attrs, gfp_t gfp,
				     size_t *mapped)
{
	struct pt_iommu *pt = &t->iommu;
	unsigned int lim = PT_FN(lim)(iova, pa, len);
	u64 *tables[PT_MAX_LEVELS] __uninitialized;
	unsigned int level, top_level;
	unsigned long start = iova, top;
	size_t done = 0;
	int ret = 0;

again:
	top = READ_ONCE(t->iommu.top);
	top_level = pt_top_level(top);
	level = top_level;
	tables[level] = pt_top_table(top);
	while (true) {
		u64 *table = tables[level];
		unsigned int idx = PT_FN(index)(t, iova, level, top_level);
		unsigned int lg2 = PT_FN(leaf_lg2)(t, level, top_level, lim);
		unsigned int end, first;
		u64 pte;

		if (!lg2)
			goto down;
		end = 1U << PT_FN(items_lg2)(t, level, top_level);
		first = idx;
		while (lg2) {
			/*
			 * A batch of leaves of one size: up to the end of the
			 * table, of the range, or the next boundary where a
			 * larger size of this level could start.
			 */
#ifdef PT_FMT_LEVEL_SIZES
			unsigned int n_lg2 = lg2 - pt_fmt_va_lg2(t, level);
#else
			const unsigned int n_lg2 = 0;
#endif
			unsigned int nent;
			size_t count = min_t(size_t, (len - done) >> lg2,
					     (end - idx) >> n_lg2);
#ifdef PT_FMT_LEVEL_SIZES
			u64 larger = PT_FN(level_sizes)(t, level, top_level) &
				     ~GENMASK_ULL(lg2, 0);

			if (larger) {
				u64 next = larger & -larger;

				count = min_t(size_t, count,
					      (next - (iova & (next - 1))) >> lg2);
			}
#endif
			nent = count << n_lg2;
			if (!pt_live_add(PT_FN(live)(t, table, level,
						     top_level), nent)) {
				/* only at a table's first batch */
				pt_rewalk_wait();
				goto again;
			}
			ret = PT_FN(map_check)(t, table, idx, nent, level,
					       top_level, iova);
			if (ret) {
				pt_sync(pt, &table[first],
					(idx - first) * sizeof(u64));
				PT_FN(map_undo)(t, table, level, top_level,
						iova, nent);
				if (ret != -EAGAIN)
					goto err;
				/* a table there is being unlinked */
				pt_rewalk_wait();
				goto again;
			}
			PT_FN(write_leaves)(t, &table[idx], count, n_lg2,
					    level, pa, lg2, attrs);
			idx += nent;
			iova += (unsigned long)count << lg2;
			pa += (u64)count << lg2;
			done += (size_t)count << lg2;
			if (done == len)
				break;
			lim = PT_FN(lim)(iova, pa, len - done);
			if (idx == end)
				break;
			lg2 = PT_FN(leaf_lg2)(t, level, top_level, lim);
		}
		if (idx != first)
			pt_sync(pt, &table[first], (idx - first) * sizeof(u64));
		if (done == len)
			break;

		if (idx == end) {
			/* This table is full up to its end: to its parent. */
			if (!PT_FN(up)(t, &level, top_level, iova)) {
				ret = -ERANGE;
				goto err;
			}
			continue;
		}

down:
		/* The next leaf is smaller: go down. */
		pte = READ_ONCE(table[idx]);
		if (unlikely(pte == PT_ENTRY_UNLINKING)) {
			pt_rewalk_wait();
			goto again;
		}
		if (!pte) {
			ret = PT_FN(new_table)(t, table, &table[idx], level,
					       top_level, iova, gfp, &pte);
			if (ret == -EAGAIN) {
				pt_rewalk_wait();
				goto again;
			}
			if (ret)
				goto err;
		} else if (pt_fmt_is_table(t, level, pte)) {
			PT_FN(table_seen)(t, &table[idx], pte);
		}
		if (!pt_fmt_is_table(t, level, pte)) {
			ret = -EEXIST;
			goto err;
		}
		tables[--level] = PT_FN(table_va)(t, pte);
	}
	*mapped += done;
	return 0;

err:
	/*
	 * Leave nothing mapped by this call; tables it leaves empty are freed
	 * when the driver can flush for them, else they stay for reuse. The
	 * walker may have cached a leaf written here: a driver that can flush
	 * does, as the caller adds nothing to invalidate for a failed map.
	 */
	if (done) {
		struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
		bool can_free = PT_FN(map_can_free)(pt);

		PT_FN(unmap_range)(t, start, done, can_free ? &list : NULL,
				   NULL, false);
		if (pt->driver_ops && pt->driver_ops->flush_walk)
			pt->driver_ops->flush_walk(pt, start, done);
		iommu_put_pages_list_rcu(&list);
	}
	return ret;
}

#ifdef PT_FMT_SPLIT
/*
 * Replace the leaf *@ptep at @level by a table of leaves one level down
 * that translate the same, so that an unmap can take part of it. The walker
 * finds the leaf or the table, never a hole. A leaf whose state changed
 * meanwhile (read_and_clear_dirty() write-protected it) is split as it is
 * now. Returns the table entry now in *@ptep (also when a concurrent unmap
 * of another part split it first), or 0: no memory, or the leaf went away.
 */
static noinline u64 PT_FN(split)(struct PT_TABLE *t, u64 *ptep, u64 pte,
				 unsigned int level)
{
	struct pt_iommu *pt = &t->iommu;
	unsigned int lg2 = pt_fmt_va_lg2(t, level - 1);
	unsigned int i, n = 1U << pt_fmt_items_lg2(t, level - 1, false);
	size_t size = PT_FN(table_size)(t, level - 1, PT_MAX_LEVELS);
	u64 *table, new, old = pte;

	table = pt_table_alloc(pt, size, GFP_ATOMIC);
	if (!table)
		return 0;
	/* every entry in use (a loser's table is freed with its count) */
	if (pt_live(pt, table, size))
		atomic_set(pt_live(pt, table, size), n);
	new = pt_fmt_table_entry(t, level, virt_to_phys(table));
	do {
		u64 attrs = pt_fmt_leaf_attrs(t, level, old);
		u64 pa = pt_fmt_leaf_pa(t, level, old);

		for (i = 0; i < n; i++)
			table[i] = pt_fmt_leaf_entry(t, level - 1,
						     pa + ((u64)i << lg2), lg2,
						     attrs);
		pt_sync(pt, table, size);
		if (try_cmpxchg64(ptep, &old, new))
			break;
		if (!old || pt_fmt_is_table(t, level, old)) {
			pt_table_free(pt, table, size);
			if (!old)
				return 0;
			new = old;
			break;
		}
	} while (true);
	PT_FN(table_seen)(t, ptep, new);
	return new;
}
#endif

/* Tell the driver which leaves an unmap cleared (driver_ops.leaves_unmapped). */
static __always_inline void PT_FN(report)(struct PT_TABLE *t,
					  struct iommu_iotlb_gather *gather,
					  unsigned long iova, unsigned int lg2,
					  size_t count)
{
	struct pt_iommu *pt = &t->iommu;

	pt->driver_ops->leaves_unmapped(pt, gather, iova, lg2, count);
}

/*
 * Unmap from @iova until @len bytes are gone, a hole, or a leaf starting
 * before the cursor (which PT_FLAG_SPLIT splits instead, as it does a leaf
 * at the cursor larger than what is left). Each table gives back the
 * entries this call cleared in it, and one left with none is freed
 * (emptied()); a table that counts nothing (a fragment, or
 * PT_FLAG_KEEP_TABLES) is freed when this call unmapped its whole range.
 * Freed tables go on @free (with none, every table stays). With @report,
 * every run of leaves cleared goes to the driver's leaves_unmapped() with
 * @gather.
 */
static noinline size_t PT_FN(unmap_range)(struct PT_TABLE *t,
					  unsigned long iova, size_t len,
					  struct iommu_pages_list *free,
					  struct iommu_iotlb_gather *gather,
					  bool report)
{
	const unsigned long top = READ_ONCE(t->iommu.top);
	const unsigned int top_level = pt_top_level(top);
	struct pt_iommu *pt = &t->iommu;
	unsigned int level = top_level;
	u64 *tables[PT_MAX_LEVELS] __uninitialized;
	const bool split = pt->flags & PT_FLAG_SPLIT;
	unsigned long start = iova;
	size_t done = 0;

	if (!PT_FN(top_len)(t, top_level, iova, len))
		return 0;
	tables[level] = pt_top_table(top);
	while (true) {
		u64 *table = tables[level];
		unsigned int shift = pt_fmt_va_lg2(t, level);
		unsigned int idx = PT_FN(index)(t, iova, level, top_level);
		unsigned int end = 1U << PT_FN(items_lg2)(t, level, top_level);
		unsigned int first = idx, run_lg2 = 0;
		unsigned long run_iova = 0, table_iova = iova;
		size_t run_count = 0;
		bool stop = false;
		u64 pte = 0;

		while (idx < end) {
			unsigned int i, n, lg2, leaves = 1;

			pte = READ_ONCE(table[idx]);
			/* a table being unlinked maps nothing */
			if (!pte || pte == PT_ENTRY_UNLINKING) {
				stop = true;
				break;
			}
			if (level && pt_fmt_is_table(t, level, pte))
				break;
			lg2 = pt_fmt_leaf_lg2(t, level, pte);
			if ((iova & ((1UL << lg2) - 1)) ||
			    (split && len - done < (1UL << lg2))) {
#ifdef PT_FMT_SPLIT
				/* Part of this leaf: split it and go down. */
				if (split && level) {
					pte = PT_FN(split)(t, &table[idx], pte,
							   level);
					if (pte)
						break;
				}
#endif
				stop = true;
				break;
			}
			n = 1U << (lg2 - shift);
			for (i = 0; i < n; i++)
				WRITE_ONCE(table[idx + i], 0);
#ifndef PT_FMT_LEVEL_SIZES
			/*
			 * A leaf is one entry here: the leaves that follow, up
			 * to the end of the table or of the range, in one loop.
			 */
			{
				size_t left = (len - done) >> shift;
				unsigned int last = left < end - idx ? idx + left : end;

				for (i = idx + 1; i < last; i++) {
					u64 next = READ_ONCE(table[i]);

					if (!next || next == PT_ENTRY_UNLINKING ||
					    (level && pt_fmt_is_table(t, level, next)))
						break;
					WRITE_ONCE(table[i], 0);
				}
				n = i - idx;
				leaves = n;
			}
#endif
			if (report) {
				if (run_count && lg2 != run_lg2) {
					PT_FN(report)(t, gather, run_iova,
						      run_lg2, run_count);
					run_count = 0;
				}
				if (!run_count) {
					run_iova = iova;
					run_lg2 = lg2;
				}
				run_count += leaves;
			}
			idx += n;
			iova += (unsigned long)leaves << lg2;
			done += (size_t)leaves << lg2;
			if (done >= len) {
				stop = idx != end;
				break;
			}
		}
		if (idx != first)
			pt_sync(pt, &table[first], (idx - first) * sizeof(u64));
		if (run_count)
			PT_FN(report)(t, gather, run_iova, run_lg2, run_count);
		if (idx != first &&
		    pt_live_sub(PT_FN(live)(t, table, level, top_level),
				idx - first) && free)
			PT_FN(emptied)(t, table, level, table_iova, free, gather,
				       start, start + done - 1);
		if (stop)
			break;

		if (idx != end) {
			/* A table: go down. */
			tables[--level] = PT_FN(table_va)(t, pte);
			continue;
		}

		/*
		 * The table ended at @iova. One that counts nothing is freed if
		 * this call unmapped its whole range; go up while the parents
		 * end there too.
		 */
		while (level != top_level) {
			unsigned int span = PT_FN(span_lg2)(t, level, top_level);
			unsigned long base = iova - (1UL << span);
			u64 *child = tables[level];
			bool whole = free && base >= start &&
				     !PT_FN(live)(t, child, level, top_level);

			level++;
			if (whole) {
				u64 *ptep = &tables[level][PT_FN(index)(t, base,
							level, top_level)];

				WRITE_ONCE(*ptep, 0);
				pt_sync(pt, ptep, sizeof(*ptep));
				PT_FN(unlinked)(pt, gather, base, 1UL << span);
				pt_table_release(pt, child,
						 PT_FN(table_size)(t, level - 1,
								   top_level));
				iommu_pages_list_add(free, child);
				if (pt_live_sub(PT_FN(live)(t, tables[level],
							    level, top_level),
						1))
					PT_FN(emptied)(t, tables[level], level,
						       base, free, gather, start,
						       start + done - 1);
			}
			if (level == top_level ||
			    (iova & (BIT_ULL(PT_FN(span_lg2)(t, level,
							     top_level)) - 1)))
				break;
		}
		if (done >= len || (level == top_level &&
				    !PT_FN(index)(t, iova, level, top_level)))
			break;
	}
	return done;
}

#ifdef PT_FMT_GROWS
/*
 * The old top, at @level, became entry 0 of a new top: an inner table now,
 * freed if it is empty. An unmap that emptied it while it was the top left
 * it; one that empties it from now on sees the new top (pairs with the
 * full barrier of its atomic_sub_return()) and may free it: the caller's
 * read-side section, begun before the new top was published, keeps it.
 */
static void PT_FN(grown)(struct PT_TABLE *t, u64 *old, unsigned int level)
	__must_hold(RCU)
{
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	atomic_t *live = PT_FN(live)(t, old, level, level);
	struct pt_iommu *pt = &t->iommu;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "grown() outside RCU");
	/* the new top before the count: pairs with atomic_sub_return() */
	smp_mb();
	if (!live || atomic_read(live) || !PT_FN(map_can_free)(pt))
		return;
	PT_FN(emptied)(t, old, level, 0, &list, NULL, 0, ULONG_MAX);
	iommu_put_pages_list_rcu(&list);
}

/*
 * Grow the top, one level at a time, until it covers @last and can hold a
 * leaf of 1 << @lg2. The old top becomes entry 0 of the new one, so
 * concurrent walkers that read the old top stay valid. The new table is
 * allocated before taking the lock (@gfp may sleep); a thread that lost
 * the race frees it and looks again.
 */
static int PT_FN(grow)(struct PT_TABLE *t, unsigned long last, unsigned int lg2,
		       gfp_t gfp)
{
	struct pt_iommu *pt = &t->iommu;
	unsigned long flags, top;
	unsigned int level;
	size_t size;
	u64 *table;

	while (true) {
		top = READ_ONCE(pt->top);
		level = pt_top_level(top);
		if (pt_fmt_top_fits(t, level, last, lg2))
			return 0;
		if (level == pt->max_top_level)
			return -ERANGE;
		size = PT_FN(table_size)(t, level + 1, level + 1);
		table = pt_table_alloc(pt, size, gfp);
		if (!table)
			return -ENOMEM;

		spin_lock_irqsave(&pt->top_lock, flags);
		if (pt->top != top) {
			spin_unlock_irqrestore(&pt->top_lock, flags);
			pt_table_free(pt, table, size);
			continue;
		}
		table[0] = pt_fmt_table_entry(t, level + 1,
					      virt_to_phys(pt_top_table(top)));
		pt_live_add(PT_FN(live)(t, table, level + 1, level + 1), 1);
		pt_sync(pt, table, sizeof(u64));
		if (pt->driver_ops && pt->driver_ops->change_top)
			pt->driver_ops->change_top(pt, virt_to_phys(table),
						   level + 1);
		/* for grown(): the old top may be freed once this is seen */
		rcu_read_lock();
		/* The table's contents before the top that points to it. */
		smp_store_release(&pt->top, (unsigned long)table | (level + 1));
		spin_unlock_irqrestore(&pt->top_lock, flags);
		PT_FN(grown)(t, pt_top_table(top), level);
		rcu_read_unlock();
	}
}
#endif

/*
 * A walk went down to @level: the IOVA shift and index mask there. An entry
 * covers a whole table of the level below (init_common() checks that every
 * format keeps to this), so the shift is the one above less the bits this
 * level indexes, with no multiplication per level.
 */
static __always_inline void PT_FN(step_down)(const struct PT_TABLE *t,
					     unsigned int level,
					     unsigned int *shift,
					     unsigned long *mask)
{
	unsigned int bits = pt_fmt_items_lg2(t, level, false);

	*shift -= bits;
	*mask = BIT(bits) - 1;
}

/*
 * One leaf of exactly one entry (what the IOMMU core asks for most): walk
 * down to its level and write it, without the batch and rollback state of
 * map_range(). Returns 1 when the general path must decide (an entry in the
 * way, or a leaf of several entries), -EAGAIN when a table on the way was
 * claimed for freeing (walk again).
 */
static __always_inline int PT_FN(map_one)(struct PT_TABLE *t,
					  unsigned long iova, u64 pa,
					  unsigned int lg2, u64 attrs,
					  gfp_t gfp)
{
	const unsigned long top = READ_ONCE(t->iommu.top);
	const unsigned int top_level = pt_top_level(top);
	unsigned int level = top_level;
	unsigned int shift = pt_fmt_va_lg2(t, level);
	unsigned long mask = BIT(PT_FN(items_lg2)(t, level, level)) - 1;
	u64 *table = pt_top_table(top);
	u64 *ptep, pte;
	int ret;

	while (shift != lg2) {
		if (!level || shift < lg2)
			return 1;
		ptep = &table[(iova >> shift) & mask];
		pte = READ_ONCE(*ptep);
		if (unlikely(!pt_fmt_is_table(t, level, pte))) {
			if (pte == PT_ENTRY_UNLINKING)
				return -EAGAIN;
			if (pte)
				return -EEXIST;
			ret = PT_FN(new_table)(t, table, ptep, level, top_level,
					       iova, gfp, &pte);
			if (ret)
				return ret;
			if (!pt_fmt_is_table(t, level, pte))
				return -EEXIST;
		} else {
			PT_FN(table_seen)(t, ptep, pte);
		}
		table = PT_FN(table_va)(t, pte);
		level--;
		PT_FN(step_down)(t, level, &shift, &mask);
	}
	ptep = &table[(iova >> shift) & mask];
	if (READ_ONCE(*ptep))
		return 1;
	if (!pt_live_add(PT_FN(live)(t, table, level, top_level), 1))
		return -EAGAIN;
	WRITE_ONCE(*ptep, pt_fmt_leaf_entry(t, level, pa, lg2, attrs));
	pt_sync(&t->iommu, ptep, sizeof(*ptep));
	return 0;
}

/*
 * Unmap when one leaf starting at @iova covers the whole request; returns
 * 0 when the general path must do it (a smaller leaf, where a covered
 * table may have to be freed) or there is nothing to unmap (it finds that
 * again, cheaply). A table the leaf leaves empty goes on @free.
 */
static __always_inline size_t PT_FN(unmap_one)(struct PT_TABLE *t,
					       unsigned long iova, size_t len,
					       struct iommu_pages_list *free,
					       struct iommu_iotlb_gather *gather)
{
	const unsigned long top = READ_ONCE(t->iommu.top);
	const unsigned int top_level = pt_top_level(top);
	unsigned int level = top_level, lg2, i, n;
	unsigned int shift = pt_fmt_va_lg2(t, level);
	unsigned long mask = BIT(PT_FN(items_lg2)(t, level, level)) - 1;
	u64 *table = pt_top_table(top);
	u64 *ptep, pte;

	if (!PT_FN(top_len)(t, level, iova, len))
		return 0;
	while (true) {
		ptep = &table[(iova >> shift) & mask];
		pte = READ_ONCE(*ptep);
		if (!level || pte == PT_ENTRY_UNLINKING ||
		    !pt_fmt_is_table(t, level, pte))
			break;
		table = PT_FN(table_va)(t, pte);
		level--;
		PT_FN(step_down)(t, level, &shift, &mask);
	}
	if (!pte || pte == PT_ENTRY_UNLINKING)
		return 0;
#ifdef PT_FMT_LEVEL_SIZES
	lg2 = pt_fmt_leaf_lg2(t, level, pte);
#else
	lg2 = shift;	/* a leaf is one entry */
#endif
	if ((1UL << lg2) < len || (iova & ((1UL << lg2) - 1)) ||
	    ((t->iommu.flags & PT_FLAG_SPLIT) && (1UL << lg2) != len))
		return 0;
	/* @iova is the leaf's start: @ptep is its first entry. */
	n = 1U << (lg2 - shift);
	if (likely(n == 1)) {
		WRITE_ONCE(*ptep, 0);
	} else {
		for (i = 0; i < n; i++)
			WRITE_ONCE(ptep[i], 0);
	}
	pt_sync(&t->iommu, ptep, n * sizeof(*ptep));
	if (pt_live_sub(PT_FN(live)(t, table, level, top_level), n) && free)
		PT_FN(emptied)(t, table, level, iova, free, gather, iova,
			       iova + (1UL << lg2) - 1);
	return 1UL << lg2;
}

static int PT_FN(map_pages)(struct pt_iommu *pt, unsigned long iova,
			    phys_addr_t paddr, size_t pgsize, size_t pgcount,
			    int prot, gfp_t gfp, size_t *mapped)
{
	struct PT_TABLE *t = pt_from_iommu(pt);
	u64 pa = paddr, min_size, attrs;
	size_t len;
	int ret;

	if (likely(pgcount == 1))
		len = pgsize;
	else if (check_mul_overflow(pgsize, pgcount, &len) || !len)
		return -EINVAL;
	if (!is_power_of_2(pgsize) || !(pgsize & pt->pgsize_bitmap))
		return -EINVAL;
	min_size = pt->pgsize_bitmap & -pt->pgsize_bitmap;
	if ((iova | pa) & (min_size - 1))
		return -EINVAL;
	if (!PT_FN(iova_ok)(t, iova, len) ||
	    (pt->oa_lg2 < 64 && (pa + len - 1) >> pt->oa_lg2) ||
	    pa + len - 1 < pa)
		return -ERANGE;
	if (!(prot & (IOMMU_READ | IOMMU_WRITE)) || (prot & ~PT_PROT_KNOWN))
		return -EINVAL;
	ret = pt_fmt_attrs(t, prot, &attrs);
	if (ret)
		return ret;
#ifdef PT_FMT_GROWS
	{
		unsigned int level = pt_iommu_top_level(pt);
		unsigned int lim = PT_FN(lim)(iova, pa, len);
		unsigned long last = iova + len - 1;

		/*
		 * Cheap test first: the top covers the range and no leaf as
		 * large as the next level's entries can be asked for.
		 */
		if (unlikely(PT_FN(span_lg2)(t, level, level) < BITS_PER_LONG &&
			     (last >> PT_FN(span_lg2)(t, level, level))) ||
		    unlikely(lim >= pt_fmt_va_lg2(t, level + 1))) {
			/* The largest leaf size that fits; the bitmap has 4K. */
			lim = __fls(pt->pgsize_bitmap & GENMASK_ULL(lim, 0));
			ret = PT_FN(grow)(t, last, lim, gfp);
			if (ret)
				return ret;
		}
	}
#endif
	/*
	 * Tables an unmap empties are freed after a grace period: every walk
	 * is a read-side section (new_table() leaves it to sleep).
	 */
	rcu_read_lock();
	/* One leaf of pgsize; else pgsize is only a hint to map_range(). */
	if (pgcount == 1 && !((iova | pa) & (pgsize - 1))) {
		while (true) {
			ret = PT_FN(map_one)(t, iova, pa, __ffs(pgsize), attrs,
					     gfp);
			if (ret != -EAGAIN)
				break;
			pt_rewalk_wait();
		}
		if (!ret)
			*mapped += len;
	} else {
		ret = 1;
	}
	if (ret > 0)
		ret = PT_FN(map_range)(t, iova, pa, len, attrs, gfp, mapped);
	rcu_read_unlock();
	return ret;
}

static size_t PT_FN(unmap_pages)(struct pt_iommu *pt, unsigned long iova,
				 size_t pgsize, size_t pgcount,
				 struct iommu_iotlb_gather *gather)
{
	struct PT_TABLE *t = pt_from_iommu(pt);
	const struct pt_iommu_driver_ops *ops = pt->driver_ops;
	u64 min_size = pt->pgsize_bitmap & -pt->pgsize_bitmap;
	struct iommu_pages_list own = IOMMU_PAGES_LIST_INIT(own);
	bool report = ops && ops->leaves_unmapped;
	struct iommu_pages_list *free;
	size_t len, done;

	if (likely(pgcount == 1))
		len = pgsize;
	else if (check_mul_overflow(pgsize, pgcount, &len))
		return 0;
	if (!is_power_of_2(pgsize) || (iova & (min_size - 1)) ||
	    !PT_FN(iova_ok)(t, iova, len))
		return 0;
	/*
	 * A driver that flushes the walk caches of each table unlinked gets
	 * the tables freed here, after an RCU grace period for lockless
	 * iova_to_phys(); otherwise they go on the gather's freelist for the
	 * driver to put after its IOTLB flush.
	 */
	if (ops && ops->table_unlinked)
		free = &own;
	else
		free = gather ? &gather->freelist : NULL;
	rcu_read_lock();
	/* One page asked for: most often one leaf covers it. */
	done = pgcount == 1 ? PT_FN(unmap_one)(t, iova, len, free, gather) : 0;
	if (done && report)
		ops->leaves_unmapped(pt, gather, iova, __ffs(done), 1);
	else if (!done)
		done = PT_FN(unmap_range)(t, iova, len, free, gather, report);
	rcu_read_unlock();
	if (free == &own && !iommu_pages_list_empty(&own))
		iommu_put_pages_list_rcu(&own);
	if (done && gather && !report)
		iommu_iotlb_gather_add_range(gather, iova, done);
	return done;
}

static phys_addr_t PT_FN(iova_to_phys)(struct pt_iommu *pt, unsigned long iova)
{
	struct PT_TABLE *t = pt_from_iommu(pt);
	unsigned int level, top_level;
	phys_addr_t pa = 0;
	unsigned long top;
	u64 *table;

	if (!PT_FN(iova_ok)(t, iova, 1))
		return 0;
	/* a top that grew may be freed as an inner table: read it inside */
	rcu_read_lock();
	top = READ_ONCE(pt->top);
	top_level = pt_top_level(top);
	level = top_level;
	table = pt_top_table(top);
	while (PT_FN(top_len)(t, top_level, iova, 1)) {
		u64 pte = READ_ONCE(table[PT_FN(index)(t, iova, level,
						       top_level)]);
		unsigned int lg2;

		if (!pte || pte == PT_ENTRY_UNLINKING)
			break;
		if (level && pt_fmt_is_table(t, level, pte)) {
			table = PT_FN(table_va)(t, pte);
			level--;
			continue;
		}
		lg2 = pt_fmt_leaf_lg2(t, level, pte);
		pa = pt_fmt_leaf_pa(t, level, pte) |
		     (iova & ((1ULL << lg2) - 1));
		break;
	}
	rcu_read_unlock();
	return pa;
}

#ifdef PT_FMT_DIRTY
static int PT_FN(read_and_clear_dirty)(struct pt_iommu *pt,
				       unsigned long iova, size_t size,
				       unsigned long flags,
				       struct iommu_dirty_bitmap *dirty)
{
	struct PT_TABLE *t = pt_from_iommu(pt);
	u64 *tables[PT_MAX_LEVELS] __uninitialized;
	unsigned long run_base = 0, run_len = 0, top;
	unsigned int level, top_level;
	size_t left = size;
	int ret = 0;

	if (!pt_fmt_dirty_enabled(t))
		return -EOPNOTSUPP;
	if (!PT_FN(iova_ok)(t, iova, size) ||
	    (iova & ((pt->pgsize_bitmap & -pt->pgsize_bitmap) - 1)))
		return -EINVAL;

	/*
	 * Recording may sleep (it pins the bitmap's pages): contiguous dirty
	 * leaves make one run, recorded outside the read-side section, after
	 * which the walk starts again from the top.
	 */
	rcu_read_lock();
again:
	top = READ_ONCE(pt->top);
	top_level = pt_top_level(top);
	level = top_level;
	/* a read past the top stops at its end: nothing maps there */
	left = PT_FN(top_len)(t, top_level, iova, left);
	tables[level] = pt_top_table(top);
	while (left) {
		u64 *table = tables[level];
		unsigned int shift = pt_fmt_va_lg2(t, level);
		unsigned int idx = PT_FN(index)(t, iova, level, top_level);
		unsigned int end = 1U << PT_FN(items_lg2)(t, level, top_level);
		u64 pte = 0;

		for (; idx < end && left; ) {
			unsigned int i, n, lg2;
			unsigned long step, base, done_base = 0, done_len = 0;
			bool was_dirty = false;

			pte = READ_ONCE(table[idx]);
			if (pte == PT_ENTRY_UNLINKING)
				pte = 0;	/* maps nothing */
			if (pte && level && pt_fmt_is_table(t, level, pte))
				break;
			lg2 = pte ? pt_fmt_leaf_lg2(t, level, pte) : shift;
			n = 1U << (lg2 - shift);
			base = iova & ~((1UL << lg2) - 1);
			idx &= ~(n - 1);
			for (i = 0; pte && i < n; i++) {
				u64 *ptep = &table[idx + i];

				if (!pt_fmt_leaf_dirty(t, READ_ONCE(*ptep)))
					continue;
				was_dirty = true;
				if (flags & IOMMU_DIRTY_NO_CLEAR)
					break;
				pt_fmt_leaf_clear_dirty(t, ptep);
				pt_sync(pt, ptep, sizeof(*ptep));
			}
			if (was_dirty) {
				if (run_len && run_base + run_len == base) {
					run_len += 1UL << lg2;
				} else {
					done_base = run_base;
					done_len = run_len;
					run_base = base;
					run_len = 1UL << lg2;
				}
			}
			step = base + (1UL << lg2) - iova;
			if (step >= left) {
				left = 0;
			} else {
				left -= step;
				iova += step;
				idx += n;
			}
			if (done_len) {
				rcu_read_unlock();
				iommu_dirty_bitmap_record(dirty, done_base,
							  done_len);
				rcu_read_lock();
				goto again;
			}
		}
		if (!left)
			break;
		if (idx != end) {
			tables[--level] = PT_FN(table_va)(t, pte);
			continue;
		}
		if (!PT_FN(up)(t, &level, top_level, iova)) {
			ret = -EINVAL;
			break;
		}
	}
	rcu_read_unlock();
	if (run_len)
		iommu_dirty_bitmap_record(dirty, run_base, run_len);
	return ret;
}
#endif

/* Count @table at @level, not the top, and every table below it. */
static void PT_FN(stats_table)(const struct PT_TABLE *t, u64 *table,
			       unsigned int level, struct pt_iommu_stats *st)
{
	unsigned int i, n = 1U << pt_fmt_items_lg2(t, level, false);
	unsigned int shift = pt_fmt_va_lg2(t, level);

	pt_stats_add_table(st, table, level);
	for (i = 0; i < n; i++) {
		u64 pte = READ_ONCE(table[i]);

		if (!pte || pte == PT_ENTRY_UNLINKING)
			continue;
		if (level && pt_fmt_is_table(t, level, pte))
			PT_FN(stats_table)(t, PT_FN(table_va)(t, pte),
					   level - 1, st);
		else
			pt_stats_add_leaf(st, i, shift,
					  pt_fmt_leaf_lg2(t, level, pte));
	}
}

/* Count one entry at @level, index @idx, and what it points to. */
static void PT_FN(stats_entry)(const struct PT_TABLE *t, u64 pte,
			       unsigned int level, unsigned int idx,
			       struct pt_iommu_stats *st)
{
	if (!pte || pte == PT_ENTRY_UNLINKING)
		return;
	if (level && pt_fmt_is_table(t, level, pte))
		PT_FN(stats_table)(t, PT_FN(table_va)(t, pte), level - 1, st);
	else
		pt_stats_add_leaf(st, idx, pt_fmt_va_lg2(t, level),
				  pt_fmt_leaf_lg2(t, level, pte));
}

/*
 * Every table a map or unmap unlinks is freed after a grace period, the
 * top of a format that grows too once it is an inner table. So each entry
 * of a table below the top is counted, with its subtree, in an RCU
 * read-side section of its own, reached again from the top, which each
 * section checks is still the top (after a growth the walk stops with what
 * it counted): no section covers more than one entry of the second level.
 */
static void PT_FN(stats)(struct pt_iommu *pt, struct pt_iommu_stats *st)
{
	struct PT_TABLE *t = pt_from_iommu(pt);
	unsigned int i, j, n, m, top_level;
	bool grew = false;
	unsigned long top;
	u64 *table, pte;

	rcu_read_lock();
	top = READ_ONCE(pt->top);
	if (!top) {
		rcu_read_unlock();
		return;
	}
	top_level = pt_top_level(top);
	table = pt_top_table(top);
	n = 1U << PT_FN(items_lg2)(t, top_level, top_level);
	st->levels = top_level + 1;
	pt_stats_add_table(st, table, top_level);
	rcu_read_unlock();
	for (i = 0; i < n && !grew; i++) {
		rcu_read_lock();
		grew = READ_ONCE(pt->top) != top;
		pte = grew ? 0 : READ_ONCE(table[i]);
		if (!pte || !top_level || !pt_fmt_is_table(t, top_level, pte)) {
			PT_FN(stats_entry)(t, pte, top_level, i, st);
			rcu_read_unlock();
			continue;
		}
		rcu_read_unlock();
		m = 1U << pt_fmt_items_lg2(t, top_level - 1, false);
		for (j = 0; j < m && !grew; j++) {
			rcu_read_lock();
			grew = READ_ONCE(pt->top) != top;
			pte = grew ? 0 : READ_ONCE(table[i]);
			if (pte && pt_fmt_is_table(t, top_level, pte)) {
				u64 *below = PT_FN(table_va)(t, pte);

				if (!j)
					pt_stats_add_table(st, below,
							   top_level - 1);
				PT_FN(stats_entry)(t, READ_ONCE(below[j]),
						   top_level - 1, j, st);
			}
			rcu_read_unlock();
			cond_resched();
		}
	}
}

static void PT_FN(deinit)(struct pt_iommu *pt)
{
	struct PT_TABLE *t = pt_from_iommu(pt);
	struct iommu_pages_list list = IOMMU_PAGES_LIST_INIT(list);
	unsigned long top = READ_ONCE(pt->top);

	pt_debug_del(pt);
	if (!top)
		return;
	PT_FN(collect)(t, pt_top_table(top), pt_top_level(top),
		       pt_top_level(top), &list);
	iommu_put_pages_list(&list);
	WRITE_ONCE(pt->top, 0);
}

static const struct pt_iommu_ops PT_FN(ops) = {
	.name = __stringify(PT_FMT),
	.map_pages = PT_FN(map_pages),
	.unmap_pages = PT_FN(unmap_pages),
	.iova_to_phys = PT_FN(iova_to_phys),
#ifdef PT_FMT_DIRTY
	.read_and_clear_dirty = PT_FN(read_and_clear_dirty),
#endif
	.stats = PT_FN(stats),
	.deinit = PT_FN(deinit),
};

/*
 * Common part of every pt_iommu_<fmt>_init(): the format filled in its
 * fields, top level, page sizes and address widths; allocate the top.
 */
static int PT_FN(init_common)(struct PT_TABLE *t, unsigned int top_level,
			      unsigned int flags, int nid, gfp_t gfp)
{
	struct pt_iommu *pt = &t->iommu;
	unsigned int level;
	u64 *table;

#ifdef CONFIG_IOMMU_DEBUGFS
	INIT_LIST_HEAD(&pt->debug_node);
#endif
	if ((flags & PT_FLAG_INCOHERENT) && !IS_ENABLED(CONFIG_X86) &&
	    !pt->iommu_device)
		return -EINVAL;
	if (gfp & (__GFP_HIGHMEM | __GFP_DMA | __GFP_DMA32))
		return -EINVAL;
	/* An entry covers a whole table of the level below (step_down()). */
	for (level = 0; level < pt->max_top_level; level++)
		if (WARN_ON(pt_fmt_va_lg2(t, level + 1) !=
			    pt_fmt_va_lg2(t, level) +
			    pt_fmt_items_lg2(t, level, false)))
			return -EINVAL;
	/* generic_pt.keep_tables: for measuring what reclaim costs */
	if (pt_keep_tables())
		flags |= PT_FLAG_KEEP_TABLES;
	pt->flags = flags;
	pt->nid = nid;
	pt->ops = &PT_FN(ops);
	spin_lock_init(&pt->top_lock);
	table = pt_table_alloc(pt, PT_FN(alloc_size)(t, top_level, top_level),
			       gfp);
	if (!table)
		return -ENOMEM;
	WRITE_ONCE(pt->top, (unsigned long)table | top_level);
	pt_debug_add(pt);
	return 0;
}
