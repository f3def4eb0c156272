"""GeoIP and ASN enrichment: `context.geo` and `context.asn` from MaxMind databases.

Each file (HERALD_GEOIP_CITY_DB, HERALD_GEOIP_ASN_DB) is optional and works on its own, as in
authentik. A file that is missing, unreadable, damaged or of the wrong kind turns its
enrichment off and says why on the Settings page; events are still recorded, never failed.

Files are replaced while Herald runs (geoipupdate, or someone copying a new one over the old),
so each is checked for a new mtime, size or inode at most once a second and then reopened.
They are read into memory rather than memory-mapped: a file rewritten in place under a live
mapping can crash the process with SIGBUS, while an in-memory copy stays consistent until the
next reload. That costs the file's size in RAM and some tens of microseconds per lookup.

Reading a new file takes a while (it is tens of megabytes), and lookups run inside requests,
so a reload never makes them wait: one thread reads the new file while every other lookup goes
on answering from the old reader, and the new one replaces it in a single assignment.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import maxminddb
from flask import Flask, current_app

log = logging.getLogger("herald.geoip")
EXTENSION_KEY = "herald_geoip"
CHECK_INTERVAL_SECONDS = 1.0
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_UNCHECKED = object()


@dataclass(frozen=True)
class Status:
    """What the Settings page says about one database; `problem` when it is configured but off."""

    text: str
    problem: bool = False

    def __str__(self) -> str:
        return self.text


def _dig(record: Any, *keys: str) -> Any:
    """`record[k1][k2]...`, or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(record, Mapping):
            return None
        record = record.get(key)
    return record


def _geo(record: Any, _network: Network) -> dict[str, Any]:
    return {
        "continent": _dig(record, "continent", "code"),
        "country": _dig(record, "country", "iso_code"),
        "lat": _dig(record, "location", "latitude"),
        "long": _dig(record, "location", "longitude"),
        "city": _dig(record, "city", "names", "en") or "",
    }


def _asn(record: Any, network: Network) -> dict[str, Any]:
    return {
        "asn": _dig(record, "autonomous_system_number"),
        "as_org": _dig(record, "autonomous_system_organization"),
        "network": str(network),
    }


@dataclass(frozen=True)
class Kind:
    """One kind of database: where it is configured, which files qualify, what it adds."""

    name: str
    config_key: str
    context_key: str
    type_markers: tuple[str, ...]  # the file's database_type must contain one of them
    to_context: Callable[[Any, Network], dict[str, Any]]

    def accepts(self, database_type: str) -> bool:
        return any(marker in database_type for marker in self.type_markers)


CITY = Kind("City", "GEOIP_CITY_DB", "geo", ("City", "Enterprise"), _geo)
ASN = Kind("ASN", "GEOIP_ASN_DB", "asn", ("ASN", "ISP"), _asn)


