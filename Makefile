# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up by them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: setup run test eval bench clean scan-samples

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/baomi scan --format text samples/

test: setup
	$(BIN)/python -m pytest

eval: setup
	$(BIN)/python $(SHARED)/eval/build.py $(SHARED)/eval/dev_cases.py build/dev
	$(BIN)/python $(SHARED)/eval/score.py build/dev --cmd "$(BIN)/baomi scan --format jsonl"

clean:
	rm -rf $(VENV) build
