"""`python -m bench [name ...]`: run every benchmark module (or the named ones), print one
table and keep it as JSON under bench/results/.

A module that fails is reported and the others still run, so one broken benchmark does not
throw away half an hour of figures; the exit status then says something failed. A missed
target is a finding of the report, not a failure.
"""

from __future__ import annotations

import json
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

from bench import Measurement, discover, table
from bench.datasets import EVENTS, requested_databases

RESULTS = Path(__file__).parent / "results"


def main(names: list[str]) -> int:
    started = datetime.now(UTC)
    measurements: list[Measurement] = []
    failed: list[str] = []
    for module in discover(names):
        clock = perf_counter()
        print(f"running {module.__name__} ...", flush=True)
        try:
            measurements.extend(module.run())
        except Exception:  # noqa: BLE001 (reported, and the run goes on)
            traceback.print_exc()
            failed.append(module.__name__)
        print(f"  done in {perf_counter() - clock:.1f} s", flush=True)
    print()
    print(table(measurements))
    print(f"written to {_write(started, measurements, failed)}")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


def _write(started: datetime, measurements: list[Measurement], failed: list[str]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({
        "started": started.isoformat().replace("+00:00", "Z"),
        "events": EVENTS,
        "databases": list(requested_databases()),
        "failed": failed,
        "measurements": [m.as_dict() for m in measurements],
    }, indent=2, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
