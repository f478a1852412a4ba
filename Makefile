# The two commands: `make run` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT  # PORTAL_BASE_URL's default (links in messages) follows them

.PHONY: run test install install-test bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# constraints.txt pins every package a fresh install gets (runtime and test extras): see `make lock`.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/portal db upgrade
	$(BIN)/portal demo
	$(BIN)/portal run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/report_pdf.py

# Regenerate constraints.txt from pyproject.toml with pip-tools (kept in a throwaway venv, not in .venv).
# Existing pins stay unless pyproject.toml excludes them; `make lock LOCK_ARGS=--upgrade` moves all to the
# newest allowed, `LOCK_ARGS="--upgrade-package rq"` one package. Run on Python 3.11, as CI.
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install -q pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(VENV)-lock/bin/pip-compile -q --extra test --strip-extras \
		--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o constraints.txt pyproject.toml
	rm -rf $(VENV)-lock

clean:
	rm -rf $(VENV) *.egg-info tests/artifacts
