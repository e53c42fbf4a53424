"""The benchmark's child process: ``python -m mnsp_mm.bench CONFIG DATA OPTIONS_JSON``.

Measures one config (see :mod:`.worker`) and prints the result as one JSON line.
"""
import json
import sys

import mnsp_mm  # noqa: F401  (registers our modules)
from mnsp_mm.bench.worker import WorkerOptions, run_worker

if len(sys.argv) != 4:
    raise SystemExit('usage: python -m mnsp_mm.bench CONFIG DATA OPTIONS_JSON '
                     '(started by tools/benchmark.py; run that instead)')
config, data, options = sys.argv[1:]
print(json.dumps(run_worker(config, WorkerOptions(**json.loads(options)), data or None)))
