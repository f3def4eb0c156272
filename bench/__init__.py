"""Herald's benchmarks: `make bench` (or `python -m bench`) runs every `bench_*.py` module here.

Each module has `run() -> list[Measurement]`. A measurement carries its figure and a raw
baseline measured in the same run on the same machine (e.g. plain sqlite3 doing the same
writes), so the ratio stays meaningful on a busy or slow machine where absolute figures swing.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    unit: str
    baseline: float  # the raw baseline's figure, in the same unit
    baseline_name: str

    @property
    def ratio(self) -> float:
        """Figure / baseline: for rates, 1.0 means as fast as the raw baseline."""
        return self.value / self.baseline if self.baseline else float("nan")


def discover() -> Iterator[ModuleType]:
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]),
                         key=lambda found: found.name):
        if module.name.startswith("bench_"):
            yield importlib.import_module(f"{__name__}.{module.name}")


def table(measurements: Sequence[Measurement]) -> str:
    rows = [("benchmark", "figure", "raw baseline", "ratio")]
    rows += [(m.name, f"{m.value:,.0f} {m.unit}", f"{m.baseline:,.0f} {m.unit} ({m.baseline_name})",
              f"{m.ratio:.2f}") for m in measurements]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
