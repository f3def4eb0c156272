"""Demo events as a pure function of a plan and a directory: `generate(plan, directory)`.

Time runs forward hour by hour through the window. Each hour gets its share of the events by
how many people are awake then (everyone's local day and night, quieter weekends), and rows
come out in time order. That order matters for speed: inserts into the time indexes
(`created`, `expires`) become appends, which is what lets a million events load in about a
minute.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import accumulate
from operator import itemgetter

from webapp.demo.scenarios import Row, Scene
from webapp.demo.world import DemoDirectory, DemoPlan

HOUR = timedelta(hours=1)
WEEKEND = 0.35  # how busy Saturdays and Sundays are compared to weekdays


def generate(plan: DemoPlan, directory: DemoDirectory) -> Iterator[Row]:
    """Exactly `plan.count` rows for `sa.insert(Event)`, oldest first hour by hour."""
    rng = random.Random(plan.seed)
    scene = Scene(rng, plan, directory)
    produced = 0
    for start, target in hourly_targets(plan, scene):
        batch: list[Row] = []
        while produced + len(batch) < target:
            batch.extend(scene.happen(start + rng.random() * HOUR, start.hour))
        del batch[plan.count - produced:]
        batch.sort(key=itemgetter("created"))
        produced += len(batch)
        yield from batch


def hourly_targets(plan: DemoPlan, scene: Scene) -> list[tuple[datetime, int]]:
    """Each hour of the window with the number of events that should exist by its end.

    A burst that overshoots one hour is made up by the quieter hours after it.
    """
    starts = [plan.start + i * HOUR for i in range(plan.days * 24)]
    weights = [scene.activity(start.hour) * (WEEKEND if start.weekday() >= 5 else 1.0)
               for start in starts]
    total = sum(weights)
    targets = [round(plan.count * running / total) for running in accumulate(weights)]
    targets[-1] = plan.count
    return list(zip(starts, targets, strict=True))
