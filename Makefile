# mnsp_mm: the two commands are `make demo` and `make test`; both build .venv when needed.
# `make study` asks where pretraining pays: recipe search, budget and label curves on the
# validation split (102 minutes of stages on 2 cores on a fresh clone, 2026-12-07; docs/study.md).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
DEMO_ARGS ?=
BENCH_ARGS ?=
BENCH_DEMO_ARGS ?=

.PHONY: env demo study test bench clean-env

env:
	@VENV=$(VENV) bash tools/setup_env.sh

demo: env
	$(PY) tools/demo.py $(DEMO_ARGS)

study: env
	$(PY) tools/demo.py --profile study $(DEMO_ARGS)

test: env
	$(PY) -m pytest $(PYTEST_ARGS)

# the paper configs (ViT-S/4), then the demo's size with its speed levers on and off
bench: env
	$(PY) tools/benchmark.py $(BENCH_ARGS)
	$(PY) tools/benchmark.py --size demo --out work_dirs/benchmark/demo_steps.json $(BENCH_DEMO_ARGS)

clean-env:
	rm -rf $(VENV)
