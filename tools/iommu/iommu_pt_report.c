// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommu_pt_report: IOMMU page-table memory from a running kernel, or from
 * snapshots of it, as a table, as JSON, or as the difference of two.
 *
 * It reads the two debugfs reports (Documentation/iommu/generic_pt.rst,
 * Documentation/iommu/iommu-pages.rst): /sys/kernel/debug/iommu/generic_pt,
 * one entry per page table generic_pt built, and
 * /sys/kernel/debug/iommu/pages, what iommu-pages holds per node and pool.
 *
 *   iommu_pt_report [-d DIR] [--json]     report (DIR: a saved snapshot)
 *   iommu_pt_report --save DIR            save a snapshot of the live files
 *   iommu_pt_report --diff OLD NEW [--json]
 *                                         what changed from OLD to NEW
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEBUGFS_DIR	"/sys/kernel/debug/iommu"
#define MAX_LEVELS	8
#define MAX_LG2		64

struct domain {
	unsigned int id;
	char iommu[128];
	char format[16];
	unsigned int levels, va, oa;
	unsigned long long tables[MAX_LEVELS];
	unsigned long long bytes[MAX_LEVELS];
	unsigned long long leaves[MAX_LG2];
	unsigned long long whole_pages, frag_bytes, table_bytes, mapped;
};

struct node {
	int nid;
	long nr, in_fragments, whole;
};

struct pool {
	int nid;
	char zone[8];
	long size, pages, used, free;
};

struct snapshot {
	struct domain *domains;
	unsigned int ndomains;
	struct node *nodes;
	unsigned int nnodes;
	struct pool *pools;
	unsigned int npools;
	long page_size;
};

static const char *prog = "iommu_pt_report";

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void *grow(void *p, unsigned int n, size_t size)
{
	p = realloc(p, (n + 1) * size);
	if (!p)
		die("out of memory");
	memset((char *)p + n * size, 0, size);
	return p;
}

static FILE *open_report(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		die("cannot read %s: %s%s", path, strerror(errno),
		    errno == ENOENT && !strcmp(dir, DEBUGFS_DIR) ?
		    " (is debugfs mounted, CONFIG_IOMMU_DEBUGFS and CONFIG_GENERIC_PT set?)" :
		    "");
	return f;
}

/* "4K 12 2M 3": sizes with units B, K, M, G, T, P, E and their counts */
static int parse_leaves(struct domain *d, char *s)
{
	static const char units[] = "BKMGTPE";
	char *tok, *save = NULL;

	for (tok = strtok_r(s, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *end, *count;
		unsigned long long n;
		const char *u;
		unsigned int lg2;

		if (!strcmp(tok, "none"))
			continue;
		n = strtoull(tok, &end, 10);
		u = *end ? strchr(units, *end) : NULL;
		count = strtok_r(NULL, " \t", &save);
		if (!u || end[1] || !n || (n & (n - 1)) || !count)
			return -1;
		lg2 = __builtin_ctzll(n) + 10 * (unsigned int)(u - units);
		if (lg2 >= MAX_LG2)
			return -1;
		d->leaves[lg2] = strtoull(count, &end, 10);
		if (*end)
			return -1;
	}
	return 0;
}

static void read_pt(struct snapshot *s, const char *dir)
{
	FILE *f = open_report(dir, "generic_pt");
	struct domain *d = NULL;
	char line[4096];
	unsigned int no = 0;
	int totals = 0;

	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b, c, e;
		unsigned int level;

		no++;
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "domain ", 7)) {
			if (d)
				die("%s/generic_pt:%u: domain %u has no summary line",
				    dir, no, d->id);
			s->domains = grow(s->domains, s->ndomains,
					  sizeof(*s->domains));
			d = &s->domains[s->ndomains++];
			if (sscanf(line, "domain %u iommu %127s format %15s levels %u va %u oa %u",
				   &d->id, d->iommu, d->format, &d->levels,
				   &d->va, &d->oa) != 6 ||
			    d->levels > MAX_LEVELS)
				die("%s/generic_pt:%u: not a domain line: %s",
				    dir, no, line);
		} else if (d && sscanf(line, " level %u tables %llu bytes %llu",
				       &level, &a, &b) == 3) {
			if (level >= d->levels)
				die("%s/generic_pt:%u: level %u of a table of %u levels",
				    dir, no, level, d->levels);
			d->tables[level] = a;
			d->bytes[level] = b;
		} else if (d && !strncmp(line, "  leaves", 8)) {
			if (parse_leaves(d, line + 8))
				die("%s/generic_pt:%u: bad leaves: %s", dir,
				    no, line);
		} else if (d &&
			   sscanf(line,
				  " whole_pages %llu frag_bytes %llu table_bytes %llu mapped %llu",
				  &a, &b, &c, &e) == 4) {
			d->whole_pages = a;
			d->frag_bytes = b;
			d->table_bytes = c;
			d->mapped = e;
			d = NULL;
		} else if (!d && !strncmp(line, "all domains ", 12)) {
			totals = 1;
		} else if (!strncmp(line, "  ", 2)) {
			die("%s/generic_pt:%u: not inside a domain: %s", dir,
			    no, line);
		}
	}
	fclose(f);
	if (d)
		die("%s/generic_pt: domain %u has no summary line", dir, d->id);
	if (!totals)
		die("%s/generic_pt: no \"all domains\" line: not a generic_pt report",
		    dir);
}

