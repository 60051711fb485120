# Two commands do all the set-up on a fresh machine:
#   make run    create .venv (Python 3.12, pinned packages) and run the main job
#   make test   create .venv and run the test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Python 3.12 is required (Mesa 3.5 needs >= 3.12). Look for it on PATH, then in pyenv's versions.
PYTHON312 := $(shell for p in python3.12 $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12; do \
	  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' >/dev/null 2>&1 && { echo "$$p"; break; }; \
	done)

.PHONY: run test lint bench patterns baseline docs workshop venv clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@if [ -z "$(PYTHON312)" ]; then \
	  echo "error: Python 3.12 is required (Mesa 3.5.1 needs >= 3.12); install python3.12 and retry" >&2; exit 2; fi
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m experiments.compare

# The suite runs on every core this process may use (pytest-xdist; joblib counts the cores,
# taking CPU affinity and a container's CPU quota into account, which pytest's "-n auto" does
# not); PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= $(shell $(PY) -c 'import joblib; print(joblib.cpu_count())')
test: $(STAMP)
	$(PY) -m ruff check sim experiments tests scripts
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(PY) -m ruff check sim experiments tests scripts
	$(PY) -m ruff format --check sim experiments tests scripts

bench: $(STAMP)
	$(PY) -m experiments.bench

# The workshop page for trainers, on http://127.0.0.1:8765 (make workshop HOST=0.0.0.0 to serve a
# room). HOST counts only when given on the make command line: many shells export $$HOST (the
# machine's name), which must not silently open the page to the network.
ifeq ($(origin HOST),command line)
WORKSHOP_HOST := $(HOST)
else
WORKSHOP_HOST := 127.0.0.1
endif
PORT ?= 8765
workshop: $(STAMP)
	@if [ -n "$(NETWORK)" ]; then $(PY) -c 'import sys; from sim.workshop.session import check_network; sys.exit(check_network(sys.argv[1]))' "$(NETWORK)"; fi
	@case "$(WORKSHOP_HOST)" in 127.*|localhost|::1) ;; \
	  *) echo "warning: serving the workshop page on $(WORKSHOP_HOST):$(PORT), beyond this machine; anyone who can reach that address can use it (no login)" >&2 ;; \
	esac
	@echo "loading the model's compiled kernels (about 15 s after an install or a change to the code)"
	@$(PY) -c 'from sim.workshop.session import load_kernels; load_kernels()'
	PLN_WORKSHOP_NETWORK="$(NETWORK)" SOLARA_TELEMETRY_MIXPANEL_ENABLE=False $(VENV)/bin/solara run sim/workshop/app.py \
	  --host $(WORKSHOP_HOST) --port $(PORT) --production --no-open

patterns: $(STAMP)
	$(PY) -m experiments.patterns

baseline: $(STAMP)
	$(PY) scripts/regenerate_baseline.py

docs: $(STAMP)
	$(PY) scripts/generate_parameters.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
