#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge one boot case from its console log.

Usage: evaluate.py --case NAME --log CONSOLE.log --config KERNEL/.config
                   [--kunit-py PATH] [--exit-status N] [--results OUT.tsv]

Writes one line per check to --results ("PASS<TAB>check<TAB>detail" or
"FAIL<TAB>..."), prints failures with their log lines, and exits 1 if any
check failed.  The checks:
  <case>/console     no WARN, BUG, Oops, KASAN, kmemleak, lockdep or RCU
                     splat, IOMMU fault or event in the log; QEMU exited by
                     itself (no hang, no panic)
  <case>/kunit/<s>   each KUnit suite in the kernel's KTAP passed (a missing
                     or cut-short KTAP is a failure when CONFIG_KUNIT=y)
  <case>/selftest/*  the io-pgtable boot selftests the config enables
  <case>/memdesc     with CONFIG_IOMMU_PAGES_SEPARATE_DESC=y: the kernel
                     said it keeps descriptors apart, and the KUnit cases
                     of that mode passed, not skipped; without it: neither
  <case>/init/<t>    each test of the guest init's KTAP ("init| " lines)
  <case>/kselftest/<prog>/<t>
                     each test of a kselftest program's TAP, which the init
                     forwards as "ksft| <prog>| " lines (iommutest.kselftest=)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

INIT_PREFIX = 'init| '
KSFT_PREFIX = 'ksft| '

# Console lines that fail a boot.  Each is (name, regex).
BAD = [
    ('WARN', r'WARNING: CPU: \d+ PID: \d+ at |------------\[ cut here \]'),
    ('BUG', r'\bBUG: |kernel BUG at '),
    ('Oops', r'\bOops\b|Internal error: '),
    ('panic', r'Kernel panic - not syncing'),
    ('KASAN', r'KASAN: '),
    ('UBSAN', r'UBSAN: '),
    ('kmemleak', r'kmemleak: \d+ new suspected memory leaks'),
    ('lockdep', r'possible circular locking dependency|possible recursive locking|'
                r'inconsistent lock state|suspicious RCU usage|'
                r'lock held when returning to user space|'
                r'bad unlock balance|INFO: trying to register non-static key'),
    ('RCU stall', r'rcu: INFO: .*detected stall|rcu_.* detected stalls|self-detected stall'),
    ('hung task', r'INFO: task .* blocked for more than'),
    ('lockup', r'soft lockup|hard LOCKUP'),
    ('DMA-API', r'DMA-API: .* (device driver|frees|tries|failed|error)'),
    ('DMAR fault', r'DMAR: \[(DMA|INTR)|DMAR: DRHD: handling fault|DMAR:.*fault reason'),
    ('AMD-Vi event', r'AMD-Vi: Event logged|AMD-Vi: .*(PAGE_FAULT|ILLEGAL|COMMAND_HARDWARE_ERROR|IO_PAGE_FAULT)'),
    ('SMMU event', r'arm-smmu(-v3)?.*: (event 0x|EVTQ|Unhandled context fault|unexpected global fault|GERROR)'),
    ('io-pgtable', r'io-pgtable: selftest: test failed|selftest: failed to allocate'),
    ('call trace', r'Call [Tt]race:'),
]


def read_lines(path):
    with open(path, errors='replace') as f:
        return [l.rstrip('\r\n') for l in f]


def config_on(cfg_path, opt):
    try:
        with open(cfg_path) as f:
            return any(l.strip() == f'CONFIG_{opt}=y' for l in f)
    except OSError:
        return False


class Judge:
    def __init__(self, case):
        self.case = case
        self.rows = []

    def check(self, name, ok, detail=''):
        self.rows.append(('PASS' if ok else 'FAIL', f'{self.case}/{name}', detail))

    def failed(self):
        return [r for r in self.rows if r[0] == 'FAIL']


def scan_console(j, lines, exit_status):
    hits = []
    for i, l in enumerate(lines):
        if l.startswith(INIT_PREFIX) or l.startswith(KSFT_PREFIX):
            continue
        for name, rx in BAD:
            if re.search(rx, l):
                hits.append((i + 1, name, l))
                break
    detail = ''
    if hits:
        detail = '; '.join(f'line {n}: {k}: {l.strip()[:160]}' for n, k, l in hits[:5])
        if len(hits) > 5:
            detail += f'; and {len(hits) - 5} more'
    if exit_status == 124:
        detail = ('QEMU killed after the timeout (hung boot); ' + detail).rstrip('; ')
    elif exit_status not in (None, 0):
        detail = (f'QEMU exited with status {exit_status}; ' + detail).rstrip('; ')
    done = any(l.startswith(INIT_PREFIX + '# init done') for l in lines)
    if not done and not detail:
        detail = 'the guest init never finished (no "init done" line)'
    j.check('console', not detail and done, detail or 'clean')


def parse_ktap(lines):
    """Minimal KTAP reader for the init's flat list: (results, plan, problems)."""
    results, plan, problems = [], None, []
    for l in lines:
        m = re.match(r'^1\.\.(\d+)$', l)
        if m:
            plan = int(m.group(1))
            continue
        m = re.match(r'^(ok|not ok) (\d+) (\S+)(?: # (SKIP|TODO)\b(.*))?$', l)
        if m:
            results.append((m.group(1) == 'ok', int(m.group(2)), m.group(3),
                            m.group(4) or ''))
    if plan is None:
        problems.append('no KTAP plan line')
    elif plan != len(results):
        problems.append(f'plan says {plan} tests, {len(results)} reported (crash?)')
    return results, plan, problems


def judge_init(j, lines):
    init = [l[len(INIT_PREFIX):] for l in lines if l.startswith(INIT_PREFIX)]
    if not init:
        j.check('init', False, 'the guest init printed nothing')
        return
    results, plan, problems = parse_ktap(init)
    for p in problems:
        j.check('init/ktap', False, p)
    # The diagnostics printed since the previous result say why a test failed.
    diags, why = [], []
    for l in init:
        if l.startswith('# '):
            diags.append(l[2:])
            if not l.startswith('# mem '):
                why.append(l[2:])
            continue
        m = re.match(r'^(ok|not ok) (\d+) (\S+)(?: # (SKIP|TODO)\b.*)?$', l)
        if not m:
            continue
        if m.group(4) == 'SKIP':
            j.check(f'init/{m.group(3)}', True, 'skipped')
        else:
            j.check(f'init/{m.group(3)}', m.group(1) == 'ok', ' | '.join(why)[-400:])
        why = []
    m = [d for d in diags if d.startswith('init done: ')]
    if m and not m[-1].startswith('init done: 0 failure'):
        j.check('init/done', False, m[-1])


# What a KTAP line looks like once the printk timestamp is off: a version or
# plan line, a result, a diagnostic, or anything indented (nested suites,
# expectation details).  Other kernel messages printed while KUnit runs
# ("input: ..." from an asynchronous probe) confuse kunit.py's parser when
# they land between two KTAP lines, so they are left out of what it reads.
KTAP_LINE = re.compile(r'^(?:\[[ 0-9.]*\] )?(?:\s|KTAP version|TAP version|1\.\.|ok |not ok |#)')


MEMDESC_LINE = 'iommu-pages: descriptors apart from struct page'
MEMDESC_CASES = ('iommu_pages_test_desc_apart', 'iommu_pages_test_desc_failure')


def judge_memdesc(j, lines, cfg):
    """The descriptor mode the kernel ran is the one its config asks for."""
    said = any(MEMDESC_LINE in l for l in lines)
    if not config_on(cfg, 'IOMMU_PAGES_SEPARATE_DESC'):
        if said:
            j.check('memdesc', False, 'separate descriptors in an overlay build')
        return
    ran = {}
    for l in lines:
        m = re.search(r'\b(ok|not ok) \d+ (iommu_pages_test_desc_\w+)(?: # (SKIP))?', l)
        if m:
            ran[m.group(2)] = 'SKIP' if m.group(3) else m.group(1)
    why = []
    if not said:
        why.append(f'no "{MEMDESC_LINE}" line')
    if config_on(cfg, 'IOMMU_PAGES_KUNIT_TEST'):
        why += [f'{c}: {ran.get(c, "did not run")}' for c in MEMDESC_CASES
                if ran.get(c) != 'ok']
    j.check('memdesc', not why, '; '.join(why) or
            'descriptors apart from struct page; ' + ', '.join(MEMDESC_CASES) + ' passed')


PT_PARAM = re.compile(r'[Cc]ommand line:.*\bio_pgtable_arm\.generic_pt=(1|y|Y)\b')
PT_LIVE = re.compile(r'^init\| # generic_pt after DMA: (\d+) live io-pgtable LPAE tables')


def judge_generic_pt(j, lines, cfg):
    """Which code built the device's io-pgtable: the kernel's count of the
    LPAE tables generic_pt built, read by the init after DMA (the device's
    domain is alive then), must be positive with io_pgtable_arm.generic_pt=1
    and zero without it."""
    if not config_on(cfg, 'IOMMU_IO_PGTABLE_LPAE_GENERIC_PT'):
        return
    want = any(PT_PARAM.search(l) for l in lines)
    live = [int(m.group(1)) for m in map(PT_LIVE.search, lines) if m]
    if not live:
        j.check('generic_pt', False, 'no "generic_pt after DMA" count from the init')
    elif want:
        j.check('generic_pt', live[-1] > 0,
                f'{live[-1]} live LPAE tables built by generic_pt after DMA, the device\'s domain among them'
                if live[-1] else 'io_pgtable_arm.generic_pt=1, yet no table built by generic_pt is alive after DMA')
    else:
        j.check('generic_pt', live[-1] == 0,
                'io-pgtable-arm built every table' if not live[-1] else
                f'{live[-1]} tables built by generic_pt without io_pgtable_arm.generic_pt=1')


AMD_PT_PARAM = re.compile(r'[Cc]ommand line:.*\bamd_iommu=(\S*,)?generic_pt(,\S*)?(\s|$)')
AMD_PT_BUILT = 'AMD-Vi: v1 page tables built by generic_pt'
PT_FORMAT = re.compile(r'^init\| # generic_pt after DMA: format (\S+) domains (\d+) mapped (\d+) bytes')
PT_NONE = re.compile(r'^init\| # generic_pt after DMA: no domain')


def judge_amd_pt(j, lines, cfg):
    """Which code built the AMD-Vi domains' v1 tables: after DMA the
    generic_pt report must list amdv1 domains mapping what the device uses
    with amd_iommu=generic_pt (and the driver must have said it built one),
    and none without it."""
    # (the report needs debugfs: the benchmark kernels have none)
    if not config_on(cfg, 'AMD_IOMMU_GENERIC_PT') or not config_on(cfg, 'IOMMU_DEBUGFS') or \
            not any('AMD-Vi: Interrupt remapping enabled' in l or 'AMD-Vi: Extended features' in l for l in lines):
        return
    want = any(AMD_PT_PARAM.search(l) for l in lines)
    built = any(AMD_PT_BUILT in l for l in lines)
    fmts = {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in map(PT_FORMAT.search, lines) if m}
    if not fmts and not any(PT_NONE.search(l) for l in lines):
        j.check('amd-pt', False, 'no "generic_pt after DMA" domain lines from the init')
        return
    doms, mapped = fmts.get('amdv1', (0, 0))
    if want:
        j.check('amd-pt', built and doms > 0 and mapped > 0,
                f'{doms} amdv1 domains built by generic_pt map {mapped} bytes after DMA'
                if built and mapped else
                f'amd_iommu=generic_pt, yet {doms} amdv1 domains map {mapped} bytes'
                f'{"" if built else " and the driver never said it built one"}')
    else:
        # (a KUnit test may have built one of its own: the report decides)
        j.check('amd-pt', doms == 0,
                'the 6.12 code built every v1 table of the domains alive after DMA' if not doms else
                f'{doms} amdv1 domains built by generic_pt without amd_iommu=generic_pt')


SMMU_FEATURES = re.compile(r'arm-smmu-v3 \S+: ias \d+-bit, oas \d+-bit \(features (0x[0-9a-f]+)\)')
SMMU_TRANS_S1, SMMU_TRANS_S2 = 1 << 9, 1 << 10   # ARM_SMMU_FEAT_TRANS_S1/S2


def judge_smmu_stage(j, lines, stage):
    """The translation stage the case's SMMUv3 offers, from arm-smmu-v3's
    own feature line: offered alone, it is the stage of every paging domain
    the driver builds (arm_smmu_domain_finalise() restricts the stage to
    what the SMMU supports), so the device's tables are of that stage."""
    if stage is None:
        return
    feats = [int(m.group(1), 16) for m in map(SMMU_FEATURES.search, lines) if m]
    if not feats:
        j.check('smmu-stage', False, 'no arm-smmu-v3 feature line in the log')
        return
    want, other = (SMMU_TRANS_S2, SMMU_TRANS_S1) if stage == 2 else (SMMU_TRANS_S1, SMMU_TRANS_S2)
    ok = all(f & want and not f & other for f in feats)
    j.check('smmu-stage', ok,
            f'every SMMUv3 offers stage {stage} alone (features {", ".join(hex(f) for f in feats)}): '
            f'its paging domains are stage {stage}' if ok else
            f'the case wants an SMMUv3 with stage {stage} alone; features {", ".join(hex(f) for f in feats)}')


def judge_kunit(j, lines, kunit_py):
    kern = []
    for l in lines:
        if l.startswith(INIT_PREFIX):
            break
        if KTAP_LINE.match(l):
            kern.append(l)
    if not any('KTAP version' in l or 'TAP version' in l for l in kern):
        j.check('kunit', False, 'CONFIG_KUNIT=y but no KTAP output before init started (crash?)')
        return
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, 'kernel.log')
        out = os.path.join(d, 'kunit.json')
        with open(log, 'w') as f:
            f.write('\n'.join(kern) + '\n')
        p = subprocess.run([sys.executable, kunit_py, 'parse', f'--json={out}', log],
                           capture_output=True, text=True)
        try:
            with open(out) as f:
                data = json.load(f)
        except (OSError, ValueError):
            j.check('kunit', False, f'kunit.py parse failed (exit {p.returncode}): '
                    + (p.stderr or p.stdout)[-300:])
            return
    suites = data.get('sub_groups', [])
    if not suites:
        j.check('kunit', False, 'KTAP held no suites')
    for s in suites:
        cases = list(kunit_cases(s))
        bad = [n for n, st in cases if st not in ('PASS', 'SKIP')]
        ok = bool(cases) and not bad
        if ok:
            detail = f'{len(cases)} cases'
        elif not cases:
            detail = 'no test cases (crashed?)'
        else:
            detail = 'failed or crashed: ' + ', '.join(bad)[:300]
        j.check(f'kunit/{s.get("name", "?")}', ok, detail)
    if p.returncode != 0:
        last = (p.stdout.strip().splitlines() or [''])[-1]
        j.check('kunit/parse', False, f'kunit.py parse exited {p.returncode}: {last[:200]}')


def kunit_cases(group, path=''):
    """(name, status) of every test case in a kunit.py JSON group, recursively."""
    for c in group.get('test_cases', []):
        yield path + c.get('name', '?'), c.get('status', '?')
    for g in group.get('sub_groups', []):
        yield from kunit_cases(g, path + g.get('name', '?') + '.')


def judge_selftests(j, lines, cfg):
    if config_on(cfg, 'IOMMU_IO_PGTABLE_LPAE_SELFTEST'):
        m = [re.search(r'selftest: completed with (\d+) PASS (\d+) FAIL', l) for l in lines]
        m = [x for x in m if x]
        if not m:
            j.check('selftest/io-pgtable-lpae', False, 'no "selftest: completed" line')
        else:
            p, f = int(m[-1].group(1)), int(m[-1].group(2))
            j.check('selftest/io-pgtable-lpae', f == 0 and p > 0, f'{p} PASS {f} FAIL')
    if config_on(cfg, 'IOMMU_IO_PGTABLE_ARMV7S_SELFTEST'):
        ok = any(re.search(r'arm-v7s io-pgtable: self test ok', l) for l in lines)
        j.check('selftest/io-pgtable-armv7s', ok, 'self test ok' if ok else 'no "self test ok" line')


def judge_kselftests(j, lines, skips_allowed=0):
    """One row per test of each kselftest program the init ran.

    A skipped test is a PASS row that says why, but each program may skip
    at most @skips_allowed tests (the case's KSFT_SKIPS, 0 by default): a
    program whose every test skips exits 0 and would otherwise pass.
    "not ok ... # SKIP" and an unexpected pass (XPASS) fail."""
    progs = {}
    for l in lines:
        if not l.startswith(KSFT_PREFIX):
            continue
        prog, sep, rest = l[len(KSFT_PREFIX):].partition('| ')
        if sep:
            progs.setdefault(prog, []).append(rest)
    # What the init was asked to run: each must have printed its TAP.
    want = []
    for l in lines:
        m = re.search(r'\biommutest\.kselftest=(\S+)', l)
        if m:
            want = [p for p in m.group(1).split(',') if p]
            break
    for prog in want:
        if prog not in progs:
            j.check(f'kselftest/{prog}', False, 'printed no TAP (not run, or not in the initramfs)')
    for prog, out in progs.items():
        plan, seen, totals, why, skipped = None, 0, None, [], 0
        for l in out:
            m = re.match(r'^1\.\.(\d+)$', l)
            if m:
                plan = int(m.group(1))
                continue
            m = re.match(r'^# Totals: (.*)$', l)
            if m:
                totals = m.group(1)
                continue
            m = re.match(r'^(ok|not ok) (\d+) (\S+)(?: # (SKIP|XFAIL|XPASS)\b ?(.*))?$', l)
            if not m:
                if l.startswith('# '):
                    why.append(l[2:])
                continue
            seen += 1
            name = f'kselftest/{prog}/{m.group(3)}'
            if m.group(4) == 'SKIP':
                skipped += 1
                j.check(name, m.group(1) == 'ok', 'skipped: ' + (m.group(5) or '').strip()[:200])
            elif m.group(4) == 'XPASS':
                j.check(name, False, 'passed, but expected to fail: ' + (m.group(5) or '').strip()[:200])
            elif m.group(4) == 'XFAIL':
                j.check(name, True, 'expected failure: ' + (m.group(5) or '').strip()[:200])
            else:
                j.check(name, m.group(1) == 'ok',
                        '' if m.group(1) == 'ok' else ' | '.join(why)[-400:])
            why = []
        if plan is None:
            j.check(f'kselftest/{prog}/tap', False, 'no TAP plan line')
        elif plan != seen:
            j.check(f'kselftest/{prog}/tap', False,
                    f'plan says {plan} tests, {seen} reported (crash or timeout?)')
        elif skipped > skips_allowed:
            j.check(f'kselftest/{prog}/tap', False,
                    f'{skipped} of {seen} tests skipped; the case allows {skips_allowed} (KSFT_SKIPS)')
        else:
            j.check(f'kselftest/{prog}/tap', True, f'{seen} tests; {totals or "no Totals line"}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--case', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--config', required=True)
    ap.add_argument('--kunit-py')
    ap.add_argument('--exit-status', type=int)
    ap.add_argument('--results')
    ap.add_argument('--ksft-skips', type=int, default=0)
    ap.add_argument('--smmu-stage', type=int, choices=(1, 2))
    a = ap.parse_args()

    try:
        lines = read_lines(a.log)
    except OSError as e:
        print(f'error: cannot read console log: {e}', file=sys.stderr)
        return 2
    j = Judge(a.case)
    scan_console(j, lines, a.exit_status)
    kunit_off = any(re.search(r'[Cc]ommand line:.*\bkunit\.enable=0\b', l) for l in lines)
    if config_on(a.config, 'KUNIT') and kunit_off:
        j.check('kunit', True, 'not run: kunit.enable=0 on the command line')
    elif config_on(a.config, 'KUNIT'):
        if not a.kunit_py:
            j.check('kunit', False, 'CONFIG_KUNIT=y but no --kunit-py given')
        else:
            judge_kunit(j, lines, a.kunit_py)
    judge_selftests(j, lines, a.config)
    judge_memdesc(j, lines, a.config)
    judge_generic_pt(j, lines, a.config)
    judge_amd_pt(j, lines, a.config)
    judge_smmu_stage(j, lines, a.smmu_stage)
    judge_init(j, lines)
    judge_kselftests(j, lines, a.ksft_skips)

    if a.results:
        with open(a.results, 'w') as f:
            for r in j.rows:
                f.write('\t'.join(r) + '\n')
    for st, name, detail in j.rows:
        if st == 'FAIL':
            print(f'  FAIL {name}: {detail}')
    return 1 if j.failed() else 0


if __name__ == '__main__':
    sys.exit(main())
