// SPDX-License-Identifier: GPL-2.0
/*
 * The test guest's /init: checks that the virtio-blk device is translated by
 * an IOMMU, runs a DMA integrity workload through it, watches the IOMMU
 * page-table counters, runs a device lifecycle (remove, rescan, DMA, remove),
 * re-runs the iommu-pages-memcg KUnit suite from a child memory cgroup and
 * does a kmemleak scan, prints the results as KTAP and powers off.
 *
 * Every line meant for the host starts with "init| " and is written with a
 * single write(2), so the host can pick it out of the console log.
 *
 * Parameters come from /proc/cmdline:
 *   iommutest.domain=DMA|DMA-FQ  expected default-domain type (required);
 *                  |none         none: the disk must have no IOMMU group
 *   iommutest.mib=N              MiB written and read per round (default 8)
 *   iommutest.rounds=N           DMA rounds (default 3)
 *   iommutest.lifecycle=0|1      run the device lifecycle (default 1)
 *   iommutest.seed=N             pattern seed (default 1)
 *   iommutest.kselftest=A,B      run the kselftest programs /bin/A, /bin/B
 *                                after the DMA workload; their TAP output is
 *                                forwarded as "ksft| A| " lines
 *   iommutest.dmabench=T/G/S:... bind the spare pci-testdev to
 *                                dma_map_benchmark and run it once per
 *                                T(hreads)/G(ranule pages)/S(econds) triple
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/reboot.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PFX "init| "
#define MAX_TESTS 16

static int test_no;
static int failures;

static void out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	memcpy(buf, PFX, sizeof(PFX) - 1);
	va_start(ap, fmt);
	n = vsnprintf(buf + sizeof(PFX) - 1, sizeof(buf) - sizeof(PFX) - 1,
		      fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += sizeof(PFX) - 1;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(1, buf, n) < 0)
		return;
}

#define diag(...) out("# " __VA_ARGS__)

static void result(int ok, const char *name)
{
	test_no++;
	if (!ok)
		failures++;
	out("%s %d %s", ok ? "ok" : "not ok", test_no, name);
}

static void skip(const char *name, const char *why)
{
	test_no++;
	out("ok %d %s # SKIP %s", test_no, name, why);
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return n;
}

static int write_file(const char *path, const char *s)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* --- parameters ------------------------------------------------------ */

static char cmdline[4096];

static const char *param(const char *key)
{
	static char val[256];
	size_t kl = strlen(key);
	const char *p = cmdline;

	while ((p = strstr(p, key))) {
		if ((p == cmdline || p[-1] == ' ') && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " \n");

			if (n >= sizeof(val))
				n = sizeof(val) - 1;
			memcpy(val, p + kl + 1, n);
			val[n] = 0;
			return val;
		}
		p += kl;
	}
	return NULL;
}

static long param_long(const char *key, long def, long min, long max)
{
	const char *v = param(key);
	char *end;
	long n;

	if (!v)
		return def;
	errno = 0;
	n = strtol(v, &end, 0);
	if (errno || *end || n < min || n > max) {
		diag("bad parameter %s=%s (want %ld..%ld), using %ld", key, v,
		     min, max, def);
		failures++;
		return def;
	}
	return n;
}

/* --- counters -------------------------------------------------------- */

static long field(const char *path, const char *name)
{
	static char buf[32768];
	size_t nl = strlen(name);
	char *p;

	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, name, nl) && (p[nl] == ' ' || p[nl] == ':'))
			return strtol(p + nl + 1 + strspn(p + nl + 1, " :"),
				      NULL, 10);
	}
	return -1;
}

static long iommu_pages(void)
{
	return field("/proc/vmstat", "nr_iommu_pages");
}

static long sec_pt_kb(void)
{
	return field("/proc/meminfo", "SecPageTables");
}

/*
 * With CONFIG_IOMMU_PAGES_SEPARATE_DESC: the descriptor cache's line of
 * /proc/slabinfo ("iommu_ioptdesc <active_objs> <num_objs> <objsize> ...").
 * It is the slab's view, not the live count (the KUnit report has that):
 * SLUB counts the free objects of per-CPU slabs as active, and with KASAN
 * the objects in its quarantine; the size includes debug metadata.
 */
static void report_descs(const char *when)
{
	static char buf[65536];
	long active, total, size;
	char *p;

	if (read_file("/proc/slabinfo", buf, sizeof(buf)) < 0)
		return;
	p = strstr(buf, "\niommu_ioptdesc ");
	if (!p || sscanf(p + 16, "%ld %ld %ld", &active, &total, &size) != 3)
		return;
	diag("descs %s: slabinfo iommu_ioptdesc active=%ld of %ld, %ld bytes each (%ld kB; slab view)",
	     when, active, total, size, active * size / 1024);
}

/*
 * How many io-pgtable LPAE tables generic_pt built are alive (a kernel with
 * CONFIG_IOMMU_IO_PGTABLE_LPAE_GENERIC_PT): after DMA, the device's domain
 * is one of them exactly when io_pgtable_arm.generic_pt=1.
 */
