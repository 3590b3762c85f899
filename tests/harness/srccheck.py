#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Source check: IOMMU table memory goes through iommu-pages only.

Usage: srccheck.py TREE ALLOWLIST

Scans drivers/iommu (but the allocator itself) and the drm drivers that
use io-pgtable, and prints one row per rule ("PASS<TAB>source/RULE<TAB>
detail"):
  lru          no page->lru (table lists are struct iommu_pages_list)
  old-api      no call of a removed 6.12 entry point: iommu_alloc_page(s)
               (_node), iommu_free_page, __iommu_alloc_pages,
               __iommu_free_pages, iommu_free_pages() with an order
  order        no allocation order passed into iommu-pages (get_order() or
               an "order" variable in the size of iommu_alloc_pages*_sz())
  struct-page  in files that allocate IOMMU tables (they call
               iommu_alloc_pages*_sz(), or are io-pgtable formats or their
               drm users): no struct page, virt_to_page, page_address,
               pfn_to_page, page_to_pfn, alloc_pages, __get_free_pages,
               get_zeroed_page, free_pages or __free_pages
  kmem-cache   in those files: no private kmem_cache (sub-page tables are
               iommu-pages fragments, accounted like every table)
  descriptor   in the whole tree, struct ioptdesc and the option
               IOMMU_PAGES_SEPARATE_DESC appear only in the allocator's own
               files, drivers/iommu/Kconfig and Documentation/: so no
               driver source differs between the overlay build and the one
               with separate descriptors (not allowlistable)
  allowlist    every allowlist entry still matches something
A hit is allowed only by a line of ALLOWLIST: "PATH<TAB>TEXT<TAB>REASON",
where TEXT is a substring of the offending source line.  Comments are
ignored.  Exit status 1 if any rule failed.
"""
import os
import re
import subprocess
import sys

OWN = {'drivers/iommu/iommu-pages.c', 'drivers/iommu/iommu-pages.h',
       'drivers/iommu/iommu-pages-internal.h',
       'drivers/iommu/iommu-pages-test.c', 'drivers/iommu/iommu-pages-bench.c'}
DRM = ['drivers/gpu/drm/msm/msm_iommu.c',
       'drivers/gpu/drm/panfrost/panfrost_mmu.c',
       'drivers/gpu/drm/panthor/panthor_mmu.c']

OLD_API = re.compile(r'\b(iommu_alloc_pages?(?:_node)?|iommu_free_page|'
                     r'__iommu_alloc_pages|__iommu_free_pages)\s*\(')
NEW_ALLOC = re.compile(r'\biommu_alloc_pages(?:_node)?_sz\s*\(')
FREE = re.compile(r'\biommu_free_pages\s*\(')
LRU = re.compile(r'->\s*lru\b|\.lru\b')
PAGE_API = re.compile(r'\bstruct\s+page\b|\b(virt_to_page|page_address|pfn_to_page|'
                      r'page_to_pfn|page_to_virt|page_to_phys|alloc_pages|'
                      r'alloc_pages_node|__get_free_pages|get_zeroed_page|'
                      r'free_pages|__free_pages|free_page)\s*\(')
ORDER = re.compile(r'\bget_order\s*\(|\border\b')
DESC = re.compile(r'\bioptdesc\b|IOMMU_PAGES_SEPARATE_DESC')
DESC_OK = ('drivers/iommu/Kconfig', 'Documentation/')
KMEM_CACHE = re.compile(r'\bkmem_cache_(create|create_usercopy|alloc|alloc_node|zalloc)\s*\(|\bKMEM_CACHE\s*\(')


def strip_comments(text):
    """Blank out comments and string literals, keeping line structure."""
    def blank(m):
        return re.sub(r'[^\n]', ' ', m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', blank, text, flags=re.S)


def call_args(code, start):
    """The argument text of the call whose '(' is at code[start-1]."""
    depth, i = 1, start
    while i < len(code) and depth:
        if code[i] == '(':
            depth += 1
        elif code[i] == ')':
            depth -= 1
        i += 1
    return code[start:i - 1]


def top_level_commas(args):
    depth = 0
    n = 0
    for ch in args:
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        elif ch == ',' and depth == 0:
            n += 1
    return n


def scan_files(tree):
    files = []
    for root, _, names in os.walk(os.path.join(tree, 'drivers/iommu')):
        for n in names:
            if n.endswith(('.c', '.h')):
                rel = os.path.relpath(os.path.join(root, n), tree)
                if rel not in OWN:
                    files.append(rel)
    files += [f for f in DRM if os.path.exists(os.path.join(tree, f))]
    return sorted(files)


def desc_files(tree):
    """Files of the whole tree that name the descriptor or its option."""
    try:
        out = subprocess.run(['git', '-C', tree, 'grep', '-lwE',
                              'ioptdesc|CONFIG_IOMMU_PAGES_SEPARATE_DESC|'
                              'IOMMU_PAGES_SEPARATE_DESC'],
                             capture_output=True, text=True, check=False)
        if out.returncode in (0, 1) and not out.stderr:
            return out.stdout.split()
    except OSError:
        pass
    found = []
    for root, dirs, names in os.walk(tree):
        dirs[:] = [d for d in dirs if d != '.git']
        for n in names:
            path = os.path.join(root, n)
            try:
                with open(path, errors='replace') as f:
                    if DESC.search(f.read()):
                        found.append(os.path.relpath(path, tree))
            except OSError:
                pass
    return found


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    tree, allow_path = sys.argv[1], sys.argv[2]
    if not os.path.isdir(os.path.join(tree, 'drivers/iommu')):
        print(f'error: {tree} has no drivers/iommu', file=sys.stderr)
        return 2
    allow = []
    with open(allow_path) as f:
        for n, l in enumerate(f, 1):
            l = l.rstrip('\n')
            if not l.strip() or l.startswith('#'):
                continue
            parts = l.split('\t')
            if len(parts) != 3 or not all(p.strip() for p in parts):
                print(f'error: {allow_path}:{n}: want PATH<TAB>TEXT<TAB>REASON', file=sys.stderr)
                return 2
            allow.append([parts[0], parts[1], parts[2], 0])

    hits = {r: [] for r in ('lru', 'old-api', 'order', 'struct-page', 'kmem-cache')}

    def hit(rule, path, lines, lineno):
        src = lines[lineno - 1]
        for a in allow:
            if a[0] == path and a[1] in src:
                a[3] += 1
                return
        hits[rule].append(f'{path}:{lineno}: {src.strip()}')

    for path in scan_files(tree):
        with open(os.path.join(tree, path), errors='replace') as f:
            raw = f.read()
        lines = raw.split('\n')
        code = strip_comments(raw)
        def line_of(pos):
            return code.count('\n', 0, pos) + 1
        for m in LRU.finditer(code):
            hit('lru', path, lines, line_of(m.start()))
        for m in OLD_API.finditer(code):
            # a definition in a header (the wrappers) is not a call
            hit('old-api', path, lines, line_of(m.start()))
        for m in FREE.finditer(code):
            if top_level_commas(call_args(code, m.end())):
                hit('old-api', path, lines, line_of(m.start()))
        allocates = False
        for m in NEW_ALLOC.finditer(code):
            allocates = True
            args = call_args(code, m.end())
            size = args.split(',')[-1] if args else ''
            # the size is the last argument; look at all of it
            if ORDER.search(args[len(args) - len(size):]):
                hit('order', path, lines, line_of(m.start()))
        base = os.path.basename(path)
        if allocates or base.startswith('io-pgtable') or path in DRM:
            for m in PAGE_API.finditer(code):
                hit('struct-page', path, lines, line_of(m.start()))
            for m in KMEM_CACHE.finditer(code):
                hit('kmem-cache', path, lines, line_of(m.start()))

    hits['descriptor'] = sorted(
        f'{p}: names struct ioptdesc or IOMMU_PAGES_SEPARATE_DESC'
        for p in desc_files(tree)
        if p not in OWN and not p.startswith(DESC_OK))

    failed = False
    for rule, h in hits.items():
        if h:
            failed = True
            print(f'FAIL\tsource/{rule}\t{len(h)} hit(s): ' + '; '.join(h)[:600])
            for x in h:
                print(f'  {rule}: {x}', file=sys.stderr)
        else:
            print(f'PASS\tsource/{rule}\t')
    stale = [f'{a[0]}: "{a[1]}"' for a in allow if not a[3]]
    if stale:
        failed = True
        print('FAIL\tsource/allowlist\tentries that match nothing: ' + '; '.join(stale)[:600])
    else:
        print(f'PASS\tsource/allowlist\t{len(allow)} entries, all used')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
