#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise several runs of a benchmark table.

  benchsum.py RUN.txt...            the summary over runs
  benchsum.py --dma NEW.log OLD.log one run's dma_map_benchmark table, from
                                    the console logs of the two kernels

Each input file holds one run's table, in one of three layouts:
  generic_pt_bench.c:
    "<fmt> <op> <case> | <new min> <new med> | <old min> <old med> | ..."
  iommu-pages-bench.c:
    "<row name> <col1 min> <col1 med> <col2 min> <col2 med> <new min>
     <new med> <new/col1> <new/col2>"
  dma_map_benchmark (the --dma table):
    "dma <op> <threads>t <pages>p | new <us> sd <us> | 6.12 <us> sd <us> | <r>"
For each row this prints, over the runs, lowest-highest and the median run
of: for generic_pt the new/old ratio of the minimums and of the medians; for
iommu-pages the ratios new/col1 and new/col2 of the minimums; for
dma_map_benchmark the new/6.12 ratio of the average latencies.  Ratios are
computed from the nanoseconds, not from the rounded figures printed.
"""
import re
import statistics
import sys

ROW = re.compile(r'^(\S+)\s+(map|unmap)\s+(.+?)\s*\|\s*(\d+)\s+(\d+)\s*\|'
                 r'\s*(\d+)\s+(\d+)\s*\|')
# the last two column names of the iommu-pages table header
LABELS = ['new/col1', 'new/col2']
PAGES_ROW = re.compile(r'^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)'
                       r'\s+(\S+)\s+(\S+)$')


def parse_pages(path, lines):
    rows = []
    for line in lines:
        if line.strip().startswith('ns per operation'):
            LABELS[:] = line.split()[-2:]
        m = PAGES_ROW.match(line.strip())
        if not m:
            continue
        col1, col2, new = (int(m.group(i)) for i in (2, 4, 6))
        if not col1 or not col2:
            raise ValueError(f'{path}: a reference time of 0 in: {line.strip()}')
        rows.append(((m.group(1),), new / col1, new / col2))
    return rows


DMA_LINE = re.compile(r'init\| # dmabench threads=(\d+) granule=(\d+) seconds=\d+ '
                      r'map_us=([\d.]+) map_sd=([\d.]+) unmap_us=([\d.]+) unmap_sd=([\d.]+)')
DMA_ROW = re.compile(r'^dma\s+(map|unmap)\s+(\d+t)\s+(\d+p)\s*\|\s*new\s+([\d.]+)\s+sd\s+[\d.]+'
                     r'\s*\|\s*6\.12\s+([\d.]+)\s+sd\s+[\d.]+\s*\|')


def dma_runs(path):
    """{(threads, pages): (map, map sd, unmap, unmap sd)} from a console log."""
    runs = {}
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = DMA_LINE.search(line)
            if m:
                runs[(int(m.group(1)), int(m.group(2)))] = tuple(
                    float(m.group(i)) for i in range(3, 7))
    if not runs:
        raise ValueError(f'{path}: no dmabench lines')
    return runs


def dma_table(new_log, old_log):
    new, old = dma_runs(new_log), dma_runs(old_log)
    if sorted(new) != sorted(old):
        raise ValueError(f'{new_log} and {old_log} ran different dmabench runs')
    print('dma_map_benchmark: average latency in us (and its standard deviation)')
    for (t, g) in sorted(new):
        for i, op in ((0, 'map'), (2, 'unmap')):
            n, o = new[(t, g)][i:i + 2], old[(t, g)][i:i + 2]
            if not o[0]:
                raise ValueError(f'{old_log}: a 6.12 latency of 0 ({op} {t}t {g}p)')
            print(f'dma {op:5} {t}t {g:>4}p | new {n[0]:.1f} sd {n[1]:.1f} | '
                  f'6.12 {o[0]:.1f} sd {o[1]:.1f} | {n[0] / o[0]:.2f}')


def parse_dma(lines):
    rows = []
    for line in lines:
        m = DMA_ROW.match(line.strip())
        if m:
            rows.append(((m.group(1), m.group(2), m.group(3)),
                         float(m.group(4)) / float(m.group(5))))
    return rows


def parse(path):
    rows = []
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.readlines()
    for line in lines:
        m = ROW.match(line.strip())
        if not m:
            continue
        new_min, new_med, old_min, old_med = map(int, m.group(4, 5, 6, 7))
        if not old_min or not old_med:
            raise ValueError(f'{path}: a 6.12 time of 0 in: {line.strip()}')
        rows.append(((m.group(1), m.group(2), m.group(3)),
                     new_min / old_min, new_med / old_med))
    if not rows:
        rows = parse_pages(path, lines)
    if not rows:
        rows = parse_dma(lines)
    if not rows:
        raise ValueError(f'{path}: no benchmark rows')
    return rows


def span(values):
    return (f'{min(values):.2f}-{max(values):.2f} '
            f'({statistics.median(values):.2f})')


def main(paths):
    runs = [parse(p) for p in paths]
    keys = [r[0] for r in runs[0]]
    for path, run in zip(paths[1:], runs[1:]):
        if [r[0] for r in run] != keys:
            raise ValueError(f'{path}: rows differ from {paths[0]}')
    if len(runs[0][0]) == 2:
        print(f'new/6.12 of the average latency over {len(runs)} runs: '
              'lowest-highest (median run)')
        for i, (op, t, g) in enumerate(keys):
            r = [run[i][1] for run in runs]
            print(f'dma {op:5} {t} {g:>5} | {span(r)}')
        return
    if len(keys[0]) == 1:
        print(f'ratios of the minimums over {len(runs)} runs: '
              'lowest-highest (median run)')
        print(f'{"row":24} | {LABELS[0]:17} | {LABELS[1]}')
        for i, (name,) in enumerate(keys):
            r1 = [run[i][1] for run in runs]
            r2 = [run[i][2] for run in runs]
            print(f'{name:24} | {span(r1):17} | {span(r2)}')
        return
    print(f'new/old over {len(runs)} runs: lowest-highest (median run)')
    print(f'{"fmt":5} {"op":5} {"case":8} | {"of the minimums":17} | '
          'of the medians')
    for i, (fmt, op, case) in enumerate(keys):
        mins = [run[i][1] for run in runs]
        meds = [run[i][2] for run in runs]
        print(f'{fmt:5} {op:5} {case:8} | {span(mins):17} | {span(meds)}')


if __name__ == '__main__':
    if len(sys.argv) < 2 or (sys.argv[1] == '--dma' and len(sys.argv) != 4):
        sys.exit('usage: benchsum.py RUN.txt... | benchsum.py --dma NEW.log OLD.log')
    try:
        if sys.argv[1] == '--dma':
            dma_table(sys.argv[2], sys.argv[3])
        else:
            main(sys.argv[1:])
    except (OSError, ValueError) as e:
        sys.exit(f'error: {e}')