static void read_pages(struct snapshot *s, const char *dir)
{
	FILE *f = open_report(dir, "pages");
	char line[4096];
	int seen = 0;

	while (fgets(line, sizeof(line), f)) {
		struct pool p = {};
		struct node n = {};

		if (sscanf(line, "%d %7s %ld %ld %ld %ld", &p.nid, p.zone,
			   &p.size, &p.pages, &p.used, &p.free) == 6) {
			s->pools = grow(s->pools, s->npools, sizeof(p));
			s->pools[s->npools++] = p;
		} else if (sscanf(line, "%d %ld %ld %ld", &n.nid, &n.nr,
				  &n.in_fragments, &n.whole) == 4) {
			s->nodes = grow(s->nodes, s->nnodes, sizeof(n));
			s->nodes[s->nnodes++] = n;
		} else if (!strncmp(line, "node  nr_iommu_pages", 20)) {
			seen = 1;
		}
	}
	fclose(f);
	if (!seen)
		die("%s/pages: not an iommu-pages report", dir);
}

static void read_snapshot(struct snapshot *s, const char *dir)
{
	memset(s, 0, sizeof(*s));
	s->page_size = sysconf(_SC_PAGESIZE);
	read_pt(s, dir);
	read_pages(s, dir);
	/* a snapshot of another machine: its page size from its tables */
	for (unsigned int i = 0; i < s->ndomains; i++) {
		struct domain *d = &s->domains[i];

		if (d->whole_pages && d->table_bytes > d->frag_bytes) {
			s->page_size = (d->table_bytes - d->frag_bytes) /
				       d->whole_pages;
			break;
		}
	}
}

static unsigned long long domain_tables(const struct domain *d)
{
	unsigned long long n = 0;

	for (unsigned int l = 0; l < MAX_LEVELS; l++)
		n += d->tables[l];
	return n;
}

static void size_name(char *buf, size_t len, unsigned int lg2)
{
	static const char units[] = "BKMGTPE";
	unsigned int u = lg2 / 10 > 6 ? 6 : lg2 / 10;

	snprintf(buf, len, "%llu%c", 1ULL << (lg2 - 10 * u), units[u]);
}

static void ratio(char *buf, size_t len, unsigned long long table, unsigned long long mapped)
{
	if (!mapped)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f%%", 100.0 * table / mapped);
}

struct totals {
	long domains;
	unsigned long long tables, whole_pages, frag_bytes, table_bytes, mapped;
	long nr, in_fragments, whole;
};

static struct totals totals(const struct snapshot *s)
{
	struct totals t = {};
	unsigned int i;

	for (i = 0; i < s->ndomains; i++) {
		const struct domain *d = &s->domains[i];

		t.domains++;
		t.tables += domain_tables(d);
		t.whole_pages += d->whole_pages;
		t.frag_bytes += d->frag_bytes;
		t.table_bytes += d->table_bytes;
		t.mapped += d->mapped;
	}
	for (i = 0; i < s->nnodes; i++) {
		t.nr += s->nodes[i].nr;
		t.in_fragments += s->nodes[i].in_fragments;
		t.whole += s->nodes[i].whole;
	}
	return t;
}