static void report_pt(const char *when)
{
	char buf[32];
	long n;

	if (read_file("/sys/module/io_pgtable_arm_pt/parameters/live_tables",
		      buf, sizeof(buf)) < 0 || sscanf(buf, "%ld", &n) != 1)
		return;
	diag("generic_pt %s: %ld live io-pgtable LPAE tables", when, n);
}

static void report_mem(const char *when)
{
	long p = iommu_pages();

	/* The host's memory summary reads these lines. */
	diag("mem %s: nr_iommu_pages=%ld (%ld kB) SecPageTables=%ld kB", when,
	     p, p < 0 ? -1 : p * (sysconf(_SC_PAGESIZE) / 1024), sec_pt_kb());
	report_descs(when);
}

/*
 * Freeing is deferred (flush queue, RCU, device release): poll until the
 * counter has not moved for a second, or give up after 20 s.
 */
static long settled_iommu_pages(void)
{
	long last = iommu_pages(), now;
	int same = 0, i;

	/*
	 * Unchanged for 3 s: under TCG with KASAN the release of a removed
	 * device's group and domain was once seen to come later than 1 s.
	 */
	for (i = 0; i < 300 && same < 30; i++) {
		msleep(100);
		now = iommu_pages();
		same = now == last ? same + 1 : 0;
		last = now;
	}
	if (same < 30)
		diag("nr_iommu_pages did not settle in 30 s (last %ld)", last);
	else
		diag("nr_iommu_pages settled at %ld after %d.%d s", last,
		     (i - 30) / 10, (i - 30) % 10);
	return last;
}

/* --- the device ------------------------------------------------------ */

static char disk[64] = "vda";
static char bdf[64];

/* Resolve /sys/block/<disk>/device to the PCI function that carries it. */
static int find_pci_function(void)
{
	char link[PATH_MAX], path[128], *p;

	snprintf(path, sizeof(path), "/sys/block/%s/device", disk);
	if (!realpath(path, link))
		return -errno;
	/* .../0000:00:03.0/virtio0: the last component that looks like a BDF */
	bdf[0] = 0;
	for (p = strtok(link, "/"); p; p = strtok(NULL, "/")) {
		unsigned int a, b, c, d;

		if (sscanf(p, "%x:%x:%x.%x", &a, &b, &c, &d) == 4)
			snprintf(bdf, sizeof(bdf), "%s", p);
	}
	return bdf[0] ? 0 : -ENODEV;
}

static int wait_for_disk(unsigned int seconds)
{
	char path[128];
	unsigned int i;

	snprintf(path, sizeof(path), "/dev/%s", disk);
	for (i = 0; i < seconds * 10; i++) {
		if (!access(path, R_OK | W_OK))
			return 0;
		msleep(100);
	}
	return -ETIMEDOUT;
}

static void test_iommu_group(const char *want)
{
	char path[PATH_MAX + 64], type[64], grp[PATH_MAX];
	struct dirent *de;
	int ungrouped = 0, ok;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	if (!realpath(path, grp)) {
		diag("%s (the %s disk) has no IOMMU group%s", bdf, disk,
		     strcmp(want, "none") ? "" : ", as expected");
		result(!strcmp(want, "none"), "iommu_group");
		return;
	}
	snprintf(path, sizeof(path), "%s/type", grp);
	if (read_file(path, type, sizeof(type)) < 0)
		snprintf(type, sizeof(type), "(unreadable)");
	ok = !strcmp(type, want);
	diag("%s (%s) is in %s, default domain %s, expected %s", bdf, disk,
	     strrchr(grp, '/') + 1, type, want);

	d = opendir("/sys/bus/pci/devices");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/iommu_group", de->d_name);
		if (access(path, F_OK)) {
			diag("PCI device %s has no IOMMU group", de->d_name);
			ungrouped++;
		}
	}
	if (d)
		closedir(d);
	diag("%d PCI device(s) without an IOMMU group", ungrouped);
	result(ok, "iommu_group");
}

/* --- DMA integrity --------------------------------------------------- */

/*
 * The pattern depends only on the seed and the byte offset on the disk, so
 * data written in one sequence of transfer sizes can be checked when read
 * back in another.
 */
static uint64_t pattern(uint64_t seed, uint64_t off)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL ^ off;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill(uint64_t *buf, size_t len, uint64_t seed, uint64_t off)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		buf[i] = pattern(seed, off + i * 8);
}

/* Transfer sizes cycle through these, so mappings of many sizes are made. */
static const size_t chunks[] = { 4096, 65536, 1 << 20, 12288, 131072, 512 };

