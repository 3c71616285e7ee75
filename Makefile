# Kennisbank — every target calls a Python entry point; logic lives in Python.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# The default install needs no torch. The sentence-transformers extra does: torch is pinned in the
# same pip command, as an unpinned torch pulls several GB of CUDA packages (see the README for the
# CPU build on a machine that reaches only the public index: TORCH_INDEX).
TORCH  := torch==2.13.0
TORCH_INDEX ?=
TORCH_FROM := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)
EVALSETS ?= ../shared/evalsets

.DEFAULT_GOAL := help
.PHONY: help install install-sentence-transformers install-test run serve index reindex test eval bench load lint postgres postgres-stop clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-st: pyproject.toml $(VENV)/.installed
	$(PIP) install $(TORCH_FROM) $(TORCH) -e '.[sentence-transformers]'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install $(TORCH_FROM) $(TORCH) -e '.[test,sentence-transformers]'
	touch $@

install: $(VENV)/.installed ## create .venv and install Kennisbank with its bundled models (no torch)

install-sentence-transformers: $(VENV)/.installed-st ## add any sentence-transformers model (KB_MODEL=name or path), with the CPU build of torch

install-test: $(VENV)/.installed-test ## install Kennisbank with what the tests need (the sentence-transformers extra too)

run: install ## install if needed, index content/ and serve on http://127.0.0.1:5000 (KB_HOST, KB_PORT)
	$(BIN)/kb index || [ $$? -eq 2 ]  # 2: some files were skipped (listed); serve the rest
	$(BIN)/kb serve

serve: install ## serve the web app with a production WSGI server (gunicorn)
	$(BIN)/kb serve

index: install ## incremental index of the content folder (what cron runs nightly)
	$(BIN)/kb index

reindex: install ## full re-index: rebuild store, embeddings and vector index from the files
	$(BIN)/kb index --full

test: install-test ## install what the tests need and run the whole suite
	$(BIN)/python -m pytest

eval: install ## search quality on the judged queries (tests/eval) and the public sets
	$(BIN)/kb eval tests/eval
	$(BIN)/kb eval $(EVALSETS)/semeval16-cqa-qq
	$(BIN)/kb eval $(EVALSETS)/scifact-train  # the first run embeds ~9,000 passages: ~35 minutes

bench: install ## speed and memory benchmark; prints a table, writes bench/results/
	$(BIN)/python -m bench

load: install ## bounded load run against a local server (loopback only)
	$(BIN)/python -m bench.load

postgres: install-test ## start a local PostgreSQL with pgvector in var/postgres; prints the KB_DATABASE_URL to use
	@$(BIN)/python -m indexer.devdb start var/postgres

postgres-stop: install-test ## stop the PostgreSQL that `make postgres` started
	@$(BIN)/python -m indexer.devdb stop var/postgres

lint: install-test ## ruff
	$(BIN)/ruff check kb indexer web tests bench

clean: ## remove the virtual environment and the derived data folder
	rm -rf $(VENV) var