static void print_text(const struct snapshot *s)
{
	struct totals t = totals(s);
	char r[32], sz[16];
	unsigned int i, j;

	printf("IOMMU page tables built by generic_pt\n");
	printf("%8s  %-20s %-7s %6s %7s %10s %11s %12s  %s\n", "domain",
	       "iommu", "format", "levels", "tables", "table KiB",
	       "mapped KiB", "table/mapped", "leaves");
	for (i = 0; i < s->ndomains; i++) {
		const struct domain *d = &s->domains[i];
		int any = 0;

		ratio(r, sizeof(r), d->table_bytes, d->mapped);
		printf("%8u  %-20s %-7s %6u %7llu %10.1f %11.1f %12s  ",
		       d->id, d->iommu, d->format, d->levels,
		       domain_tables(d), d->table_bytes / 1024.0,
		       d->mapped / 1024.0, r);
		for (j = 0; j < MAX_LG2; j++) {
			if (!d->leaves[j])
				continue;
			size_name(sz, sizeof(sz), j);
			printf("%s%s:%llu", any++ ? " " : "", sz,
			       d->leaves[j]);
		}
		printf("%s\n", any ? "" : "-");
	}
	ratio(r, sizeof(r), t.table_bytes, t.mapped);
	printf("%8s  %-20s %-7s %6s %7llu %10.1f %11.1f %12s\n",
	       "all", "", "", "", t.tables, t.table_bytes / 1024.0,
	       t.mapped / 1024.0, r);

	printf("\niommu-pages (NR_IOMMU_PAGES, %ld-byte pages)\n", s->page_size);
	printf("%6s %15s %13s %10s\n", "node", "nr_iommu_pages", "in_fragments",
	       "whole");
	for (i = 0; i < s->nnodes; i++)
		printf("%6d %15ld %13ld %10ld\n", s->nodes[i].nid,
		       s->nodes[i].nr, s->nodes[i].in_fragments,
		       s->nodes[i].whole);
	if (s->npools) {
		printf("%6s %-7s %6s %6s %9s %9s %10s\n", "node", "zone",
		       "size", "pages", "used", "free", "free KiB");
		for (i = 0; i < s->npools; i++) {
			const struct pool *p = &s->pools[i];

			printf("%6d %-7s %6ld %6ld %9ld %9ld %10.1f\n", p->nid,
			       p->zone, p->size, p->pages, p->used, p->free,
			       p->free * p->size / 1024.0);
		}
	}
	printf("\nof %ld pages: %llu whole-page generic_pt tables, %ld in fragment pools\n",
	       t.nr, t.whole_pages, t.in_fragments);
	printf("(%llu bytes of them are generic_pt tables), %ld other whole allocations\n",
	       t.frag_bytes, t.whole - (long)t.whole_pages);
	printf("(interrupt remapping, queues, context and PASID tables, %s)\n",
	       "tables not built by generic_pt");
}

/* JSON: one "key": value member of an object, after a comma if not @*first */
static void jkey(int *first, const char *key)
{
	printf("%s\"%s\": ", *first ? "" : ", ", key);
	*first = 0;
}

static void jnum(int *first, const char *key, long long v)
{
	jkey(first, key);
	printf("%lld", v);
}

static void jstr(int *first, const char *key, const char *v)
{
	jkey(first, key);
	putchar('"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			printf("\\%c", *v);
		else if ((unsigned char)*v < 0x20)
			printf("\\u%04x", *v);
		else
			putchar(*v);
	}
	putchar('"');
}

static void jarray(int *first, const char *key,
		   const unsigned long long *v, unsigned int n)
{
	jkey(first, key);
	for (unsigned int i = 0; i < n; i++)
		printf("%s%llu", i ? ", " : "[", v[i]);
	printf("%s", n ? "]" : "[]");
}

static void json_totals(const struct totals *t)
{
	int f = 1;

	printf("  \"totals\": {");
	jnum(&f, "domains", t->domains);
	jnum(&f, "tables", t->tables);
	jnum(&f, "whole_pages", t->whole_pages);
	jnum(&f, "frag_bytes", t->frag_bytes);
	jnum(&f, "table_bytes", t->table_bytes);
	jnum(&f, "mapped_bytes", t->mapped);
	jnum(&f, "nr_iommu_pages", t->nr);
	jnum(&f, "in_fragments", t->in_fragments);
	jnum(&f, "other_whole_pages", t->whole - (long)t->whole_pages);
	printf("}\n}\n");
}

