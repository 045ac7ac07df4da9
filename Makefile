# logsieve: tests, lint and a local demo fleet.
#   make unit    the unit tests: no container, no Debian package beyond Python (seconds)
#   make test    every test: unit, differential, reliability, fault injection,
#                integration (pytest), then every molecule scenario
#   make central the central logging scenario alone (no-loss figures)
#   make lint    ansible-lint (production profile), ansible-galaxy collection build, ansible-test sanity
#   make bench   logsieve against Debian's logcheck, three corpora of 1,000,000 lines: times,
#                ratios, memory; the grouped report's cost, and its accuracy on loghub's labelled
#                logs; the rules `logsieve suggest` writes, learned and tested on loghub's samples
#   make bench-ci the same, the corpora with a fifth of the lines (what CI runs)
#   make fuzz    the rule dialect against GNU grep: FUZZ_CASES random rules (default 20000)
#   make demo    a small fleet of Debian containers, the site playbook, a real report
#   make clean   remove the demo fleet, molecule instances and build droppings
# Podman and the images need root (scripts/setup-podman.sh installs podman).

SHELL := /bin/bash
.DEFAULT_GOAL := help

REPO := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# Debian's Python: the venv must be usable by unprivileged users too.
PYTHON ?= /usr/bin/python3
VENV ?= $(REPO)/.venv
# Images the scenarios and the demo use (scripts/build-images.sh).
SUITES ?= bullseye bookworm trixie
# Molecule scenarios run by `make test`, in this order. Add yours here.
MOLECULE_SCENARIOS ?= default index rules central older tune buildonce
# Extra arguments for pytest, e.g. PYTEST_ARGS='-k engine'.
PYTEST_ARGS ?=

COLLECTIONS := $(REPO)/.cache/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_FORCE_COLOR ?= false
export PY_COLORS ?= 0
export ANSIBLE_NOCOLOR ?= 1

VENV_STAMP := $(VENV)/.installed
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/logsieve/logcheck

.PHONY: help venv images collection test unit python-tests molecule lint bench bench-ci demo demo-clean clean central fuzz

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# --- set-up -----------------------------------------------------------------

venv: $(VENV_STAMP)
# logsieve is installed editable: the tests run this checkout's engine, with
# the block matcher built in place next to it.  Rebuilt when the requirements
# or the build change.
$(VENV_STAMP): requirements-test.txt pyproject.toml setup.py native/blockmatch.cc
	$(PYTHON) -c 'import ensurepip' 2>/dev/null \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	@# What the block matcher (native/blockmatch.cc) is built with.
	dpkg -s g++ python3-dev libre2-dev >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	       --no-install-recommends g++ python3-dev libre2-dev; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements-test.txt
	$(VENV)/bin/python -m pip install --quiet --editable $(REPO)
	touch $@

images:
	$(REPO)/scripts/setup-podman.sh
	$(REPO)/scripts/build-images.sh $(SUITES)

collection: $(COLLECTION_LINK)
$(COLLECTION_LINK):
	$(REPO)/scripts/link-collection.sh >/dev/null

# --- tests ------------------------------------------------------------------

test: python-tests molecule

