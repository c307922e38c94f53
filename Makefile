# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up by them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: setup run test test-fast eval bench bench-quick clean scan-samples train

# requirements.lock = runtime deps + the dev, training and distributed extras, fully pinned.
# requirements-nodeps.lock: the OCR engine, installed without its declared opencv-python (desktop
# OpenCV, needs GL libraries); requirements.lock has opencv-python-headless in its place. A venv
# that still has opencv-python (both write cv2/) gets it removed and the headless build reinstalled.
$(STAMP): requirements.lock requirements-nodeps.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-nodeps.lock
	if $(BIN)/pip show -q opencv-python >/dev/null 2>&1; then $(BIN)/pip uninstall -q -y opencv-python && \
	  $(BIN)/pip install -q --no-deps --force-reinstall $$(grep '^opencv-python-headless==' requirements.lock); fi
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# The service on the embedded default (SQLite in ./var): prints its address and the demo accounts.
run: setup
	sh .ci/install_office.sh --best-effort
	$(BIN)/baomi serve

test: setup browser office tools lint
	$(BIN)/python -m pytest

# Checks `make test` runs first: declared dependencies = imports (deptry), import layers and no cycles
# (import-linter contracts in pyproject.toml; a broken one names the importing file and line), lint
# (ruff), types of the public API (mypy, files in pyproject.toml).
.PHONY: lint
lint: setup
	$(BIN)/deptry scanner service training
	PYTHONPATH=. $(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy

# The quick loop while editing: everything except the suites marked slow (tests/conftest.py SLOW) and e2e.
test-fast: setup office tools
	$(BIN)/python -m pytest -m "not slow and not e2e"

# Browser end-to-end tests (issue 6) in Debian's chromium, installed when missing (never a browser download).
.PHONY: browser e2e office tools
browser:
	sh .ci/install_chromium.sh

# LibreOffice headless (legacy .doc/.wps/.xls/.et/.ppt/.dps) and a CJK font (PDF pages rendered for
# OCR), Debian packages installed when missing (issue 11).
office:
	sh .ci/install_office.sh

# strace for the zero-egress tests (tests/service/test_egress.py), installed when missing.
tools:
	sh .ci/install_tools.sh

e2e: setup browser
	$(BIN)/python -m pytest tests/e2e

eval: setup office
	$(BIN)/python $(SHARED)/eval/build.py $(SHARED)/eval/dev_cases.py build/dev
	$(BIN)/python $(SHARED)/eval/score.py build/dev --cmd "$(BIN)/baomi scan --format jsonl"

# Benchmarks (issue 7): corpus generated under bench/corpus (git-ignored), Presidio baseline in its own
# venv (its pins differ from requirements.lock). BENCH_ARGS="--profile" or "--skip presidio,batch".
BENCH_VENV := bench/.venv-presidio
$(BENCH_VENV)/.installed: bench/requirements-presidio.txt
	test -x $(BENCH_VENV)/bin/python || $(PY) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q -r bench/requirements-presidio.txt
	touch $@

bench: setup office $(BENCH_VENV)/.installed
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-quick: setup office $(BENCH_VENV)/.installed
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

# Models (issue 4): retrain models/*.npz from ../shared/data + training_data/, rewrite models/manifest.json
# hashes, print held-out figures. A few minutes on 2 cores.
train: setup
	$(BIN)/python -m training.passage
	$(BIN)/python -m training.names

clean:
	rm -rf $(VENV) build

# Real-document set (issue 16): rebuild tests/realdocs/files from public repository snapshots
# (not needed by `make test`), then measure. MIRRORS = directory of git snapshots.
MIRRORS ?= /work/.mirror
.PHONY: realdocs realdocs-measure
realdocs: setup
	$(BIN)/python tests/realdocs/build.py --mirrors $(MIRRORS)

realdocs-measure: setup
	$(BIN)/python tests/realdocs/measure.py