static void print_json(const struct snapshot *s)
{
	struct totals t = totals(s);
	unsigned int i, j;
	char key[32];

	printf("{\n  \"page_size\": %ld,\n  \"domains\": [", s->page_size);
	for (i = 0; i < s->ndomains; i++) {
		const struct domain *d = &s->domains[i];
		int f = 1, lf = 1;

		printf("%s\n    {", i ? "," : "");
		jnum(&f, "id", d->id);
		jstr(&f, "iommu", d->iommu);
		jstr(&f, "format", d->format);
		jnum(&f, "levels", d->levels);
		jnum(&f, "va_bits", d->va);
		jnum(&f, "oa_bits", d->oa);
		jarray(&f, "tables_per_level", d->tables, d->levels);
		jarray(&f, "table_bytes_per_level", d->bytes, d->levels);
		jkey(&f, "leaves");
		printf("{");
		for (j = 0; j < MAX_LG2; j++) {
			if (!d->leaves[j])
				continue;
			snprintf(key, sizeof(key), "%llu", 1ULL << j);
			jnum(&lf, key, d->leaves[j]);
		}
		printf("}");
		jnum(&f, "whole_pages", d->whole_pages);
		jnum(&f, "frag_bytes", d->frag_bytes);
		jnum(&f, "table_bytes", d->table_bytes);
		jnum(&f, "mapped_bytes", d->mapped);
		printf("}");
	}
	printf("\n  ],\n  \"nodes\": [");
	for (i = 0; i < s->nnodes; i++) {
		int f = 1;

		printf("%s\n    {", i ? "," : "");
		jnum(&f, "node", s->nodes[i].nid);
		jnum(&f, "nr_iommu_pages", s->nodes[i].nr);
		jnum(&f, "in_fragments", s->nodes[i].in_fragments);
		jnum(&f, "whole", s->nodes[i].whole);
		printf("}");
	}
	printf("\n  ],\n  \"pools\": [");
	for (i = 0; i < s->npools; i++) {
		const struct pool *p = &s->pools[i];
		int f = 1;

		printf("%s\n    {", i ? "," : "");
		jnum(&f, "node", p->nid);
		jstr(&f, "zone", p->zone);
		jnum(&f, "size", p->size);
		jnum(&f, "pages", p->pages);
		jnum(&f, "used", p->used);
		jnum(&f, "free", p->free);
		printf("}");
	}
	printf("\n  ],\n");
	json_totals(&t);
}

/*
 * @d's domain in @s: the same number, IOMMU and format (numbers are per
 * boot: snapshots of two boots share few domains).
 */
static const struct domain *find_domain(const struct snapshot *s,
					const struct domain *d)
{
	for (unsigned int i = 0; i < s->ndomains; i++) {
		const struct domain *e = &s->domains[i];

		if (e->id == d->id && !strcmp(e->iommu, d->iommu) &&
		    !strcmp(e->format, d->format))
			return e;
	}
	return NULL;
}

/* One domain's change; @a or @b NULL for one that came or went. */
static void diff_domain(const struct domain *a, const struct domain *b,
			int json, int *first)
{
	static const struct domain none;
	const struct domain *d = b ? b : a;
	const char *what = !a ? "new" : !b ? "freed" : "changed";

	if (!a)
		a = &none;
	if (!b)
		b = &none;
	if (a != &none && b != &none && domain_tables(a) == domain_tables(b) &&
	    a->table_bytes == b->table_bytes && a->mapped == b->mapped &&
	    !memcmp(a->leaves, b->leaves, sizeof(a->leaves)))
		return;
	if (json) {
		int f = 1;

		printf("%s\n    {", *first ? "" : ",");
		jnum(&f, "id", d->id);
		jstr(&f, "iommu", d->iommu);
		jstr(&f, "change", what);
		jnum(&f, "tables", domain_tables(b) - domain_tables(a));
		jnum(&f, "table_bytes", b->table_bytes - a->table_bytes);
		jnum(&f, "mapped_bytes", b->mapped - a->mapped);
		printf("}");
	} else {
		printf("%8u  %-20s %-8s %+8lld %+12.1f %+12.1f\n",
		       d->id, d->iommu, what,
		       (long long)(domain_tables(b) - domain_tables(a)),
		       ((double)b->table_bytes - a->table_bytes) / 1024.0,
		       ((double)b->mapped - a->mapped) / 1024.0);
	}
	*first = 0;
}