static int dma_round(int fd, size_t bytes, uint64_t seed, char *why, size_t wl)
{
	size_t max = 1 << 20, off, n;
	uint64_t *wbuf, *rbuf;
	unsigned int c = 0;
	int ret = -1;

	if (posix_memalign((void **)&wbuf, 4096, max) ||
	    posix_memalign((void **)&rbuf, 4096, max)) {
		snprintf(why, wl, "out of memory");
		return -1;
	}
	for (off = 0; off < bytes; off += n) {
		n = chunks[c++ % 6];
		if (n > bytes - off)
			n = bytes - off;
		fill(wbuf, n, seed, off);
		if (pwrite(fd, wbuf, n, off) != (ssize_t)n) {
			snprintf(why, wl, "write of %zu at %zu: %s", n, off,
				 strerror(errno));
			goto out;
		}
	}
	if (fdatasync(fd)) {
		snprintf(why, wl, "fdatasync: %s", strerror(errno));
		goto out;
	}
	/* Read back with a different chunk sequence than the writes. */
	for (off = 0, c = 3; off < bytes; off += n) {
		n = chunks[c++ % 6];
		if (n > bytes - off)
			n = bytes - off;
		memset(rbuf, 0xa5, n);
		if (pread(fd, rbuf, n, off) != (ssize_t)n) {
			snprintf(why, wl, "read of %zu at %zu: %s", n, off,
				 strerror(errno));
			goto out;
		}
		fill(wbuf, n, seed, off);
		if (memcmp(wbuf, rbuf, n)) {
			size_t i = 0;

			while (i < n / 8 && wbuf[i] == rbuf[i])
				i++;
			snprintf(why, wl,
				 "data mismatch at byte %zu: wrote %016llx read %016llx",
				 off + i * 8, (unsigned long long)wbuf[i],
				 (unsigned long long)rbuf[i]);
			goto out;
		}
	}
	ret = 0;
out:
	free(wbuf);
	free(rbuf);
	return ret;
}

static int dma_workload(const char *name, long mib, long rounds, long seed)
{
	char path[128], why[256] = "";
	uint64_t size = 0;
	size_t bytes = (size_t)mib << 20;
	long r;
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", disk);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		diag("open %s: %s", path, strerror(errno));
		result(0, name);
		return -1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) || size < bytes) {
		diag("%s is %llu bytes, need %zu", path,
		     (unsigned long long)size, bytes);
		close(fd);
		result(0, name);
		return -1;
	}
	for (r = 0; r < rounds; r++) {
		if (dma_round(fd, bytes, seed + r, why, sizeof(why))) {
			diag("round %ld (seed %ld): %s", r, seed + r, why);
			break;
		}
	}
	close(fd);
	if (r == rounds)
		diag("%ld round(s) of %ld MiB written and verified through %s",
		     rounds, mib, path);
	result(r == rounds, name);
	return r == rounds ? 0 : -1;
}

/* --- device lifecycle ------------------------------------------------ */

static int remove_device(void)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/remove", bdf);
	ret = write_file(path, "1");
	if (ret)
		diag("remove %s: %s", bdf, strerror(-ret));
	return ret;
}

static int rescan(void)
{
	int ret = write_file("/sys/bus/pci/rescan", "1");

	if (ret) {
		diag("PCI rescan: %s", strerror(-ret));
		return ret;
	}
	ret = wait_for_disk(60);
	if (ret)
		diag("/dev/%s did not come back after rescan", disk);
	return ret;
}

static void test_lifecycle(long mib, long seed)
{
	long first, second;

	if (remove_device()) {
		result(0, "lifecycle");
		skip("no_leak_over_domain_life", "lifecycle failed");
		return;
	}
	first = settled_iommu_pages();
	report_mem("after remove 1");
	if (rescan() || dma_workload("lifecycle_dma", mib, 1, seed + 100) ||
	    remove_device()) {
		result(0, "lifecycle");
		skip("no_leak_over_domain_life", "lifecycle failed");
		return;
	}
	second = settled_iommu_pages();
	report_mem("after remove 2");
	result(!rescan(), "lifecycle");
	diag("nr_iommu_pages after remove 1: %ld, after remove 2: %ld", first,
	     second);
	result(first >= 0 && first == second, "no_leak_over_domain_life");
	report_mem("after lifecycle");
}

/* --- the kernel's own test programs ----------------------------------- */

/*
 * run_prog() - run /bin/@prog with @argv, each line of its stdout and stderr
 * passed to @line (NULL: forwarded as "ksft| <prog>| <line>").
 * Return: the exit status, 128 + signal if it was killed, or -errno if it
 * could not be started.
 */
static int run_prog(const char *prog, char *const argv[],
		    void (*line)(const char *prog, const char *l))
{
	char path[128], buf[4096], msg[4200];
	size_t have = 0;
	int pfd[2], st;
	pid_t pid;
	ssize_t n;

	snprintf(path, sizeof(path), "/bin/%s", prog);
	if (access(path, X_OK))
		return -errno;
	if (pipe(pfd))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;

		close(pfd[0]);
		close(pfd[1]);
		return -err;
	}
	if (!pid) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execv(path, argv);
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char *nl;

		n = read(pfd[0], buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!have)
				break;
			buf[have++] = '\n';	/* a last line without newline */
		} else {
			have += n;
		}
		buf[have] = 0;
		while ((nl = memchr(buf, '\n', have)) ||
		       have == sizeof(buf) - 1) {
			size_t len = nl ? (size_t)(nl - buf) : have;
			int m;

			buf[len] = 0;
			if (line) {
				line(prog, buf);
			} else {
				/* one write(2) per line, as out() does */
				m = snprintf(msg, sizeof(msg), "ksft| %s| %s\n",
					     prog, buf);
				if (m > (int)sizeof(msg) - 1)
					m = sizeof(msg) - 1;
				/* a line the console refuses is lost, not kept */
				if (write(1, msg, m) < 0)
					m = 0;
			}
			len += nl ? 1 : 0;
			memmove(buf, buf + len, have - len);
			have -= len;
		}
		if (n <= 0)
			break;
	}
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* The kselftest harness's exit status for "everything skipped". */
#define KSFT_SKIP 4

