# The study's commands. `make help` lists them.
# Everything runs in a project virtual environment that `make setup` creates.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
KERNEL := cifar-mlp
PROFILE ?= full
ONLY ?=
# The reports check-report loads: reports/ once rendered, else the smoke profile's.
REPORT_DIR ?= $(if $(wildcard reports/index.html),reports,build/smoke/reports)

.DEFAULT_GOAL := help
.PHONY: help setup data test report check-report sync tensorboard bench bench-report clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@echo "  Variables: PROFILE=full|smoke (report), ONLY=<notebook> (report), REPORT_DIR=<folder> (check-report)"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	# papermill and Jupyter find this kernel by name in the notebooks' metadata.
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (cifar-mlp)"
	touch $@

setup: $(VENV)/.installed ## Create .venv, install the package with test extras, register the Jupyter kernel

data: setup ## Fetch, verify and cache CIFAR-10 (data/cifar10.npz)
	$(PY) -m cifar_mlp.data

test: data ## Run the tests (unit tests, real-data checks, smoke notebooks)
	$(PY) -m pytest

report: data ## Execute the notebooks and render reports/ (PROFILE=smoke for minutes, ONLY=01_baseline for one)
	$(PY) -m cifar_mlp.report --profile $(PROFILE) $(if $(ONLY),--only $(ONLY))

check-report: setup ## Load the reports in headless Chromium: JS errors, images, links, index.png (REPORT_DIR=...)
	@if [ ! -f $(REPORT_DIR)/index.html ] && [ "$(REPORT_DIR)" = build/smoke/reports ]; then \
		$(MAKE) --no-print-directory report PROFILE=smoke || echo "check-report: a section failed; checking the pages anyway"; fi
	CIFAR_MLP_CHECK_REPORTS=$(REPORT_DIR) $(PY) -m pytest -m browser

$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[test,bench]"
	touch $@

bench: data $(VENV)/.bench-installed ## Time our training path against plain Keras, PyTorch and the FLOP floor (benchmarks/results/bench.md)
	$(PY) benchmarks/bench.py

bench-report: data ## Time the whole full-profile report from nothing, then stored (about an hour; benchmarks/results/report.md)
	$(PY) benchmarks/report_bench.py $(if $(ONLY),--only $(ONLY))

sync: setup ## Pair notebooks/*.py with their .ipynb (after editing the .py)
	$(VENV)/bin/jupytext --sync notebooks/[0-9]*.py

tensorboard: setup ## Open TensorBoard: every stored run in HParams, local runs' training logs
	$(PY) -m cifar_mlp.hparams
	$(VENV)/bin/tensorboard --logdir runs

clean: ## Remove the virtual environment and scratch outputs (keeps data/, results/, reports/)
	rm -rf $(VENV) build