# pytest exits 5 when it collects no tests: that is not a failure here.
PYTEST = { $(VENV)/bin/pytest $(1) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest: no tests collected"; rc=0; fi; exit $$rc; }

# The dialect fuzzer beyond the test run's seeded few hundred cases: a fresh
# seed (FUZZ_SEED to repeat one); every disagreement with grep is appended to
# tests/unit/ere_cases.jsonl, which the tests replay.
FUZZ_CASES ?= 20000
fuzz: venv
	cd $(REPO) && LOGSIEVE_FUZZ_CASES=$(FUZZ_CASES) $(if $(FUZZ_SEED),LOGSIEVE_FUZZ_SEED=$(FUZZ_SEED)) \
	  PYTHONPATH=$(REPO)/plugins/module_utils:$(REPO) $(VENV)/bin/python -m tests.unit.ere_fuzz

# tests/unit without the tests marked `debian` (pyproject.toml's markers).
unit: venv
	cd $(REPO) && $(call PYTEST,tests/unit -m "not debian")

# Every pytest test; the integration tests need podman and the images.
python-tests: venv images
	cd $(REPO) && $(call PYTEST,)

# Runs every scenario even when one fails, then fails if any did.
molecule: venv images collection
	@cd $(REPO) && failed=""; \
	for s in $(MOLECULE_SCENARIOS); do \
	  echo "=== molecule test -s $$s"; \
	  if molecule test -s $$s; then echo "=== scenario $$s: PASSED"; \
	  else echo "=== scenario $$s: FAILED"; failed="$$failed $$s"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "*** FAILED molecule scenarios:$$failed" >&2; exit 1; fi; \
	echo "=== all molecule scenarios passed: $(MOLECULE_SCENARIOS)"

# Central logging alone: servers and clients with rsyslog and syslog-ng, TLS,
# the checker on the servers, and the no-loss test (prints its figures).
central: venv images collection
	cd $(REPO) && molecule test -s central

lint: venv collection
	cd $(REPO) && ansible-lint
	cd $(REPO) && rm -rf .cache/dist && ansible-galaxy collection build --output-path .cache/dist
	@if tar -tzf $(REPO)/.cache/dist/logsieve-logcheck-*.tar.gz \
	  | grep -E '(^|/)(\.cache|\.venv|__pycache__|\.pytest_cache|build|dist)(/|$$)|\.egg-info|\.pyc$$'; then \
	  echo "*** build droppings in the collection tarball (see above)" >&2; exit 1; fi
	@echo "collection tarball: $$(ls $(REPO)/.cache/dist/*.tar.gz)"
	@# ansible-test's shellcheck test needs the program; without it the test is skipped.
	command -v shellcheck >/dev/null \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	       --no-install-recommends shellcheck; }
	cd $(REPO) && $(VENV)/bin/python scripts/ansible-test-sanity.py

# Needs Debian's logcheck (apt-get install logcheck logcheck-database).
# Three corpora (ordered log, unordered log, a fleet of 20 host files), each
# 1,000,000 lines; logcheck runs twice on each.  BENCH_ARGS='--check' fails
# below the required ratios.  bench-ci: a fifth of the lines, for CI's budget.
BENCH_ARGS ?=
bench: venv
	cd $(REPO) && $(VENV)/bin/python -m benchmarks.run $(BENCH_ARGS)
	cd $(REPO) && $(VENV)/bin/python -m benchmarks.loghub $(BENCH_ARGS)
	cd $(REPO) && $(VENV)/bin/python -m benchmarks.tuning $(BENCH_ARGS)

bench-ci: venv
	cd $(REPO) && $(VENV)/bin/python -m benchmarks.run --lines 200000 $(BENCH_ARGS)
	cd $(REPO) && $(VENV)/bin/python -m benchmarks.loghub $(BENCH_ARGS)
	cd $(REPO) && $(VENV)/bin/python -m benchmarks.tuning $(BENCH_ARGS)

# --- demo -------------------------------------------------------------------

demo: venv images collection
	$(REPO)/scripts/demo.sh up

demo-clean:
	$(REPO)/scripts/demo.sh down

clean: demo-clean
	-cd $(REPO) && for s in $(MOLECULE_SCENARIOS); do \
	  [ -x $(VENV)/bin/molecule ] && molecule destroy -s $$s; done
	rm -rf $(REPO)/build $(REPO)/dist $(REPO)/.cache/dist $(REPO)/.cache/demo \
	  $(REPO)/.pytest_cache $(REPO)/*.egg-info $(REPO)/plugins/module_utils/*.egg-info
	find $(REPO) -path $(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
