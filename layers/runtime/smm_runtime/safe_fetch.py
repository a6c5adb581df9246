"""Fetching from a URL a user gave us without becoming a proxy into our own network.

The Python twin of functions/render_image/src/ssrf.mts: https only, allow-listed hosts only; every
address the name resolves to must be globally routable (IPv4-mapped and NAT64 forms are
judged by the IPv4 address inside); the connection is pinned to the vetted address, so DNS
cannot change between the check and the connect; redirects are followed by hand, each hop
checked again; time is bounded.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedRequestError(Exception):
    """The URL, its host, an address it resolves to, or a redirect is not allowed."""


def is_public_address(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return bool(ip.is_global) and not ip.is_multicast


@dataclass
class FetchPolicy:
    allow_hosts: list[str]
    allow_http: bool = False
    is_allowed_address: Callable[[str], bool] = is_public_address
    max_redirects: int = 3
    timeout_s: float = 15.0
    headers: dict[str, str] = field(default_factory=lambda: {"User-Agent": "smm-transfer/1"})

    def host_allowed(self, host: str) -> bool:
        return any(
            host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in self.allow_hosts
        )


def _vet(url: str, policy: FetchPolicy) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (policy.allow_http and parts.scheme == "http"):
        raise BlockedRequestError(f"{parts.scheme or 'no'} scheme: https only")
    if parts.username or parts.password:
        raise BlockedRequestError("URLs with credentials are not allowed")
    host = (parts.hostname or "").lower()
    if not host or not policy.host_allowed(host):
        raise BlockedRequestError(f"host {host or '?'} is not on the allowlist")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as err:
        raise BlockedRequestError(f"{host} does not resolve ({err})") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        if not policy.is_allowed_address(address):
            raise BlockedRequestError(f"{host} resolves to {address}, not a public address")
    return parts.scheme, host, port, addresses[0]


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def open_url(url: str, policy: FetchPolicy) -> tuple[http.client.HTTPResponse, str]:
    """An open 200 response (the caller reads and closes it) and the final URL."""
    for _ in range(policy.max_redirects + 1):
        scheme, host, port, address = _vet(url, policy)
        conn_type = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = conn_type(host, port, address, policy.timeout_s)
        parts = urlsplit(url)
        conn.request(
            "GET",
            (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
            headers=policy.headers,
        )
        response = conn.getresponse()
        if 300 <= response.status < 400 and response.getheader("Location"):
            url = urljoin(url, response.getheader("Location", ""))
            response.close()
            conn.close()
            continue
        if response.status != 200:
            response.close()
            conn.close()
            raise BlockedRequestError(f"{host} answered {response.status}")
        return response, url
    raise BlockedRequestError(f"more than {policy.max_redirects} redirects")
