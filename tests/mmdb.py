"""Write small, real MaxMind databases for tests, in the GeoLite2 City and ASN layouts.

    write_city_db(path, {"81.2.69.0/24": City("London", country="GB", continent="EU")})
    write_asn_db(path, {"8.8.8.0/24": Asn(15169, "Google LLC")})
    write_corrupt_db(path)

Networks may be IPv4 or IPv6; the files hold both, as GeoLite2 does (`ip_version=4` writes an
IPv4-only file). Every write leaves the file with a later mtime than the one it replaces, so a
reader watching mtimes always sees the change, even when two writes fall in the same
filesystem clock tick. Readers look at the disk at most once a second: give them a
`ManualClock` (`init_geoip(app, clock)`) and `advance()` it to let them notice; `count_stats`
shows how often they looked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet


@dataclass(frozen=True)
class City:
    """A GeoLite2-City record. An empty `city` leaves the city out, as for country-level hits."""

    city: str = ""
    country: str = "GB"
    continent: str = "EU"
    latitude: float = 51.5142
    longitude: float = -0.0931

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "continent": {"code": self.continent},
            "country": {"iso_code": self.country},
            "location": {"latitude": self.latitude, "longitude": self.longitude},
        }
        if self.city:
            record["city"] = {"names": {"en": self.city}}
        return record


@dataclass(frozen=True)
class Asn:
    """A GeoLite2-ASN record."""

    number: int
    organization: str

    def record(self) -> dict[str, Any]:
        return {"autonomous_system_number": self.number,
                "autonomous_system_organization": self.organization}


LONDON = City("London", country="GB", continent="EU", latitude=51.5142, longitude=-0.0931)
GOOGLE = Asn(15169, "Google LLC")


class ManualClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += seconds


def count_stats(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[str]:
    """A list that grows by one each time anything stats `path` from now on."""
    real_stat = os.stat
    stats: list[str] = []

    def counting_stat(target, *args, **kwargs):
        if os.fspath(target) == str(path):
            stats.append(str(path))
        return real_stat(target, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    return stats


def write_city_db(path: str | os.PathLike[str], networks: Mapping[str, City], *,
                  database_type: str = "GeoLite2-City", ip_version: int = 6) -> Path:
    return _write(path, database_type, ip_version,
                  {net: city.record() for net, city in networks.items()})


def write_asn_db(path: str | os.PathLike[str], networks: Mapping[str, Asn], *,
                 database_type: str = "GeoLite2-ASN", ip_version: int = 6) -> Path:
    return _write(path, database_type, ip_version,
                  {net: asn.record() for net, asn in networks.items()})


def write_corrupt_db(path: str | os.PathLike[str], size: int = 4096) -> Path:
    """Random bytes where a database should be."""
    return _save(Path(path), lambda target: target.write_bytes(os.urandom(size)))


def _write(path: str | os.PathLike[str], database_type: str, ip_version: int,
           records: Mapping[str, dict[str, Any]]) -> Path:
    writer = MMDBWriter(ip_version=ip_version, ipv4_compatible=ip_version == 6,
                        database_type=database_type,
                        languages=["en"], description=f"Herald test {database_type}")
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    return _save(Path(path), lambda target: writer.to_db_file(str(target)))


def _save(path: Path, write: Callable[[Path], object]) -> Path:
    previous = path.stat().st_mtime_ns if path.exists() else 0
    write(path)
    if path.stat().st_mtime_ns <= previous:
        later = previous + 1_000_000_000
        os.utime(path, ns=(later, later))
    return path
