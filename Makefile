# Two commands: `make run` (install + server + builder UI) and `make test` (install + all tests).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# llama-cpp-python compiles from source (~6 min on 2 cores): pip builds it once into this
# wheelhouse, and every later install takes it from there. Portable x86-64 flags so the wheel
# also runs on another machine of the same kind.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
WHEELHOUSE ?= $(HOME)/.cache/prompteur/wheels
LLAMA := $(shell grep -o 'llama-cpp-python\[server\]==[0-9.]*' pyproject.toml | cut -d= -f3)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
# uv installs without compiling bytecode, and with PYTHONDONTWRITEBYTECODE set (as on the CI
# machines) no process could cache it either: every test worker, server and CLI subprocess
# compiled torch, transformers, streamlit... from source again (1,260 s of CPU for `make test`
# on a fresh clone against 734 s with a compiled venv). Python caches what it imports instead,
# once per venv (about 25 s of CPU), and `make run` starts as fast the second time.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install system-deps run test lint fix serve ui bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q uv
	ls $(WHEELHOUSE)/llama_cpp_python-$(LLAMA)-*.whl >/dev/null 2>&1 || \
	  $(PIP) wheel -q --no-deps 'llama-cpp-python==$(LLAMA)' -w $(WHEELHOUSE)
	# uv resolves and installs from its cache in seconds where pip took minutes (pip unpacked
	# torch's 200 MB wheel on every fresh clone: ~45 s of CPU). pip's find-links, from its
	# config file or environment (where this machine keeps the CPU build of torch), are passed
	# on: uv does not read pip's settings, and would take the CUDA build from the index.
	links="$$PIP_FIND_LINKS $$($(PIP) config get global.find-links 2>/dev/null)"; \
	$(VENV)/bin/uv pip install -q --python $(PY) --find-links $(WHEELHOUSE) \
	  $$(for l in $$links; do echo --find-links $$l; done) -e '.[test]'
	touch $@

# Debian's chromium for the browser tests (Playwright drives it; no browser download), and
# Debian's postgresql for the tests that run on Postgres: they start a throw-away cluster of
# their own (tests/backing_services.py), so the package's own cluster and service are not
# created (create_main_cluster = false, written before the install unless the file exists).
system-deps:
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	[ -z "$$missing" ] || { \
	  if [ -z "$${missing##*postgresql*}" ]; then \
	    [ -e /etc/postgresql-common/createcluster.conf ] || { $$SUDO mkdir -p /etc/postgresql-common && \
	    echo 'create_main_cluster = false' | $$SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null; }; \
	  fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    -o Dpkg::Options::=--force-confold $$missing; }

run: install
	bash scripts/run.sh

serve: install
	$(VENV)/bin/prompteur serve

# One pytest worker per core, and one more: a fifth of the suite's time is spent waiting on
# servers, browsers and subprocesses, which the extra worker fills (on 2 cores: 8 min 30 s
# with 2 workers, 7 min 52 s with 3, same machine and code). A test file stays on one worker
# (its module fixtures are built once).
test: install system-deps lint
	$(VENV)/bin/pytest -n $$(( $$(nproc) + 1 )) --dist loadfile --no-loadscope-reorder

# Format, lint and types are checked, not applied: CI fails on a violation (`make fix` applies
# the first two). mypy checks the whole tree ([tool.mypy] files); ~1.5 min cold, seconds
# cached. Its cache lives beside the wheelhouse, shared by every checkout: mypy keys it by
# module and re-checks any file whose content hash differs, so a fresh clone anywhere starts
# warm and still sees every change (checked: a type error added in a second clone is reported).
MYPY_CACHE_DIR ?= $(HOME)/.cache/prompteur/mypy
export MYPY_CACHE_DIR
lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

fix: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
