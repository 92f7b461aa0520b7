"""Where Trellis may send a webhook: URL parsing and the server-side request forgery checks.

:func:`check_destination` resolves the host and refuses loopback, private, link-local,
multicast, reserved, unspecified and other non-global addresses (IPv4 addresses
embedded in IPv6 included), so a tenant cannot point a webhook at the cloud metadata
service or at Trellis's own Redis. :func:`resolve` returns the checked addresses, which
the sender connects to directly (no second DNS lookup an attacker could answer differently).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from urllib.parse import urlsplit

from trellis.errors import TrellisError

DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationRefused(TrellisError, ValueError):
    """A URL Trellis will not call: wrong scheme, no host, or an address it must not reach."""

    status, code = 422, "destination_refused"


@dataclasses.dataclass(frozen=True)
class Target:
    """A URL Trellis may call, taken apart for the connection and the request line."""

    scheme: str
    host: str  # without IPv6 brackets, lower case
    port: int
    path: str  # path and query, what goes on the request line

    @property
    def destination(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_target(url: str) -> Target:
    """``url`` taken apart; raises :class:`DestinationRefused` for one Trellis never calls."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, not {type(url).__name__}")
    if any(
        character.isspace() or ord(character) < 0x20 or ord(character) == 0x7F for character in url
    ):
        raise DestinationRefused("The URL contains spaces or control characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise DestinationRefused(
            f"Only http and https URLs can be called, not {scheme or 'a URL without a scheme'}."
        )
    if not parts.hostname:
        raise DestinationRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("The URL contains credentials; put them in a header instead.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise DestinationRefused("The URL's port is not a number from 1 to 65535.")
    host = parts.hostname
    try:
        host.encode("idna")
    except UnicodeError:
        raise DestinationRefused(f"The URL's host {host!r} is not a valid name.") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme, host, port, path)


def destination_of(url: str) -> str:
    """The circuit breaker's key for ``url``: scheme, host and port (``https://h:443``)."""
    return parse_target(url).destination


def _refusal_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address must not be called, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside IPv6 reaches the IPv4 host: judge that host. (Python
        # 3.11 does not call ::ffff:127.0.0.1 loopback, and 2002::/16 counts as global.)
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _refusal_reason(embedded)
    for reason, matches in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        # 100.64.0.0/10 and the like: internal in many clouds.
        ("not globally routable", not address.is_global),
    ):
        if matches:
            return reason
    return None


def resolve(target: Target, *, allow_private: bool) -> list[str]:
    """The addresses of ``target``'s host, all checked; raises OSError when DNS fails."""
    results = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in results))
    if not addresses:
        raise socket.gaierror(f"no addresses for {target.host}")
    if not allow_private:
        for address in addresses:
            reason = _refusal_reason(ipaddress.ip_address(address))
            if reason:
                # Refuse the whole host, not just this address: a name that resolves
                # to an internal address is not a webhook receiver.
                shown = "" if address == target.host else f" resolves to {address}, which"
                raise DestinationRefused(
                    f"{target.host}{shown} is a {reason} address; webhooks can only call "
                    "public addresses.",
                    extra={"address": address, "reason": reason},
                )
    return addresses


def check_destination(url: str, *, allow_private: bool) -> None:
    """Raise :class:`DestinationRefused` unless Trellis may call ``url``.

    Resolves the host now, so call it when saving a webhook to give the user an early
    answer; :func:`deliver` checks again at send time, against the addresses it uses.
    """
    target = parse_target(url)
    try:
        resolve(target, allow_private=allow_private)
    except OSError as error:
        raise DestinationRefused(
            f"The host {target.host} could not be resolved.", extra={"reason": str(error)}
        ) from None
