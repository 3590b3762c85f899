# SPDX-License-Identifier: GPL-2.0
# IOMMU page-table memory for Linux 6.12: the harness.  See README.md.
#
#   make run     [CASE=vtd-strict]     build, boot one case, memory summary
#   make check   [ARCH=x86_64|arm64]   everything; ends with "N passed, N failed"
#
# Everything generated goes to build/; the assembled kernel is build/linux.

H := tests/harness
SHELL := /bin/bash
CASE ?= vtd-strict
export KSRC ACCEL JOBS

KNOWN := help deps tree status export build boot run check compile source \
	 kunit bench harness-test bisect series clean distclean
.PHONY: $(KNOWN)

help:
	@sed -n 's/^## /  make /p' Makefile

## deps                install missing packages (apt-get; needs root or sudo)
deps:
	@bash $(H)/deps.sh all

## tree                assemble build/linux: base + patches/series; check the owned files
tree:
	@bash $(H)/deps.sh all && bash $(H)/tree.sh assemble

## status              is there work in build/linux that the repo lacks? (exit 1 if so)
status:
	@bash $(H)/tree.sh status

## export              write build/linux's commits to patches/, owned files back
export:
	@bash $(H)/tree.sh export

## build [KERNEL=x]    build one test kernel (tests/kernels/*), default all
build: tree
	@bash $(H)/check.sh build $(KERNEL)

## boot CASE=x         build the case's kernel and boot one case (tests/cases/*)
boot: tree
	@bash $(H)/check.sh boot $(CASE)

## run [CASE=x]        build, boot one case with DMA, print the memory summary
run: tree
	@bash $(H)/check.sh run $(CASE)

## check [ARCH=x]      harness tests, all kernels, all boot cases, KUnit, selftests
check:
	@bash $(H)/check.sh check $(ARCH)

## compile [TARGET=x] compile coverage, W=1 (tests/compile/*: x86_64 arm64 arm s390)
compile: tree
	@bash $(H)/check.sh compile $(TARGET)

## source              the source check: table memory through iommu-pages only
source: tree
	@bash $(H)/check.sh source

## kunit [KUNITCONFIG=dir] [KUNIT_ARCH=x86_64|arm64]  kunit.py run, the usual way
kunit: tree
	@bash $(H)/check.sh kunit "$(KUNITCONFIG)" "$(KUNIT_ARCH)"

## bench [BENCH=x] [RUNS=n]  boot a benchmark kernel n times, print its table
bench: tree
	@RUNS="$(RUNS)" bash $(H)/check.sh bench $(BENCH)

## bisect [TARGETS=x]  build the tree after every patch (compile targets, W=1)
bisect: tree
	@bash $(H)/bisect.sh $(TARGETS)

## series [V=n]        build/series/: format-patch, cover letter, mbox; git am check
series: tree
	@V="$(V)" bash $(H)/series.sh write && V="$(V)" bash $(H)/series.sh am-check

## harness-test        the harness's own tests only
harness-test: tree
	@bash $(H)/check.sh harness-test

## clean               remove kernel builds and boot results (keeps build/linux)
clean:
	rm -rf build/out build/images build/cases build/initramfs build/logs build/kunit-*

## distclean           remove build/ entirely (refused if build/linux has unsaved work)
distclean:
	@if [ -d build/linux/.git ] && ! bash $(H)/tree.sh status >/dev/null 2>&1; then \
		bash $(H)/tree.sh status; echo "error: not removing build/: export the work first" >&2; exit 1; fi
	rm -rf build

# The catch-all below must not try to remake this file.
Makefile: ;

%:
	@echo "error: unknown target '$@'. Targets: $(KNOWN)" >&2; exit 2
