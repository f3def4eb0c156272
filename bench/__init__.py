"""Herald's benchmarks: `make bench` (or `python -m bench`) runs every `bench_*.py` module here.

Each module has `run() -> list[Measurement]`. A measurement carries its figure, the target the
issues set for it, and a raw baseline measured in the same run on the same machine (e.g. the
database driver doing the same writes), so the ratio stays meaningful on a busy or slow machine
where absolute figures swing, while the target says whether the figure itself is good enough.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

#: `Measurement.database` of a figure that no database takes part in.
NO_DATABASE = "-"


@dataclass(frozen=True)
class Target:
    """A figure's goal from the issues: at most `limit` (times, memory) or at least `limit`
    (rates), in the figure's own unit."""

    limit: float
    at_least: bool = False

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit


def at_most(limit: float) -> Target:
    return Target(limit)


def at_least(limit: float) -> Target:
    return Target(limit, at_least=True)


@dataclass(frozen=True)
class Measurement:
    database: str  # "sqlite", "postgresql", or NO_DATABASE
    name: str
    value: float
    unit: str
    target: Target | None  # None: the issues set none for this figure (shown for context)
    baseline: float  # the raw baseline's figure, in the same unit
    baseline_name: str

    @property
    def ratio(self) -> float:
        """Figure / baseline: for times 1.0 means as quick as the raw baseline, for rates as
        fast; a time's ratio grows and a rate's shrinks with what Herald adds."""
        return self.value / self.baseline if self.baseline else float("nan")

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found.update(ratio=None if math.isnan(self.ratio) else self.ratio, met=self.met)
        return found


def discover(names: Sequence[str] = ()) -> Iterator[ModuleType]:
    """The `bench_*` modules, or only those named (`logs` or `bench_logs`)."""
    wanted = {name.removeprefix("bench_") for name in names}
    found = sorted(module.name for module in pkgutil.iter_modules([str(Path(__file__).parent)])
                   if module.name.startswith("bench_"))
    unknown = wanted - {name.removeprefix("bench_") for name in found}
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))} "
                         f"(there are: {', '.join(found)})")
    for name in found:
        if not wanted or name.removeprefix("bench_") in wanted:
            yield importlib.import_module(f"{__name__}.{name}")


def table(measurements: Sequence[Measurement]) -> str:
    """The report: one row per figure, then how many targets were met."""
    rows = [("database", "benchmark", "figure", "target", "met", "raw baseline", "ratio")]
    rows += [(m.database, m.name, _figure(m.value, m.unit), _target(m),
              {True: "yes", False: "NO", None: "-"}[m.met],
              f"{_figure(m.baseline, m.unit)} ({m.baseline_name})", f"{m.ratio:.2f}")
             for m in measurements]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in [*lines, "", summary(measurements)])


def summary(measurements: Sequence[Measurement]) -> str:
    judged = [m.met for m in measurements if m.met is not None]
    if not judged:
        return "no targets among these figures"
    return f"{sum(judged)} of {len(judged)} targets met"


def _target(measurement: Measurement) -> str:
    target = measurement.target
    if target is None:
        return "-"
    return f"{'≥' if target.at_least else '≤'} {_figure(target.limit, measurement.unit)}"


def _figure(value: float, unit: str) -> str:
    """Three significant digits or more: 0.42 ms, 7.3 ms, 152 ms, 104,500 rows/s."""
    digits = 0 if value == int(value) else 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:,.{digits}f} {unit}"
