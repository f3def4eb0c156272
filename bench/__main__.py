"""`python -m bench`: run every benchmark module and print one table."""

from __future__ import annotations

import sys
from time import perf_counter

from bench import Measurement, discover, table


def main() -> int:
    measurements: list[Measurement] = []
    for module in discover():
        started = perf_counter()
        print(f"running {module.__name__} ...", flush=True)
        measurements.extend(module.run())
        print(f"  done in {perf_counter() - started:.1f} s", flush=True)
    print()
    print(table(measurements))
    return 0


if __name__ == "__main__":
    sys.exit(main())
