"""The final table of ``make bench``: every benchmark, its target, its figures.

    .venv/bin/python -m bench.summary DIR     (DIR holds one <module>.txt output per benchmark)

The target is the one each benchmark states in its docstring or prints ("target …"); the
figures are the output lines that name a target, else the last line printed.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

TARGET = re.compile(r"\(?(target[^)]*)\)?", re.I)


def stated_target(module: str) -> str:
    doc = (importlib.import_module(f"bench.{module}").__doc__ or "").strip()
    first = doc.splitlines()[0] if doc else ""
    m = TARGET.search(first)
    return m.group(1).strip() if m else "(printed)"


def figures(output: str) -> list[str]:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    named = [line for line in lines if "target" in line.lower()]
    return named or lines[-1:]


def main(folder: Path) -> None:
    print(f"{'benchmark':<22} {'target':<34} figures")
    for path in sorted(folder.glob("*_*.txt")):
        module = path.stem
        target = stated_target(module)
        for i, line in enumerate(figures(path.read_text(errors="replace")) or ["(no output)"]):
            print(f"{module if i == 0 else '':<22} {target if i == 0 else '':<34} {line}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ".kpp/bench"))
