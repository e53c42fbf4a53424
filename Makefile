# mnsp_mm: the two commands are `make demo` and `make test`; both build .venv when needed.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
DEMO_ARGS ?=
BENCH_ARGS ?=

.PHONY: env demo test bench clean-env

env:
	@VENV=$(VENV) bash tools/setup_env.sh

demo: env
	$(PY) tools/demo.py $(DEMO_ARGS)

test: env
	$(PY) -m pytest $(PYTEST_ARGS)

bench: env
	$(PY) tools/benchmark.py $(BENCH_ARGS)

clean-env:
	rm -rf $(VENV)
