"""The callback address guard: which addresses are refused, literal vs resolved hosts."""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

import pytest

from videogen_jobs import ssrf

REFUSED = [
    ("127.0.0.1", "loopback"), ("127.1.2.3", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("10.1.2.3", "private"), ("172.16.0.1", "private"),
    ("172.31.255.255", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"),
    ("100.64.0.1", "CGNAT"), ("100.127.255.254", "CGNAT"),
    ("169.254.169.254", "link-local"), ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"), ("239.255.255.250", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"),
    ("0.1.2.3", "private"), ("192.0.2.1", "private"), ("198.18.0.1", "private"),
    ("2001:db8::1", "private"), ("192.0.0.8", "non-public"),
    # IPv4-mapped IPv6 and 6to4 forms are judged by the IPv4 address inside
    ("::ffff:127.0.0.1", "loopback address (IPv4-mapped 127.0.0.1)"),
    ("::ffff:10.0.0.1", "private address (IPv4-mapped"),
    ("::ffff:169.254.169.254", "link-local address (IPv4-mapped"),
    ("::ffff:0.0.0.0", "unspecified address (IPv4-mapped"),
    ("2002:7f00:1::", "loopback address (6to4 127.0.0.1)"),
    ("2002:a9fe:a9fe::1", "link-local address (6to4"),
    ("64:ff9b::7f00:1", "reserved"),  # NAT64 of 127.0.0.1
]

ALLOWED = ["93.184.215.14", "8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1",
           "2606:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "2002:808:808::1"]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_refused_addresses(address: str, why: str) -> None:
    reason = ssrf.refusal(address)
    assert reason is not None and why in reason
    assert ssrf.refusal(ipaddress.ip_address(address)) == reason  # str or object alike


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert ssrf.refusal(address) is None


def test_refusal_needs_an_ip() -> None:
    with pytest.raises(ValueError):
        ssrf.refusal("example.com")


def no_dns(host: str) -> list[str]:
    raise AssertionError(f"resolved {host}")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "169.254.169.254",
                                  "fe80::1%25eth0"])
def test_literal_ips_are_judged_without_dns(host: str) -> None:
    with pytest.raises(ssrf.AddressRefused) as info:
        ssrf.check_host(host, no_dns)
    assert str(ipaddress.ip_address(host.replace("%25", "%"))) in str(info.value)
    assert ssrf.ALLOW_SETTING in str(info.value)


def test_a_public_literal_passes_without_dns() -> None:
    assert ssrf.check_host("8.8.8.8", no_dns) == [ipaddress.ip_address("8.8.8.8")]
    assert ssrf.check_url("https://[2606:4700::1111]:8443/x", no_dns) == [
        ipaddress.ip_address("2606:4700::1111")]


def test_a_name_is_refused_when_any_address_is_private() -> None:
    with pytest.raises(ssrf.AddressRefused) as info:
        ssrf.check_host("mixed.example", lambda h: ["93.184.215.14", "10.9.8.7"])
    assert "mixed.example resolves to 10.9.8.7, a private address" in str(info.value)
    assert ssrf.check_host("ok.example", lambda h: ["93.184.215.14", "2606:4700::1"]) == [
        ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("2606:4700::1")]


def test_a_name_resolving_to_nothing_fails() -> None:
    with pytest.raises(ssrf.ResolutionFailed):
        ssrf.check_host("empty.example", lambda h: [])
    with pytest.raises(ssrf.ResolutionFailed):
        ssrf.check_url("http:///nohost", no_dns)


def test_resolve_host_uses_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(host: str, port: Any, **kw: Any) -> list[Any]:
        assert host == "svc.example"
        return [(2, 1, 6, "", ("10.0.0.5", 0)), (2, 1, 6, "", ("10.0.0.5", 0)),
                (10, 1, 6, "", ("fd00::5", 0, 0, 0))]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", fake)
    assert ssrf.resolve_host("svc.example") == ["10.0.0.5", "fd00::5"]


def test_resolve_host_turns_errors_into_resolution_failed(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    def fail(host: str, port: Any, **kw: Any) -> list[Any]:
        raise OSError(-2, "Name or service not known")

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", fail)
    with pytest.raises(ssrf.ResolutionFailed, match="does not resolve"):
        ssrf.resolve_host("nowhere.example")


def test_resolve_host_does_not_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hang(host: str, port: Any, **kw: Any) -> list[Any]:
        release.wait(10)
        return []

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", hang)
    try:
        with pytest.raises(ssrf.ResolutionFailed, match="did not resolve within"):
            ssrf.resolve_host("slow.example", timeout=0.05)
    finally:
        release.set()
