"""Matching the `client_ip` column against an address or a CIDR network, on both databases.

Addresses are stored in Python's normalised text form. An IPv4 network is turned into
ranges of that text (`10.1.` up to `10.1/` for 10.1.0.0/16), which the
`(client_ip, created, event_uuid)` index answers directly. IPv6 text does not sort by
network (zero groups are compressed away), so IPv6 networks are tested by the database
itself: PostgreSQL's `inet <<=`, and on SQLite a function registered per connection.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SQLITE_FUNCTION = "herald_ip_in_network"


class IPMatchError(ValueError):
    """Text that is neither an IP address nor a CIDR network."""


def parse_ip_or_network(text: str) -> Network:
    """An address becomes a one-address network; host bits in a CIDR are forgiven
    (`10.1.2.3/16` means 10.1.0.0/16), as administrators type them."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError as exc:
        raise IPMatchError(
            "Enter an IP address (203.0.113.5, 2001:db8::1) or a network in CIDR form "
            "(203.0.113.0/24, 2001:db8::/32).") from exc


def ip_condition(column: sa.ColumnElement[Any], network: Network) -> sa.ColumnElement[bool]:
    if network.num_addresses == 1:
        return column == str(network.network_address)
    if network.prefixlen == 0:
        return column.contains("." if network.version == 4 else ":")
    if network.version == 4:
        return sa.or_(*(sa.and_(column >= prefix, column < prefix[:-1] + "/")
                        for prefix in ipv4_prefixes(network)))
    return _InNetwork(column, sa.literal(str(network)))


def ipv4_prefixes(network: ipaddress.IPv4Network) -> list[str]:
    """The dotted text prefixes whose addresses make up exactly this network: whole octets
    of the prefix, plus every value the first partial octet can take (at most 256)."""
    whole, spare_bits = divmod(network.prefixlen, 8)
    octets = str(network.network_address).split(".")
    head = octets[:whole]
    if spare_bits == 0:
        return [".".join(head) + "."]
    first = int(octets[whole])
    return [".".join([*head, str(value)]) + "."
            for value in range(first, first + 2 ** (8 - spare_bits))]


def ip_in_network(address: str | None, network: str) -> bool:
    """SQLite's side of IPv6 matching (registered by webapp.core.sqlite_setup)."""
    if not address:
        return False
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(network)
    except ValueError:
        return False


class _InNetwork(FunctionElement):
    inherit_cache = True
    type = sa.Boolean()


@compiles(_InNetwork, "postgresql")
def _in_network_postgresql(element: _InNetwork, compiler: Any, **kw: Any) -> str:
    column, network = (compiler.process(arg, **kw) for arg in element.clauses)
    # Only IPv6 text is cast: every stored address is valid, and the guard keeps IPv4 rows
    # out of a comparison that could never hold.
    return (f"(strpos({column}, ':') > 0 AND CAST({column} AS inet) <<= "
            f"CAST({network} AS inet))")


@compiles(_InNetwork)
def _in_network_default(element: _InNetwork, compiler: Any, **kw: Any) -> str:
    column, network = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"{SQLITE_FUNCTION}({column}, {network})"
