"""Where a callback comes from, for the optional source allow-list."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str | None, forwarded_for: str | None, *, trusted_hops: int) -> str | None:
    """The address of whoever called us. With `trusted_hops` proxies in front, each appending the
    address it saw to `X-Forwarded-For`, the client is the entry that many places from the right
    (entries further left were written by the client itself and prove nothing)."""
    if trusted_hops == 0:
        return peer
    hops = [part.strip() for part in (forwarded_for or "").split(",") if part.strip()]
    if len(hops) < trusted_hops:
        return None
    return hops[-trusted_hops]


@lru_cache(maxsize=64)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def is_allowed(address: str | None, cidrs: tuple[str, ...]) -> bool:
    if not cidrs:
        return True
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(cidrs))
