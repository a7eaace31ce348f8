# Fresh-machine set-up and the project's standard commands.
#   make install    set up .venv and compile the kernels (`bayesgmm warm`): later runs start warm
#   make run        set up (first time) and run the main job on the bundled Old Faithful data
#   make test       set up (first time), lint, and run the default test suite
#   make test-slow  the long sampling tests (oracles, convergence per covariance type, selection)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test test-slow lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@set -e; py=$$(scripts/find-python.sh); echo "using $$py"; \
	  [ -x $(PY) ] || "$$py" -m venv $(VENV); \
	  $(PY) -m pip install --quiet --upgrade pip; \
	  echo "installing bayesgmm and its dependencies into $(VENV) (a minute or so; pip is quiet, and setuptools' \"Editable installation\" notice is expected: nothing to do)"; \
	  $(PY) -m pip install --quiet -e ".[dev]"
	@# Compile the numba kernels and the sampler now (about a minute, once), so that the first
	@# `make run` loads them from the cache instead of compiling in silence.
	$(VENV)/bin/bayesgmm warm
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/bayesgmm run models/old_faithful.toml --force

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) lint
	@# pytest's workers import numba and PyMC before the first dot (QA: a minute of silence)
	@echo "running the default tests, 2 workers (~10-12 min on 2 cores; the first results come after about a minute of start-up)"
	$(PY) -m pytest -m "not slow" -n 2 --dist loadfile -q

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -n 2 --dist loadfile -q

bench: $(STAMP)
	$(PY) benchmarks/bench_em.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
