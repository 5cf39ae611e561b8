"""Where a webhook may go: an https URL on the public internet, or a host:port the operator allowlisted.

One rule, checked twice. When a job is created (the API's `webhook_url`, a schedule's) a URL that breaks it
is refused, naming the rule. At delivery the host is resolved again and checked again, and the POST connects
to the very address that passed (the URL's name still goes in the Host header, TLS SNI and the certificate
check), so a name that resolves elsewhere between the check and the connection cannot redirect it; no
redirect is followed. A refused delivery opens no connection at all.

Not public: private, loopback, link-local (the cloud metadata endpoints among them), multicast, reserved,
unspecified, shared (CGNAT) and other special-purpose addresses, as `ipaddress` classifies them, in any
notation a resolver accepts (2130706433, 0x7f000001, 0177.0.0.1, 127.1, ::ffff:127.0.0.1, fe80::1%eth0),
and IPv4 addresses carried inside IPv6 ones (IPv4-mapped, 6to4) by the IPv4 address they carry.

The exception, `WEBHOOK_ALLOW` (empty by default): `host:port` entries such as `127.0.0.1:8123,
hooks.internal:443,[::1]:8123`. A URL whose host and port (443 or 80 when not written) match an entry may
go to whatever address that host is or resolves to, over https or http: the allowlist names internal
receivers, which often serve plain http. Nothing else is relaxed by it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx

from enrichment.settings import Settings, SettingsError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_PORTS = {"https": 443, "http": 80}
RULE = "webhooks go only to https URLs on the public internet (or to a host:port in WEBHOOK_ALLOW)"
# The instance metadata endpoints of the clouds (AWS IMDS and ECS task metadata, AWS IMDS over IPv6, Alibaba,
# Oracle). Each is already not public; listed so that a refusal names what the address is.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
# Host spellings that the C resolver (inet_aton) reads as an IPv4 address: 2130706433, 0x7f000001, 0177.1.
_NUMERIC_HOST = re.compile(r"[0-9a-fx.]+", re.IGNORECASE)


class WebhookRefused(ValueError):
    """The webhook_url breaks the rule. The message names the rule; it is safe to show the caller (it never
    says what a name resolved to)."""


class WebhookUnresolved(WebhookRefused):
    """The webhook_url's host does not resolve: refused when a job is created, tried again at delivery."""


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses a TCP connection to host:port would try, in the resolver's order."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def ip_literal(host: str) -> IPAddress | None:
    """The address a host written as one names, in any notation a resolver accepts; None for a name."""
    text = unquote(host).strip("[]")  # an IPv6 zone comes percent-encoded in a URL: fe80::1%25eth0
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def not_public(address: IPAddress) -> str | None:
    """What keeps the address off the public internet ("loopback", "cloud metadata", ...); None if public."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is not None and (kind := not_public(carried)):
            return kind
        if address.is_site_local:
            return "site-local"
    for kind, applies in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("special-purpose", not address.is_global),  # shared address space (CGNAT) and the like
    ):
        if applies:
            return kind
    return None


def _host(url: httpx.URL) -> str:
    """The URL's host as it is looked up: ASCII (IDNA), lower case, without a trailing dot."""
    return url.raw_host.decode("ascii").lower().rstrip(".")


def _canonical(host: str) -> str:
    literal = ip_literal(host)
    return literal.compressed if literal is not None else host


@dataclass(frozen=True)
class WebhookAllowlist:
    """host:port pairs a webhook may go to whatever their address (hosts canonical: lower case, IPs compressed)."""

    entries: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str) -> WebhookAllowlist:
        entries = set()
        for entry in filter(None, (part.strip() for part in text.split(","))):
            try:
                url: httpx.URL | None = httpx.URL(f"tcp://{entry}")  # a scheme without a default port
            except httpx.InvalidURL:
                url = None
            if (
                url is None
                or not url.host
                or url.port is None
                or not 0 < url.port < 65536
                or url.userinfo
                or url.path not in ("", "/")
                or url.query
                or url.fragment
            ):
                raise SettingsError(
                    f"WEBHOOK_ALLOW: {entry!r} is not host:port (an IPv6 address goes in brackets: [::1]:8123)"
                )
            entries.add((_canonical(_host(url)), url.port))
        return cls(frozenset(entries))

    def permits(self, host: str, port: int) -> bool:
        return (_canonical(host), port) in self.entries


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook URL that passed the rule, and the address its connection goes to."""

    url: httpx.URL
    address: IPAddress


def check_webhook_url(url: str, allowlist: WebhookAllowlist, resolve: Resolver | None = None) -> WebhookTarget:
    """The URL and the address to connect to, or WebhookRefused naming the rule it breaks. `resolve` is
    resolve_host unless given (looked up at each call, so a test can stand in for DNS)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise WebhookRefused(f"webhook_url is not a URL ({error})") from None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host:
        raise WebhookRefused(f"webhook_url must be an https URL: {RULE}")
    host = _host(parsed)
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    allowed = allowlist.permits(host, port)
    if parsed.scheme != "https" and not allowed:
        raise WebhookRefused(f"webhook_url must use https: {RULE}")
    literal = ip_literal(host)
    if literal is not None:
        if not allowed and (kind := not_public(literal)):
            article = "an" if kind[0] in "aeiou" else "a"
            raise WebhookRefused(f"webhook_url's host {host} is {article} {kind} address: {RULE}")
        return WebhookTarget(parsed, literal)
    if not allowed and (host == "localhost" or host.endswith(".localhost")):  # RFC 6761: always this machine
        raise WebhookRefused(f"webhook_url's host {host} is this machine (loopback): {RULE}")
    try:
        addresses = [ipaddress.ip_address(a) for a in (resolve or resolve_host)(host, port)]
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        raise WebhookUnresolved(f"webhook_url's host {host} does not resolve")
    if not allowed and any(not_public(a) for a in addresses):
        raise WebhookRefused(f"webhook_url's host {host} resolves to an address that is not public: {RULE}")
    return WebhookTarget(parsed, addresses[0])


def check_for(url: str, settings: Settings) -> WebhookTarget:
    """check_webhook_url with the function's WEBHOOK_ALLOW."""
    return check_webhook_url(url, WebhookAllowlist.parse(settings.webhook_allow))


def post(
    target: WebhookTarget, *, content: bytes, headers: dict[str, str], timeout: float, verify: Any = True
) -> httpx.Response:
    """POST to the checked address and nowhere else: the TCP connection goes to `target.address`, while the
    Host header, TLS SNI and the certificate check use the URL's host. No redirect is followed, and no proxy
    from the environment is used (it would connect by name)."""
    url = target.url
    host = _host(url)
    pinned = url.copy_with(host=target.address.compressed)
    extensions = {} if ip_literal(host) is not None else {"sni_hostname": host}
    with httpx.Client(verify=verify, trust_env=False, follow_redirects=False, timeout=timeout) as client:
        return client.post(
            pinned, content=content, headers=headers | {"Host": url.netloc.decode("ascii")}, extensions=extensions
        )
