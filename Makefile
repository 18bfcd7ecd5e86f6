# Two entry points for a fresh machine: `make serve` and `make test`.
# Each creates (or reuses) the virtual environment in .venv and installs the project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: serve test lint typecheck unit bench mutate clean

# pip prints what it collects and installs as it goes: on a fresh machine this takes a minute
# or two, and a silent terminal looks hung.
$(VENV)/.installed: pyproject.toml setup.py
	@echo "carriersim: setting up $(VENV) (first run: a minute or two; later runs reuse it)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "carriersim: installing carriersim and its dependencies into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	@echo "carriersim: $(VENV) is ready"
	touch $@

serve: $(VENV)/.installed
	$(BIN)/carriersim serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# Two processes (pytest-xdist): the suite starts real servers, browsers and Redis, and
# waits on sockets as much as it computes; PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
unit: $(VENV)/.installed
	$(BIN)/pytest -n $(PYTEST_WORKERS)

test: lint typecheck unit

# Mutation testing of the client's rules (not part of `make test`: it takes a while and
# says how long). MUTANTS='client.retry.*' limits it to matching mutants; MUTATE_JOBS=N
# tests N mutants at once (default: one per core).
MUTANTS ?=
MUTATE_JOBS ?=
mutate: $(VENV)/.installed
	CARRIERSIM_HYPOTHESIS_PROFILE=fast $(BIN)/python -m tests.client.mutation run \
		$(if $(MUTATE_JOBS),--jobs $(MUTATE_JOBS)) $(foreach m,$(MUTANTS),'$(m)')

bench: $(VENV)/.installed
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis mutants