class Database:
    """One MaxMind file: opened on first use, reopened when it changes on disk."""

    def __init__(self, kind: Kind, path: object,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.kind = kind
        # str(): HERALD_* values are JSON-decoded, and os.stat(3) would stat file descriptor 3.
        self.path = str(path) if path else None
        self._clock = clock
        self._reloading = threading.Lock()  # one thread checks the file; lookups never wait
        self._swapping = threading.Lock()  # held for an assignment, never for file I/O
        # The reader and its status travel together, so a lookup never pairs one with the other.
        self._loaded: tuple[maxminddb.Reader | None, Status] = (
            None, Status(f"off: not configured (HERALD_{kind.config_key})"))
        self._stamp: object = _UNCHECKED
        self._next_check = float("-inf")

    def status(self) -> Status:
        self._refresh()
        return self._loaded[1]

    def lookup(self, address: Address) -> dict[str, Any] | None:
        """This database's context for a public address, or None when off or not listed."""
        reader = self._refresh()
        if reader is None:
            return None
        try:
            if address.version > reader.metadata().ip_version:
                return None  # an IPv6 client and an IPv4-only file
            record, prefix_len = reader.get_with_prefix_len(address)
        except Exception:  # a damaged data section fails in many ways inside the parser
            self._turn_off(reader, Status(f"off: {self.path} is damaged (lookups fail)", True))
            return None
        if record is None:
            return None
        return self.kind.to_context(record, ipaddress.ip_network((address, prefix_len),
                                                                 strict=False))

    def _refresh(self) -> maxminddb.Reader | None:
        """The current reader, after checking the file when a check is due. Only the first
        load is waited for (there is no older reader to answer with); while another thread
        reloads, this answers at once from the reader it is replacing."""
        if self.path is None:
            return None
        if self._clock() >= self._next_check and \
                self._reloading.acquire(blocking=self._stamp is _UNCHECKED):
            try:
                self._check()
            finally:
                self._reloading.release()
        return self._loaded[0]

    def _check(self) -> None:
        now = self._clock()
        if now < self._next_check:
            return  # checked by another thread while this one waited for the first load
        self._next_check = now + CHECK_INTERVAL_SECONDS
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return
        loaded = self._open(stamp is not None)
        # The old reader is not closed: a lookup in another thread may still use it.
        with self._swapping:
            self._stamp, self._loaded = stamp, loaded
        _log_status(self.kind, loaded[1])

    def _open(self, exists: bool) -> tuple[maxminddb.Reader | None, Status]:
        if not exists:
            return None, Status(f"off: {self.path} not found", problem=True)
        try:
            reader = maxminddb.open_database(self.path, maxminddb.MODE_MEMORY)
            metadata = reader.metadata()
            database_type = str(metadata.database_type)
            built = datetime.fromtimestamp(metadata.build_epoch, UTC).date()
        except Exception as error:  # a damaged file fails in many ways inside the parser
            return None, Status(f"off: {self.path} {_describe(error)}", problem=True)
        if not self.kind.accepts(database_type):
            return None, Status(f"off: {self.path} is a {database_type} database, "
                                f"not {self.kind.name}", problem=True)
        return reader, Status(f"loaded {self.path} ({database_type}, built {built})")

    def _turn_off(self, reader: maxminddb.Reader, status: Status) -> None:
        """Stop using a reader that failed, until the file changes; a newer one stays."""
        with self._swapping:
            if self._loaded[0] is not reader:
                return
            self._loaded = (None, status)
        _log_status(self.kind, status)


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def _describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"cannot be read ({error.strerror.lower()})"
    return "is not a MaxMind database"


def _log_status(kind: Kind, status: Status) -> None:
    log.log(logging.WARNING if status.problem else logging.INFO, "GeoIP %s: %s", kind.name, status)


def public_address(raw: str | None) -> Address | None:
    """The address worth looking up: global unicast only (IPv4-mapped IPv6 as IPv4)."""
    try:
        address = ipaddress.ip_address(raw or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address if address.is_global and not address.is_multicast else None


class GeoIP:
    """The app's City and ASN databases."""

    def __init__(self, config: Mapping[str, Any],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.databases = tuple(Database(kind, config.get(kind.config_key), clock)
                               for kind in (CITY, ASN))

    def context_for(self, client_ip: str | None) -> dict[str, dict[str, Any]]:
        """`{"geo": {...}, "asn": {...}}` with whatever the databases know about this IP."""
        address = public_address(client_ip)
        if address is None:
            return {}
        found = {}
        for database in self.databases:
            data = database.lookup(address)
            if data is not None:
                found[database.kind.context_key] = data
        return found

    def status(self) -> dict[str, Status]:
        return {database.kind.name: database.status() for database in self.databases}


def init_geoip(app: Flask, clock: Callable[[], float] = time.monotonic) -> None:
    """Give the app its own readers; nothing is opened until the first event or status."""
    app.extensions[EXTENSION_KEY] = GeoIP(app.config, clock)


def enrich(context: dict[str, Any], client_ip: str | None) -> None:
    """Add `geo` and `asn` for a public client IP. Keys the caller set are kept."""
    for key, value in _current().context_for(client_ip).items():
        context.setdefault(key, value)


def geoip_status() -> dict[str, Status]:
    """`{"City": Status, "ASN": Status}` for the Settings page."""
    return _current().status()


def _current() -> GeoIP:
    return current_app.extensions[EXTENSION_KEY]