static void print_diff(const struct snapshot *a, const struct snapshot *b,
		       int json)
{
	struct totals ta = totals(a), tb = totals(b);
	unsigned int i;
	int first = 1;

	if (json)
		printf("{\n  \"domains\": [");
	else
		printf("%8s  %-20s %-8s %8s %12s %12s\n", "domain", "iommu",
		       "change", "tables", "table KiB", "mapped KiB");
	for (i = 0; i < a->ndomains; i++)
		diff_domain(&a->domains[i], find_domain(b, &a->domains[i]),
			    json, &first);
	for (i = 0; i < b->ndomains; i++)
		if (!find_domain(a, &b->domains[i]))
			diff_domain(NULL, &b->domains[i], json, &first);
	if (json) {
		struct totals d = {
			.domains = tb.domains - ta.domains,
			.tables = tb.tables - ta.tables,
			.whole_pages = tb.whole_pages - ta.whole_pages,
			.frag_bytes = tb.frag_bytes - ta.frag_bytes,
			.table_bytes = tb.table_bytes - ta.table_bytes,
			.mapped = tb.mapped - ta.mapped,
			.nr = tb.nr - ta.nr,
			.in_fragments = tb.in_fragments - ta.in_fragments,
			.whole = tb.whole - ta.whole,
		};

		printf("\n  ],\n");
		json_totals(&d);
		return;
	}
	if (first)
		printf("%8s  no domain changed\n", "");
	printf("%8s  %-20s %-8s %+8lld %+12.1f %+12.1f\n", "all", "",
	       "", (long long)(tb.tables - ta.tables),
	       ((double)tb.table_bytes - ta.table_bytes) / 1024.0,
	       ((double)tb.mapped - ta.mapped) / 1024.0);
	printf("nr_iommu_pages %+ld (in fragment pools %+ld, %s %+ld); domains %+ld\n",
	       tb.nr - ta.nr, tb.in_fragments - ta.in_fragments,
	       "other whole allocations", (tb.whole - (long)tb.whole_pages) -
	       (ta.whole - (long)ta.whole_pages),
	       tb.domains - ta.domains);
}

static void save(const char *dir)
{
	static const char *const names[] = { "generic_pt", "pages" };
	char path[4096], buf[65536];
	unsigned int i;
	size_t n;

	if (mkdir(dir, 0755) && errno != EEXIST)
		die("cannot make %s: %s", dir, strerror(errno));
	for (i = 0; i < 2; i++) {
		FILE *in = open_report(DEBUGFS_DIR, names[i]), *out;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		out = fopen(path, "w");
		if (!out)
			die("cannot write %s: %s", path, strerror(errno));
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				die("writing %s: %s", path, strerror(errno));
		if (ferror(in) || fclose(out))
			die("saving %s: %s", path, strerror(errno));
		fclose(in);
	}
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-d DIR] [--json]\n"
		"       %s --save DIR\n"
		"       %s --diff OLD NEW [--json]\n"
		"Reports IOMMU page-table memory from %s (or DIR, a\n"
		"snapshot --save made): per generic_pt domain, per node and per\n"
		"fragment pool; --diff shows what changed between two snapshots.\n",
		prog, prog, prog, DEBUGFS_DIR);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "save", required_argument, NULL, 's' },
		{ "diff", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *dir = DEBUGFS_DIR, *save_dir = NULL;
	int json = 0, diff = 0, c;
	struct snapshot a, b;

	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			save_dir = optarg;
			break;
		case 'D':
			diff = 1;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (save_dir) {
		if (diff || json || optind != argc)
			die("--save takes a directory and nothing else");
		save(save_dir);
		return 0;
	}
	if (diff) {
		if (argc - optind != 2)
			die("--diff takes two snapshot directories");
		read_snapshot(&a, argv[optind]);
		read_snapshot(&b, argv[optind + 1]);
		print_diff(&a, &b, json);
		return 0;
	}
	if (optind != argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	read_snapshot(&a, dir);
	if (json)
		print_json(&a);
	else
		print_text(&a);
	return 0;
}