/* Each kselftest program is one test here; the host reads its own TAP. */
static void test_kselftest(const char *prog)
{
	char *argv[] = { (char *)prog, NULL };
	char name[128];
	int rc;

	snprintf(name, sizeof(name), "kselftest_%s", prog);
	diag("running /bin/%s", prog);
	rc = run_prog(prog, argv, NULL);
	if (rc < 0)
		diag("cannot run /bin/%s: %s", prog, strerror(-rc));
	else
		diag("/bin/%s exited with status %d", prog, rc);
	if (rc == KSFT_SKIP)
		skip(name, "the program skipped every test");
	else
		result(rc == 0, name);
}

/* --- dma_map_benchmark ------------------------------------------------ */

static char bench_bdf[NAME_MAX + 1];
static int bench_parsed;
static double bench_val[4];

/* The spare device: QEMU's pci-testdev, 1b36:0005, which has no driver. */
static int find_testdev(void)
{
	char path[PATH_MAX], v[16], d[16];
	struct dirent *de;
	DIR *dir;

	dir = opendir("/sys/bus/pci/devices");
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (read_file(path, v, sizeof(v)) < 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (read_file(path, d, sizeof(d)) < 0)
			continue;
		if (!strcmp(v, "0x1b36") && !strcmp(d, "0x0005")) {
			snprintf(bench_bdf, sizeof(bench_bdf), "%s", de->d_name);
			break;
		}
	}
	if (dir)
		closedir(dir);
	return bench_bdf[0] ? 0 : -ENODEV;
}

/*
 * Bind the spare device to dma_map_benchmark and check that it sits behind
 * the IOMMU with the expected default domain.  The check comes after the
 * bind: with device-tree IOMMUs (SMMUv3 on virt) a device joins its IOMMU
 * group only when a driver probes it.
 */
