"""Where completion callbacks may go: public addresses only (SSRF guard).

A ``callback_url`` is chosen by whoever sends the request, and the service
POSTs to it from inside its own network. Unless ``VIDEOGEN_CALLBACK_ALLOW_PRIVATE``
is true, the host of a callback URL must resolve to public addresses only:

- :func:`refusal` — pure: why one IP address is refused (loopback, private,
  CGNAT, link-local, multicast, unspecified, reserved, not globally routable;
  IPv4-mapped and 6to4 IPv6 forms are judged by the IPv4 address inside), or
  None when it is allowed;
- :func:`check_host` / :func:`check_url` — a literal IP is judged as it is;
  a name is resolved (:func:`resolve_host`, bounded by a timeout) and refused
  when ANY of its addresses is refused.

The HTTP edge checks at request time (400) and the sender checks again just
before each POST, so a name that resolves elsewhere later (DNS rebinding) is
caught; the sender never follows redirects.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

__all__ = [
    "ALLOW_SETTING",
    "RESOLVE_TIMEOUT_SECONDS",
    "AddressRefused",
    "CallbackTargetError",
    "IPAddress",
    "ResolutionFailed",
    "Resolver",
    "check_host",
    "check_url",
    "pinned",
    "refusal",
    "resolve_host",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: A name → its addresses (strings as ``getaddrinfo`` gives them).
Resolver = Callable[[str], Sequence[str]]

ALLOW_SETTING = "VIDEOGEN_CALLBACK_ALLOW_PRIVATE"
#: Resolving a callback host never holds a request (or a send) longer than this.
RESOLVE_TIMEOUT_SECONDS = 3.0

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 carrier-grade NAT
_PROTOCOL_ASSIGNMENTS = ipaddress.ip_network("192.0.0.0/24")  # RFC 6890


class CallbackTargetError(Exception):
    """A callback URL's host may not receive callbacks (``str()`` says why)."""


class AddressRefused(CallbackTargetError):
    """The host is, or resolves to, a refused address."""


class ResolutionFailed(CallbackTargetError):
    """The host did not resolve (error, no address, or timeout)."""


def refusal(address: str | IPAddress) -> str | None:
    """Why ``address`` may not receive callbacks (e.g. ``"a loopback address"``),
    or None when it is a public address. Raises ValueError when it is not an IP."""
    ip = address if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) \
        else ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            inner = refusal(ip.ipv4_mapped)
            return None if inner is None else f"{inner} (IPv4-mapped {ip.ipv4_mapped})"
        if ip.sixtofour is not None:
            inner = refusal(ip.sixtofour)
            if inner is not None:
                return f"{inner} (6to4 {ip.sixtofour})"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "a shared (CGNAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or (isinstance(ip, ipaddress.IPv4Address)
                            and ip in _PROTOCOL_ASSIGNMENTS):
        return "a non-public address"
    return None


def resolve_host(host: str, timeout: float = RESOLVE_TIMEOUT_SECONDS) -> list[str]:
    """Every address ``host`` resolves to (``socket.getaddrinfo``), waiting at most
    ``timeout`` seconds; ResolutionFailed on an error, no address or the timeout."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="videogen-resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise ResolutionFailed(f"{host} did not resolve within {timeout:g} s")
    if "error" in box:
        raise ResolutionFailed(f"{host} does not resolve: {box['error']}")
    infos = box.get("infos")
    addresses = [str(info[4][0]) for info in infos] if isinstance(infos, list) else []
    if not addresses:
        raise ResolutionFailed(f"{host} resolves to no address")
    return list(dict.fromkeys(addresses))


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.replace("%25", "%"))  # zone ids as URLs spell them
    except ValueError:
        return None


def check_host(host: str, resolve: Resolver | None = None) -> list[IPAddress]:
    """The addresses of ``host`` when every one is public; AddressRefused (naming the
    address) or ResolutionFailed otherwise. Literal IPs are judged without DNS;
    ``resolve`` defaults to :func:`resolve_host`."""
    literal = _literal(host)
    if literal is not None:
        reason = refusal(literal)
        if reason is not None:
            raise AddressRefused(f"{literal} is {reason}; callbacks to private networks are "
                                 f"refused unless {ALLOW_SETTING}=true")
        return [literal]
    names = (resolve or resolve_host)(host)
    addresses: list[IPAddress] = []
    for name in names:
        try:
            ip = ipaddress.ip_address(name)
        except ValueError:
            raise ResolutionFailed(f"{host} resolved to {name!r}, not an IP address") from None
        reason = refusal(ip)
        if reason is not None:
            raise AddressRefused(f"{host} resolves to {ip}, {reason}; callbacks to private "
                                 f"networks are refused unless {ALLOW_SETTING}=true")
        addresses.append(ip)
    if not addresses:
        raise ResolutionFailed(f"{host} resolves to no address")
    return addresses


def check_url(url: str, resolve: Resolver | None = None) -> list[IPAddress]:
    """:func:`check_host` on the host of ``url`` (ResolutionFailed when it has none)."""
    host = urlsplit(url).hostname
    if not host:
        raise ResolutionFailed(f"{url!r} names no host")
    return check_host(host, resolve)


def pinned(url: str, address: IPAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """``url`` rewritten to connect to the checked ``address`` itself, so that the
    HTTP client cannot resolve the name again (and land elsewhere) between the
    check and the connection: ``(url, headers, extensions)`` — the ``Host``
    header keeps the name, and for https the TLS SNI and certificate check use it
    (httpx's ``sni_hostname`` extension). A literal-IP URL is returned as it is."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _literal(host) is not None:
        return url, {}, {}
    ip = f"[{address}]" if address.version == 6 else str(address)
    netloc = ip if parts.port is None else f"{ip}:{parts.port}"
    userinfo, _, _ = parts.netloc.rpartition("@")
    target = parts._replace(netloc=f"{userinfo}@{netloc}" if userinfo else netloc).geturl()
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return target, {"Host": host_header}, extensions
