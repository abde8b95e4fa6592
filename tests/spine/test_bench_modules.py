"""`make bench` runs every module in bench/ (issue 15); CI does not run the benchmarks, so
this keeps them from rotting when code moves (issue 16 moved shared.cli to ops.cli and a
benchmark merged the same day still started `python -m shared.cli`)."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
MODULES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__")
RUNS_MODULE = re.compile(r'"-m",\s*"([\w.]+)"')


@pytest.mark.parametrize("module", MODULES)
def test_benchmark_imports_and_starts_only_modules_that_exist(module):
    importlib.import_module(f"bench.{module}")
    started = RUNS_MODULE.findall((BENCH / f"{module}.py").read_text(encoding="utf-8"))
    missing = [m for m in started if importlib.util.find_spec(m) is None]
    assert missing == [], f"bench/{module}.py starts python -m {missing}"