static int bind_testdev(const char *want)
{
	char path[PATH_MAX + 64], link[PATH_MAX], grp[PATH_MAX];
	char type[64] = "(unreadable)";
	int ret;

	if (find_testdev()) {
		diag("no pci-testdev (1b36:0005): add -device pci-testdev");
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bench_bdf);
	ret = write_file(path, "dma_map_benchmark");
	if (!ret)
		ret = write_file("/sys/bus/pci/drivers_probe", bench_bdf);
	if (ret) {
		diag("binding %s to dma_map_benchmark: %s", bench_bdf,
		     strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
		 bench_bdf);
	if (!realpath(path, link) || strcmp(strrchr(link, '/') + 1,
					    "dma_map_benchmark")) {
		diag("%s did not bind to dma_map_benchmark (CONFIG_DMA_MAP_BENCHMARK?)",
		     bench_bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bench_bdf);
	if (!realpath(path, grp)) {
		diag("the benchmark device %s has no IOMMU group", bench_bdf);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "%s/type", grp);
	if (read_file(path, type, sizeof(type)) < 0)
		snprintf(type, sizeof(type), "(unreadable)");
	if (!want || strcmp(type, want)) {
		diag("the benchmark device %s: default domain %s, expected %s",
		     bench_bdf, type, want ? want : "(none)");
		return -EINVAL;
	}
	diag("%s (pci-testdev) is in %s, default domain %s, bound to dma_map_benchmark",
	     bench_bdf, strrchr(grp, '/') + 1, type);
	return 0;
}

static void bench_line(const char *prog, const char *l)
{
	double a, b;

	diag("%s: %s", prog, l);
	if (sscanf(l, "average map latency(us):%lf standard deviation:%lf",
		   &a, &b) == 2) {
		bench_val[0] = a;
		bench_val[1] = b;
		bench_parsed |= 1;
	} else if (sscanf(l, "average unmap latency(us):%lf standard deviation:%lf",
			  &a, &b) == 2) {
		bench_val[2] = a;
		bench_val[3] = b;
		bench_parsed |= 2;
	}
}

/*
 * @spec is a ':'-separated list of THREADS/GRANULE/SECONDS runs; each run's
 * figures become one "dmabench" line the host's benchmark summary reads.
 */
static void test_dmabench(const char *want, const char *spec)
{
	char *copy = strdup(spec), *run, *save = NULL;
	int ok = !bind_testdev(want), runs = 0;

	for (run = ok ? strtok_r(copy, ":", &save) : NULL; run;
	     run = strtok_r(NULL, ":", &save)) {
		char t[16], g[16], s[16];
		char *argv[] = { "dma_map_benchmark", "-t", t, "-g", g, "-s", s,
				 NULL };
		unsigned int th, gr, se;
		char end;
		int rc;

		if (sscanf(run, "%u/%u/%u%c", &th, &gr, &se, &end) != 3) {
			diag("iommutest.dmabench: bad run '%s' (want T/G/S)",
			     run);
			ok = 0;
			break;
		}
		snprintf(t, sizeof(t), "%u", th);
		snprintf(g, sizeof(g), "%u", gr);
		snprintf(s, sizeof(s), "%u", se);
		bench_parsed = 0;
		rc = run_prog("dma_map_benchmark", argv, bench_line);
		if (rc || bench_parsed != 3) {
			diag("dma_map_benchmark -t %u -g %u -s %u: %s %d%s", th,
			     gr, se, rc < 0 ? "cannot run:" : "exit status",
			     rc, bench_parsed != 3 ? ", no latency lines" : "");
			ok = 0;
			break;
		}
		/* The host's benchmark summary reads these lines. */
		diag("dmabench threads=%u granule=%u seconds=%u map_us=%.1f map_sd=%.1f unmap_us=%.1f unmap_sd=%.1f",
		     th, gr, se, bench_val[0], bench_val[1], bench_val[2],
		     bench_val[3]);
		runs++;
	}
	free(copy);
	result(ok && runs > 0, "dma_map_benchmark");
}

/* --- memcg accounting ------------------------------------------------ */

#define MEMCG_SUITE "/sys/kernel/debug/kunit/iommu-pages-memcg"
#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_TEST CGROUP_ROOT "/iommutest"

/*
 * At boot the iommu-pages-memcg suite runs in the root cgroup, where
 * nothing is charged.  Run it again from a child cgroup with the memory
 * controller, where its suite_init finds a memcg to charge (the case says
 * so in its log), and require every case to pass without skipping.
 */
static void test_memcg(void)
{
	static char buf[16384];
	char pid[32];
	int n, ok;
	char *p;

	if (access(MEMCG_SUITE "/run", F_OK)) {
		skip("memcg_accounting",
		     "no " MEMCG_SUITE "/run (CONFIG_MEMCG, CONFIG_KUNIT_DEBUGFS)");
		return;
	}
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL) ||
	    write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory") ||
	    (mkdir(CGROUP_TEST, 0755) && errno != EEXIST) ||
	    write_file(CGROUP_TEST "/cgroup.procs", pid)) {
		diag("cannot enter a child memory cgroup: %s", strerror(errno));
		result(0, "memcg_accounting");
		return;
	}
	n = write_file(MEMCG_SUITE "/run", "run");
	/* back to the root, so the child can go */
	write_file(CGROUP_ROOT "/cgroup.procs", pid);
	rmdir(CGROUP_TEST);
	if (n) {
		diag("writing %s/run: %s", MEMCG_SUITE, strerror(-n));
		result(0, "memcg_accounting");
		return;
	}
	n = read_file(MEMCG_SUITE "/results", buf, sizeof(buf));
	ok = n > 0 && strstr(buf, "\nok 1 iommu-pages-memcg") &&
	     strstr(buf, "charging a child memory cgroup") &&
	     !strstr(buf, "not ok") && !strstr(buf, "SKIP");
	for (p = strtok(n > 0 ? buf : NULL, "\n"); p; p = strtok(NULL, "\n"))
		diag("%s", p);
	result(ok, "memcg_accounting");
}

/* --- the iommu-pages report ------------------------------------------ */

#define PAGES_REPORT "/sys/kernel/debug/iommu/pages"

/*
 * Print /sys/kernel/debug/iommu/pages and check it against itself and the
 * kernel's counter: per node, whole = nr_iommu_pages - in_fragments and the
 * pools' pages add up to in_fragments; per pool, free = pages * (page size
 * / fragment size) - used; with the counters folded (vm/stat_refresh) and
 * the system quiet, the nodes' sum is /proc/vmstat's nr_iommu_pages.  A
 * write to the file must fail.
 */
