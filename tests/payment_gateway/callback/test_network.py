"""Who sent a callback, behind zero or more trusted proxies."""

from __future__ import annotations

import pytest

from payment_gateway.callback.network import client_address, is_allowed


@pytest.mark.parametrize(
    ("peer", "forwarded", "hops", "expected"),
    [
        ("196.201.214.200", None, 0, "196.201.214.200"),
        ("10.0.0.1", "6.6.6.6", 0, "10.0.0.1"),  # no proxies: the header proves nothing
        ("10.0.0.1", "6.6.6.6, 196.201.214.200", 1, "196.201.214.200"),
        ("10.0.0.2", "6.6.6.6, 196.201.214.200, 10.0.0.1", 2, "196.201.214.200"),
        ("10.0.0.1", None, 1, None),  # a proxy that should have said who called did not
    ],
)
def test_client_address(peer: str, forwarded: str | None, hops: int, expected: str | None) -> None:
    assert client_address(peer, forwarded, trusted_hops=hops) == expected


def test_allow_list() -> None:
    cidrs = ("196.201.214.0/24", "196.201.212.127/32", "2001:db8::/32")
    assert is_allowed("196.201.214.200", cidrs)
    assert is_allowed("196.201.212.127", cidrs)
    assert is_allowed("2001:db8::1", cidrs)
    assert not is_allowed("196.201.212.128", cidrs)
    assert not is_allowed("not-an-ip", cidrs)
    assert not is_allowed(None, cidrs)
    assert is_allowed(None, ())  # no allow-list configured
