"""The webhook address rule: checked without a connection (DNS stood in for), and the POST goes to the checked
address only. Every listener here is on a loopback address."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from enrichment.jobs import webhook_address
from enrichment.jobs.schedules import Schedule, run_schedule
from enrichment.jobs.webhook_address import (
    WebhookAllowlist,
    WebhookRefused,
    WebhookUnresolved,
    check_webhook_url,
    not_public,
    post,
)
from enrichment.settings import Settings, SettingsError
from tests.loopback import ConnectionCounter

NOBODY = WebhookAllowlist()
PUBLIC = "93.184.215.14"  # a public address a stand-in resolver answers with; nothing ever connects to it


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} should have been decided without resolving it")


def answers(*addresses: str):
    """A stand-in resolver answering `addresses` for every name, recording what it was asked."""

    def resolve(host: str, port: int) -> list[str]:
        resolve.asked.append((host, port))
        return list(addresses)

    resolve.asked = []
    return resolve


@pytest.fixture(autouse=True)
def _never_resolve_real_names(monkeypatch):
    monkeypatch.setattr(webhook_address, "resolve_host", no_dns)


# ---- literal addresses, in every notation: refused without a lookup ----

LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "127.1",  # inet_aton's short forms
    "2130706433",  # one integer
    "0x7f000001",  # hex
    "0x7F.0.0.1",
    "017700000001",  # octal
    "127.255.255.254",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:7f00:1]",
    "[2002:7f00:1::]",  # 6to4 carrying 127.0.0.1
]


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_loopback_in_any_notation_is_refused(host):
    with pytest.raises(WebhookRefused, match="loopback") as refused:
        check_webhook_url(f"https://{host}:8443/hook", NOBODY, no_dns)
    assert "public internet" in str(refused.value)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "cloud metadata"),  # AWS, GCP, Azure instance metadata
        ("[fd00:ec2::254]", "cloud metadata"),  # AWS IMDS over IPv6
        ("169.254.170.2", "cloud metadata"),  # ECS task metadata
        ("100.100.100.200", "cloud metadata"),  # Alibaba
        ("[::ffff:169.254.169.254]", "cloud metadata"),
        ("0xa9fea9fe", "cloud metadata"),
        ("2852039166", "cloud metadata"),
        ("192.0.0.192", "private"),  # Oracle's metadata: IANA special-purpose
        ("169.254.1.1", "link-local"),
        ("[fe80::1]", "link-local"),
        ("[fe80::1%25eth0]", "link-local"),  # with a zone
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("012.1", "private"),  # octal 10.0.0.1
        ("[fd12:3456::1]", "private"),
        ("[fec0::1]", "site-local"),
        ("0.0.0.0", "unspecified"),
        ("0", "unspecified"),
        ("[::]", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("[ff02::1]", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("100.64.0.1", "special-purpose"),  # shared address space (carrier-grade NAT)
        ("198.18.0.1", "private"),  # benchmarking
        ("[64:ff9b::a9fe:a9fe]", "reserved"),  # NAT64 of the metadata address
        ("[::127.0.0.1]", "reserved"),  # IPv4-compatible
    ],
)
def test_metadata_private_link_local_and_special_addresses_are_refused(address, kind):
    with pytest.raises(WebhookRefused, match=kind):
        check_webhook_url(f"https://{address}/latest/meta-data/", NOBODY, no_dns)


@pytest.mark.parametrize("host", ["0177.0.0.1", "012.0.0.1"])
def test_a_dotted_quad_that_is_not_an_ipv4_address_is_not_a_url(host):
    # httpx, which makes the connection, refuses these; a resolver would read 0177.0.0.1 as octal loopback
    with pytest.raises(WebhookRefused, match="not a URL"):
        check_webhook_url(f"https://{host}/", NOBODY, no_dns)


def test_every_cloud_metadata_address_is_not_public():
    assert all(not_public(a) == "cloud metadata" for a in webhook_address.METADATA_ADDRESSES)


@pytest.mark.parametrize("host", ["8.8.8.8", "[2606:4700:4700::1111]", "0x08080808"])
def test_a_public_address_passes_as_it_is(host):
    target = check_webhook_url(f"https://{host}/hook", NOBODY, no_dns)
    assert not_public(target.address) is None and not target.address.is_private


# ---- names: refused when they resolve anywhere but the public internet ----


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "api.localhost", "localhost."])
def test_localhost_names_are_refused_without_a_lookup(host):
    with pytest.raises(WebhookRefused, match="this machine"):
        check_webhook_url(f"https://{host}:3000/", NOBODY, no_dns)


@pytest.mark.parametrize(
    "resolved",
    [
        ["127.0.0.1"],
        ["10.1.2.3"],
        ["169.254.169.254"],
        ["fd00:ec2::254"],
        ["::ffff:10.0.0.1"],
        ["::1"],
        ["100.64.1.1"],
        [PUBLIC, "192.168.0.10"],  # one private answer among public ones is enough
    ],
)
def test_a_name_resolving_off_the_public_internet_is_refused_without_saying_where(resolved):
    resolve = answers(*resolved)
    with pytest.raises(WebhookRefused, match="resolves to an address that is not public") as refused:
        check_webhook_url("https://hooks.example.com/receive", NOBODY, resolve)
    assert resolve.asked == [("hooks.example.com", 443)]
    assert not any(address in str(refused.value) for address in resolved)


def test_a_public_name_passes_and_its_address_is_the_one_to_connect_to():
    resolve = answers(PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    target = check_webhook_url("https://Hooks.Example.com.:8443/receive", NOBODY, resolve)
    assert target.address == ipaddress.ip_address(PUBLIC)
    assert resolve.asked == [("hooks.example.com", 8443)]


def test_an_international_name_is_looked_up_in_its_ascii_form():
    resolve = answers(PUBLIC)
    check_webhook_url("https://bücher.example/", NOBODY, resolve)
    assert resolve.asked == [("xn--bcher-kva.example", 443)]


def test_a_name_that_does_not_resolve_is_refused_as_unresolved():
    def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(WebhookUnresolved, match="does not resolve"):
        check_webhook_url("https://nowhere.example/", NOBODY, nxdomain)


# ---- the scheme ----


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/", "http://8.8.8.8/", "ftp://hooks.example.com/", "hooks.example.com", "https:///x"],
)
def test_only_https_urls(url):
    with pytest.raises(WebhookRefused, match="https"):
        check_webhook_url(url, NOBODY, no_dns)


# ---- the allowlist ----


def test_the_allowlist_names_hosts_and_ports():
    allow = WebhookAllowlist.parse(" 127.0.0.1:8123, hooks.internal:443,[::1]:9000 ,HOOKS.local.:80")
    assert allow.entries == {("127.0.0.1", 8123), ("hooks.internal", 443), ("::1", 9000), ("hooks.local", 80)}
    assert WebhookAllowlist.parse("").entries == frozenset()


@pytest.mark.parametrize("entry", ["127.0.0.1", "hooks.internal", "::1:8123", "h:0", "h:70000", "a@h:1", "h:1/x"])
def test_an_allowlist_entry_that_is_not_host_port_is_a_settings_error(entry):
    with pytest.raises(SettingsError, match="WEBHOOK_ALLOW"):
        WebhookAllowlist.parse(entry)


def test_an_allowlisted_host_port_may_be_private_and_plain_http():
    allow = WebhookAllowlist.parse("127.0.0.1:8123,[::1]:8124,hooks.internal:443")
    for url in ("http://127.0.0.1:8123/h", "https://127.0.0.1:8123/h", "http://2130706433:8123/h"):
        assert str(check_webhook_url(url, allow, no_dns).address) == "127.0.0.1"
    assert str(check_webhook_url("http://[::1]:8124/", allow, no_dns).address) == "::1"
    internal = check_webhook_url("https://hooks.internal/x", allow, answers("10.0.0.5"))
    assert str(internal.address) == "10.0.0.5"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://127.0.0.1:8124/", "https"),  # another port
        ("https://127.0.0.1:8124/", "loopback"),
        ("https://127.0.0.2:8123/", "loopback"),  # another address
        ("http://hooks.internal/", "https"),  # port 80, not the allowlisted 443
        ("https://169.254.169.254:8123/", "cloud metadata"),
    ],
)
def test_the_allowlist_relaxes_its_own_host_ports_only(url, rule):
    allow = WebhookAllowlist.parse("127.0.0.1:8123,hooks.internal:443")
    with pytest.raises(WebhookRefused, match=rule):
        check_webhook_url(url, allow, answers("10.0.0.5"))


def test_schedules_are_held_to_the_rule_before_anything_starts():
    settings = Settings(data_bucket="unused", jobs_table="unused", idempotency_table="unused")
    schedule = Schedule(vendor="check365", input_key="schedules/x.csv", webhook_url="https://169.254.169.254/")
    with pytest.raises(ValueError, match="schedule nightly: webhook_url's host 169.254.169.254 is a cloud metadata"):
        run_schedule("nightly", schedule, "event-1", settings)


# ---- the POST goes to the checked address, and only there ----


class Recorder:
    """An HTTP server on a loopback address recording each request's Host header and the TLS name asked for."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, status: int = 200, location: str = "") -> None:
        self.requests: list[dict[str, str]] = []
        self.server_names: list[str | None] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append(dict(self.headers.items()))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]

    def serve_tls(self, certificate: Path, key: Path) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        context.sni_callback = lambda connection, name, _: self.server_names.append(name)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def __enter__(self) -> Recorder:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def certificate_for(name: str, folder: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A throwaway CA and a certificate it signed for `name`: (certificate, key, a client context trusting the CA)."""
    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, issuer: x509.Name | None, key, signer, *, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
            builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        else:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("test CA", None, ca_key, ca_key, ca=True)
    leaf = build(name, ca.subject, leaf_key, ca_key, ca=False)
    certificate, key = folder / "leaf.pem", folder / "leaf.key"
    certificate.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return certificate, key, client


def test_https_connects_to_the_checked_address_with_the_names_sni_host_and_certificate(tmp_path):
    certificate, key, trusting = certificate_for("hooks.example", tmp_path)
    with Recorder() as receiver:
        receiver.serve_tls(certificate, key)
        url = f"https://hooks.example:{receiver.port}/receive"
        allow = WebhookAllowlist.parse(f"hooks.example:{receiver.port}")
        target = check_webhook_url(url, allow, answers("127.0.0.1"))
        answer = post(target, content=b"{}", headers={}, timeout=5, verify=trusting)
    assert answer.status_code == 200
    assert receiver.server_names == ["hooks.example"]  # SNI, and the certificate was checked against it
    assert receiver.requests[0]["Host"] == f"hooks.example:{receiver.port}"


def test_the_name_is_not_looked_up_again_between_the_check_and_the_connection():
    """DNS rebinding: the name answers 127.0.0.1 when checked and 127.0.0.2 afterwards; the POST still goes to
    127.0.0.1, the address that was checked."""
    with Recorder() as checked, ConnectionCounter("127.0.0.2", checked.port) as elsewhere:
        asked = []

        def rebinding(host: str, port: int) -> list[str]:
            asked.append(host)
            return ["127.0.0.1"] if len(asked) == 1 else ["127.0.0.2"]

        allow = WebhookAllowlist.parse(f"hooks.example:{checked.port}")
        target = check_webhook_url(f"http://hooks.example:{checked.port}/receive", allow, rebinding)
        assert post(target, content=b"{}", headers={}, timeout=5).status_code == 200
    assert len(checked.requests) == 1 and checked.requests[0]["Host"] == f"hooks.example:{checked.port}"
    assert elsewhere.connections == 0 and asked == ["hooks.example"]


def test_a_redirect_is_not_followed():
    with ConnectionCounter() as redirected_to:
        with Recorder(status=307, location=f"http://127.0.0.1:{redirected_to.port}/") as receiver:
            allow = WebhookAllowlist.parse(f"127.0.0.1:{receiver.port},127.0.0.1:{redirected_to.port}")
            target = check_webhook_url(f"http://127.0.0.1:{receiver.port}/", allow)
            assert post(target, content=b"{}", headers={}, timeout=5).status_code == 307
        assert redirected_to.connections == 0


def test_the_check_opens_no_connection():
    with ConnectionCounter() as listener:
        for url in (f"https://127.0.0.1:{listener.port}/", f"https://0x7f000001:{listener.port}/"):
            with pytest.raises(WebhookRefused):
                check_webhook_url(url, NOBODY)
        with pytest.raises(WebhookRefused):
            check_webhook_url(f"https://hooks.example:{listener.port}/", NOBODY, answers("127.0.0.1"))
    assert listener.connections == 0