static void test_pages_report(void)
{
	static char buf[16384], again[16384];
	long psz = sysconf(_SC_PAGESIZE), nodes = 0, vm, wr;
	long nr_sum = 0, frag[64] = { 0 }, pool[64] = { 0 };
	char *line, *save;
	int ok = 1, n, i;

	if (access("/sys/kernel/debug/iommu", F_OK)) {
		skip("pages_report", "no /sys/kernel/debug/iommu (CONFIG_IOMMU_DEBUGFS)");
		return;
	}
	/* quiet: the folded counter is the same before and after the read */
	for (i = 0; i < 20; i++) {
		long after;

		if (write_file("/proc/sys/vm/stat_refresh", "1"))
			diag("vm/stat_refresh: %s", strerror(errno));
		vm = iommu_pages();
		n = read_file(PAGES_REPORT, buf, sizeof(buf));
		write_file("/proc/sys/vm/stat_refresh", "1");
		after = iommu_pages();
		if (n <= 0 || after == vm)
			break;
		diag("nr_iommu_pages moved from %ld to %ld during the read", vm,
		     after);
		msleep(500);
	}
	if (i == 20) {
		diag("nr_iommu_pages never held still over a read of %s",
		     PAGES_REPORT);
		result(0, "pages_report");
		return;
	}
	if (n <= 0) {
		diag("reading %s: %s", PAGES_REPORT, n ? strerror(-n) : "empty");
		result(0, "pages_report");
		return;
	}
	memcpy(again, buf, n + 1);
	for (line = strtok_r(again, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		long nr, fr, whole, size, pages, used, free;
		char zone[8];
		int nid;

		diag("pages| %s", line);
		if (sscanf(line, "%d %7s %ld %ld %ld %ld", &nid, zone, &size,
			   &pages, &used, &free) == 6) {
			if (nid < 0 || nid >= 64 || size <= 0 ||
			    free != pages * (psz / size) - used) {
				diag("pool line does not add up: %s", line);
				ok = 0;
				continue;
			}
			pool[nid] += pages;
		} else if (sscanf(line, "%d %ld %ld %ld", &nid, &nr, &fr,
				  &whole) == 4) {
			if (nid < 0 || nid >= 64 || whole != nr - fr) {
				diag("node line does not add up: %s", line);
				ok = 0;
				continue;
			}
			frag[nid] = fr;
			nr_sum += nr;
			nodes++;
		}
	}
	for (i = 0; i < 64; i++) {
		if (frag[i] != pool[i]) {
			diag("node %d: %ld pages in fragments, pools hold %ld",
			     i, frag[i], pool[i]);
			ok = 0;
		}
	}
	if (!nodes || nr_sum != vm) {
		diag("report: %ld node(s), nr_iommu_pages %ld; /proc/vmstat %ld",
		     nodes, nr_sum, vm);
		ok = 0;
	}
	/* bad input: a write is refused (the file has no write method) */
	wr = write_file(PAGES_REPORT, "0");
	if (!wr) {
		diag("a write to %s succeeded", PAGES_REPORT);
		ok = 0;
	} else {
		diag("a write to %s: %s, as it should", PAGES_REPORT,
		     strerror(-wr));
	}
	result(ok, "pages_report");
}

/*
 * /sys/kernel/debug/iommu/generic_pt: every table generic_pt built. Each
 * domain's lines add up, the totals are their sums, and the whole pages of
 * generic_pt tables are among the whole allocations of the pages report:
 * all of them where every iommu-pages user of the boot is generic_pt (an
 * SMMUv3 with io_pgtable_arm.generic_pt=1: its stream table, context
 * descriptors and queues come from the DMA API), where the device's domain
 * must also be listed, mapping what its DMA uses.
 */
#define PT_REPORT "/sys/kernel/debug/iommu/generic_pt"

/*
 * Per format, the domains PT_REPORT lists and the bytes they map: after
 * DMA the device's domain is among them exactly when the boot asked for
 * generic_pt (amd_iommu=generic_pt, io_pgtable_arm.generic_pt=1).
 */
static void report_pt_domains(const char *when)
{
	static char buf[65536];
	char fmts[8][16], fmt[16];
	long doms[8], mapped[8], m;
	int n = 0, cur = -1, i;
	char *line, *save;

	if (read_file(PT_REPORT, buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "domain %*u iommu %*s format %15s", fmt) == 1) {
			for (cur = 0; cur < n && strcmp(fmts[cur], fmt); cur++)
				;
			if (cur == n && n < 8) {
				strcpy(fmts[n], fmt);
				doms[n] = mapped[n] = 0;
				n++;
			}
			if (cur < n)
				doms[cur]++;
		} else if (cur >= 0 && cur < n &&
			   sscanf(line, " whole_pages %*d frag_bytes %*d table_bytes %*d mapped %ld",
				  &m) == 1) {
			mapped[cur] += m;
			cur = -1;
		}
	}
	for (i = 0; i < n; i++)
		diag("generic_pt %s: format %s domains %ld mapped %ld bytes",
		     when, fmts[i], doms[i], mapped[i]);
	if (!n)
		diag("generic_pt %s: no domain", when);
}

