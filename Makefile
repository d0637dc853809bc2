# The study's commands. `make help` lists them.
# Everything runs in a project virtual environment that `make setup` creates.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KERNEL := cifar-mlp
PROFILE ?= full
ONLY ?=
# Exact versions of every dependency (`make lock` writes it) and the extras setup installs.
LOCK := requirements.lock
EXTRAS := test,cluster,portfolio
# Resolved for the oldest Python that pyproject allows, on x86-64 Linux, whichever machine runs it.
LOCK_TARGET := --python-version 3.11.4 --python-platform x86_64-manylinux_2_28
# The reports check-report loads: reports/ once rendered, else the smoke profile's.
REPORT_DIR ?= $(if $(wildcard reports/index.html),reports,build/smoke/reports)

comma := ,

.DEFAULT_GOAL := help
.PHONY: help setup lock data test test-fast report portfolio check-report sync tensorboard bench bench-report clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  Variables: PROFILE=full|smoke (report), ONLY=<notebook> (report), REPORT_DIR=<folder> (check-report), UPGRADE=1 (lock)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install --quiet -c $(LOCK) -e ".[$(EXTRAS)]"
	# papermill and Jupyter find this kernel by name in the notebooks' metadata.
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (cifar-mlp)"
	touch $@

setup: $(VENV)/.installed ## Create .venv, install the package with its test and cluster extras at the locked versions, register the Jupyter kernel

$(VENV)/bin/uv: | $(PY)
	$(PY) -m pip install --quiet "uv>=0.9"

lock: $(VENV)/bin/uv ## Resolve requirements.lock again from pyproject.toml, keeping its versions where allowed (UPGRADE=1: newest allowed)
	$(VENV)/bin/uv pip compile pyproject.toml $(foreach e,$(subst $(comma), ,$(EXTRAS)),--extra $(e)) \
		$(LOCK_TARGET) $(if $(UPGRADE),--upgrade) --custom-compile-command "make lock" --quiet -o $(LOCK)

data: setup ## Fetch, verify and cache CIFAR-10 (data/cifar10.npz)
	$(PY) -m cifar_mlp.core.data

test: data ## Run the whole suite, as CI does (unit tests, real-data checks, smoke notebooks)
	$(PY) -m pytest

# No `data`: these tests use synthetic arrays only.
test-fast: setup ## The unit tests on synthetic data, for the edit loop (no real data, notebook runs or browser)
	$(PY) -m pytest -m "not slow and not real and not browser"

report: data ## Execute the notebooks and render reports/ (PROFILE=smoke for minutes, ONLY=01_baseline for one)
	$(PY) -m cifar_mlp.report --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

portfolio: setup ## Write portfolio/: the study as a MkDocs Material entry, from the rendered reports/
	$(PY) -m cifar_mlp.report.portfolio

check-report: setup ## Load the reports in headless Chromium as a reader sees them; screenshots (REPORT_DIR=...)
	@if [ ! -f $(REPORT_DIR)/index.html ] && [ "$(REPORT_DIR)" = build/smoke/reports ]; then \
		$(MAKE) --no-print-directory report PROFILE=smoke || echo "check-report: a section failed; checking the pages anyway"; fi
	CIFAR_MLP_CHECK_REPORTS=$(REPORT_DIR) $(PY) -m pytest -m browser

# torch is a local wheel here, so the lock leaves it out; the rest stays at the locked versions.
$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -c $(LOCK) -e ".[$(EXTRAS),bench]"
	touch $@

bench: data $(VENV)/.bench-installed ## Time our training path against plain Keras, PyTorch and the FLOP floor (benchmarks/results/bench.md)
	$(PY) benchmarks/bench.py

bench-report: data ## Time the whole full-profile report from nothing, then stored (hours; RESUME=1 goes on after an interruption; benchmarks/results/report.md)
	$(PY) benchmarks/report_bench.py $(if $(ONLY),--only $(ONLY)) $(if $(RESUME),--resume)

sync: setup ## Pair notebooks/*.py with their .ipynb (after editing the .py)
	$(VENV)/bin/jupytext --sync notebooks/[0-9]*.py

tensorboard: setup ## Open TensorBoard: every stored run in HParams, local runs' training logs
	$(PY) -m cifar_mlp.runs.hparams
	$(VENV)/bin/tensorboard --logdir runs

clean: ## Remove the virtual environment and scratch outputs (keeps data/, results/, reports/)
	rm -rf $(VENV) build