/* The whole allocations of PAGES_REPORT (its node lines' last column). */
static long pages_whole(void)
{
	static char buf[16384];
	long sum = 0, nr, fr, whole;
	char *line, *save;
	int nid;

	if (read_file(PAGES_REPORT, buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char zone[8];
		long a, b, c;

		if (sscanf(line, "%d %7s %ld %ld %ld %ld", &nid, zone, &a, &b,
			   &c, &c) == 6)
			continue;
		if (sscanf(line, "%d %ld %ld %ld", &nid, &nr, &fr, &whole) == 4)
			sum += whole;
	}
	return sum;
}

/*
 * Both reports as they are now, each line prefixed "<tag>-pt| " or
 * "<tag>-pages| ": the host keeps them as a snapshot for iommu_pt_report.
 */
static void dump_reports(const char *tag)
{
	static char buf[65536];
	const char *files[2][2] = { { PT_REPORT, "pt" },
				    { PAGES_REPORT, "pages" } };
	char *line, *save;
	int i;

	for (i = 0; i < 2; i++) {
		if (read_file(files[i][0], buf, sizeof(buf)) <= 0)
			continue;
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			diag("%s-%s| %s", tag, files[i][1], line);
	}
}

static void test_pt_report(void)
{
	static char buf[65536], again[65536], shown[65536];
	long whole = -1, psz = sysconf(_SC_PAGESIZE), wr;
	long d_levels, s_domains, s_whole, s_frag, s_mapped;
	long a_domains, a_whole, a_frag, a_mapped;
	int ok, all_pt, device_domain, in_domain, has_iommu, attempt = 0;
	int n = 0, i;
	char *line, *save;

	if (access(PT_REPORT, F_OK)) {
		skip("pt_report", "no " PT_REPORT " (CONFIG_IOMMU_DEBUGFS, CONFIG_GENERIC_PT)");
		return;
	}
	all_pt = strstr(cmdline, "io_pgtable_arm.generic_pt=1") != NULL;
again_all:
	d_levels = s_domains = s_whole = s_frag = s_mapped = 0;
	a_domains = -1;
	a_whole = a_frag = a_mapped = 0;
	ok = 1;
	device_domain = in_domain = has_iommu = 0;
	/* quiet: the same reports before and after each other */
	for (i = 0; i < 20; i++) {
		n = read_file(PT_REPORT, buf, sizeof(buf));
		whole = pages_whole();
		if (n <= 0 || (read_file(PT_REPORT, again, sizeof(again)) == n &&
			       !memcmp(buf, again, n) && pages_whole() == whole))
			break;
		diag("the reports moved during a read");
		msleep(500);
	}
	if (n <= 0 || i == 20) {
		diag("reading %s: %s", PT_REPORT,
		     n < 0 ? strerror(-n) : n ? "never held still" : "empty");
		result(0, "pt_report");
		return;
	}
	if (n >= (int)sizeof(buf) - 1)
		diag("%s is longer than %zu bytes: checked in part", PT_REPORT,
		     sizeof(buf) - 1);
	memcpy(shown, buf, n + 1);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		long tables, bytes, w, f, tb, m, d, lvl;
		char iommu[64];

		if (sscanf(line, "domain %*u iommu %63s", iommu) == 1) {
			in_domain = 1;
			d_levels = 0;
			has_iommu = strcmp(iommu, "-") != 0;
		} else if (in_domain &&
			   sscanf(line, " level %ld tables %ld bytes %ld", &lvl,
				  &tables, &bytes) == 3) {
			d_levels += bytes;
		} else if (in_domain &&
			   sscanf(line, " whole_pages %ld frag_bytes %ld table_bytes %ld mapped %ld",
				  &w, &f, &tb, &m) == 4) {
			if (tb != w * psz + f || tb != d_levels) {
				diag("domain lines do not add up: %s", line);
				ok = 0;
			}
			if (has_iommu && m > 0)
				device_domain = 1;
			s_domains++;
			s_whole += w;
			s_frag += f;
			s_mapped += m;
			in_domain = 0;
		} else if (sscanf(line, "all domains %ld tables %*d whole_pages %ld frag_bytes %ld table_bytes %ld mapped %ld",
				  &d, &w, &f, &tb, &m) == 5) {
			a_domains = d;
			a_whole = w;
			a_frag = f;
			a_mapped = m;
			if (tb != w * psz + f) {
				diag("totals do not add up: %s", line);
				ok = 0;
			}
		}
	}
	if (a_domains != s_domains || a_whole != s_whole ||
	    a_frag != s_frag || a_mapped != s_mapped) {
		diag("totals (%ld domains, %ld pages, %ld B in fragments, %ld B mapped) are not the domains' sums (%ld, %ld, %ld, %ld)",
		     a_domains, a_whole, a_frag, a_mapped, s_domains, s_whole,
		     s_frag, s_mapped);
		ok = 0;
	}
	/*
	 * A table unlinked but not freed yet (flush queue, RCU) counts in the
	 * pages report only: give pending frees time, then fail.
	 */
	if (all_pt && whole > a_whole && ++attempt < 6) {
		diag("generic_pt tables take %ld of %ld whole pages: again in 1 s",
		     a_whole, whole);
		msleep(1000);
		goto again_all;
	}
	for (line = strtok_r(shown, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		diag("pt| %s", line);
	if (whole < 0 || a_whole > whole || (all_pt && a_whole != whole)) {
		diag("generic_pt tables take %ld whole pages; iommu-pages has %ld whole allocations%s",
		     a_whole, whole, all_pt ? ", and no other user here" : "");
		ok = 0;
	} else {
		diag("generic_pt tables take %ld of %ld whole iommu-pages pages",
		     a_whole, whole);
	}
	if (all_pt && !device_domain) {
		diag("no domain of an IOMMU maps anything: the device's DMA does not go through generic_pt");
		ok = 0;
	}
	wr = write_file(PT_REPORT, "0");
	if (!wr) {
		diag("a write to %s succeeded", PT_REPORT);
		ok = 0;
	}
	result(ok, "pt_report");
}

/* --- kmemleak -------------------------------------------------------- */

static void test_kmemleak(void)
{
	const char *k = "/sys/kernel/debug/kmemleak";
	static char buf[65536];
	int n, lines = 0;
	char *p;

	if (access(k, F_OK)) {
		skip("kmemleak", "no /sys/kernel/debug/kmemleak");
		return;
	}
	if (write_file(k, "scan")) {
		diag("kmemleak scan failed: %s", strerror(errno));
		result(0, "kmemleak");
		return;
	}
	n = read_file(k, buf, sizeof(buf));
	for (p = strtok(n > 0 ? buf : NULL, "\n"); p && lines < 40;
	     p = strtok(NULL, "\n"), lines++)
		diag("%s", p);
	result(n == 0, "kmemleak");
}

/* --- DMA API debug ---------------------------------------------------- */

/*
 * dma-debug prints only its first error as a WARN; the counter says whether
 * there were more.
 */
static void test_dma_api_debug(void)
{
	const char *f = "/sys/kernel/debug/dma-api/error_count";
	char buf[32];

	if (read_file(f, buf, sizeof(buf)) < 0) {
		skip("dma_api_errors", "no CONFIG_DMA_API_DEBUG");
		return;
	}
	diag("DMA-API debug error_count=%s", buf);
	result(!strcmp(buf, "0"), "dma_api_errors");
}

/* --- main ------------------------------------------------------------ */

static void setup(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

int main(void)
{
	long mib, rounds, seed, lifecycle;
	char *ksft = NULL, *dmabench = NULL, *p, *save = NULL;
	const char *want, *v;
	int planned, nksft = 0;

	setup();
	read_file("/proc/cmdline", cmdline, sizeof(cmdline));
	out("KTAP version 1");
	/* param() returns a buffer the next call reuses: keep a copy */
	want = param("iommutest.domain");
	if (want)
		want = strdup(want);
	v = param("iommutest.disk");
	if (v)
		snprintf(disk, sizeof(disk), "%s", v);
	mib = param_long("iommutest.mib", 8, 1, 1024);
	rounds = param_long("iommutest.rounds", 3, 1, 100);
	seed = param_long("iommutest.seed", 1, 0, LONG_MAX - 1000);
	lifecycle = param_long("iommutest.lifecycle", 1, 0, 1);
	v = param("iommutest.kselftest");
	if (v && *v) {
		char *copy = strdup(v);

		/* the names strtok_r() will find: empty ones are skipped */
		for (p = strtok_r(copy, ",", &save); p;
		     p = strtok_r(NULL, ",", &save))
			nksft++;
		free(copy);
		ksft = strdup(v);
		save = NULL;
	}
	v = param("iommutest.dmabench");
	if (v && *v)
		dmabench = strdup(v);
	/*
	 * disk_found, iommu_group, counters_readable, dma_integrity,
	 * memcg_accounting, pages_report, pt_report, dma_api_errors,
	 * kmemleak, and
	 * lifecycle_dma, lifecycle, no_leak_over_domain_life; one per
	 * kselftest program;
	 * dma_map_benchmark.
	 */
	planned = 9 + (lifecycle ? 3 : 0) + nksft + (dmabench ? 1 : 0);
	out("1..%d", planned);
	diag("parameters: domain=%s disk=%s mib=%ld rounds=%ld seed=%ld lifecycle=%ld",
	     want ? want : "(none)", disk, mib, rounds, seed, lifecycle);

	report_mem("boot");
	dump_reports("boot");
	if (wait_for_disk(30) || find_pci_function()) {
		diag("no /dev/%s behind a PCI function", disk);
		result(0, "disk_found");
	} else {
		diag("/dev/%s is PCI function %s", disk, bdf);
		result(1, "disk_found");
		if (!want) {
			diag("iommutest.domain= is missing from the command line");
			result(0, "iommu_group");
		} else {
			test_iommu_group(want);
		}
		result(iommu_pages() >= 0 && sec_pt_kb() >= 0,
		       "counters_readable");
		dma_workload("dma_integrity", mib, rounds, seed);
		report_mem("after DMA");
		report_pt("after DMA");
		report_pt_domains("after DMA");
		if (lifecycle)
			test_lifecycle(mib, seed);
	}
	for (p = ksft ? strtok_r(ksft, ",", &save) : NULL; p;
	     p = strtok_r(NULL, ",", &save))
		test_kselftest(p);
	if (dmabench)
		test_dmabench(want, dmabench);
	test_memcg();
	test_pages_report();
	test_pt_report();
	test_dma_api_debug();
	test_kmemleak();
	while (test_no < planned)
		skip("not_run", "an earlier step failed");
	diag("init done: %d failure(s)", failures);
	sync();
	reboot(LINUX_REBOOT_CMD_POWER_OFF);
	return 0;
}
