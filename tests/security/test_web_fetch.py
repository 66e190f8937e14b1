"""The crawler's fetcher never becomes a door into the server's network (SSRF), and every
limit stops a hostile site with a reason: checked against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import socket
import time

import pytest

from knowledge.web.fetch import Fetcher, FetchError, FetchPolicy, FetchRefused, Limits
from tests.web_site import Site, endless

LOCAL = FetchPolicy.from_entries(["127.0.0.1"])  # what PROMPTEUR_FETCH_ALLOW=127.0.0.1 gives


@pytest.fixture
def site():
    with Site() as s:
        s.page("/", "Help centre", "<p>Welcome to the help centre.</p>")
        yield s


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.9.9.9",
        "0.0.0.0",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "169.254.169.254",  # cloud metadata
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
    ],
)
def test_default_policy_refuses_non_public_addresses(address):
    with pytest.raises(FetchRefused, match="PROMPTEUR_FETCH_ALLOW") as err:
        FetchPolicy().check("example.com", address)
    assert err.value.code == "address_refused"


def test_public_addresses_pass_and_allowed_entries_open_hosts_and_networks():
    FetchPolicy().check("example.com", "93.184.216.34")
    FetchPolicy().check("example.com", "2606:2800:220:1:248:1893:25c8:1946")
    policy = FetchPolicy.from_entries(["intranet.example.com", "10.0.0.0/8", "fd00::/8"])
    policy.check("intranet.example.com", "192.168.5.5")
    policy.check("other", "10.200.0.1")
    policy.check("other", "fd00::5")
    with pytest.raises(FetchRefused):
        policy.check("other", "192.168.5.5")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://0.0.0.0:{port}/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://2130706433:{port}/",  # 127.0.0.1 in decimal
        "http://0x7f000001:{port}/",  # in hex
        "http://0177.0.0.1:{port}/",  # in octal
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_local_site_is_refused_without_the_allow_setting(site, url):
    with Fetcher(FetchPolicy()) as fetcher, pytest.raises(FetchRefused) as err:
        fetcher.get(url.format(port=site.port))
    assert err.value.code in ("address_refused", "invalid_url")
    assert site.requests == []  # refused before any connection reached the server


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1:70/", "data:,hi"])
def test_only_http_and_https(url):
    with Fetcher(LOCAL) as fetcher, pytest.raises(FetchRefused):
        fetcher.get(url)


def test_allowed_local_site_is_fetched_and_the_checked_address_is_the_connected_one(site, monkeypatch):
    calls = []
    real = socket.getaddrinfo

    def resolve(host, *args, **kw):
        calls.append(host)
        return real("127.0.0.1", *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with Fetcher(LOCAL) as fetcher:
        got = fetcher.get(f"http://help.test:{site.port}/")
    assert got.status == 200 and b"Welcome" in got.content
    assert got.connected_to == "127.0.0.1"
    # Resolved once, by the check; the socket is then opened on the IP literal (which
    # create_connection "resolves" to itself), never on the name again.
    assert calls == ["help.test", "127.0.0.1"]
    assert site.requests[0][2]["host"] == f"help.test:{site.port}"  # the Host header is kept


def test_dns_rebinding_cannot_switch_the_address_after_the_check(site, monkeypatch):
    """A name whose first answer is allowed and whose next answers point inside: only the
    checked answer is connected to, and a fresh connection's answer is checked again."""
    answers = iter(["127.0.0.1", "127.0.0.2"])
    real = socket.getaddrinfo

    def resolve(host, *args, **kw):
        return real(next(answers) if host == "rebind.test" else host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    site.pages["/away"] = (302, {"Location": f"http://rebind.test:{site.port}/", "Connection": "close"}, b"")
    with Fetcher(LOCAL) as fetcher, pytest.raises(FetchRefused, match="127.0.0.2"):
        # first connection: 127.0.0.1 (allowed); the server closes it, so the redirect
        # needs a new connection, whose answer 127.0.0.2 is not allowed
        fetcher.get(f"http://rebind.test:{site.port}/away")


def test_redirect_into_the_private_network_is_refused(site):
    site.pages["/go"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    with Fetcher(LOCAL) as fetcher, pytest.raises(FetchRefused, match="169.254.169.254"):
        fetcher.get(f"{site.url}/go")


def test_redirect_to_another_scheme_is_refused(site):
    site.pages["/go"] = (302, {"Location": "file:///etc/passwd"}, b"")
    with Fetcher(LOCAL) as fetcher, pytest.raises(FetchRefused, match="only http and https"):
        fetcher.get(f"{site.url}/go")


def test_redirect_loop_and_too_many_redirects_stop_with_a_reason(site):
    site.pages["/a"] = (302, {"Location": "/b"}, b"")
    site.pages["/b"] = (302, {"Location": "/a"}, b"")
    for i in range(10):
        site.pages[f"/r{i}"] = (301, {"Location": f"/r{i + 1}"}, b"")
    with Fetcher(LOCAL, Limits(max_redirects=5)) as fetcher:
        with pytest.raises(FetchError, match="in a loop") as loop:
            fetcher.get(f"{site.url}/a")
        with pytest.raises(FetchError, match="more than 5 times") as many:
            fetcher.get(f"{site.url}/r0")
    assert (loop.value.code, many.value.code) == ("redirect_loop", "too_many_redirects")


def test_a_declared_huge_body_is_refused_before_reading_it(site):
    def huge(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(10 * 2**30))  # 10 GB
        handler.end_headers()
        try:
            handler.wfile.write(b"x" * 65536)
        except OSError:
            pass

    site.pages["/huge"] = huge
    with Fetcher(LOCAL, Limits(max_bytes=2**20)) as fetcher, pytest.raises(FetchError, match="larger than 1 MB") as err:
        fetcher.get(f"{site.url}/huge")
    assert err.value.code == "too_large"


def test_a_body_that_never_ends_is_cut_at_the_size_limit(site):
    site.pages["/endless"] = endless
    started = time.monotonic()
    with Fetcher(LOCAL, Limits(max_bytes=2**20)) as fetcher, pytest.raises(FetchError) as err:
        fetcher.get(f"{site.url}/endless")
    assert err.value.code == "too_large"
    assert time.monotonic() - started < 10


def test_a_trickling_page_is_cut_at_the_time_limit(site):
    site.pages["/slow"] = lambda h: endless(h, pause_s=0.05, block=b"x")
    started = time.monotonic()
    with Fetcher(LOCAL, Limits(timeout_s=1.0)) as fetcher, pytest.raises(FetchError, match="longer than 1 s") as err:
        fetcher.get(f"{site.url}/slow")
    assert err.value.code == "timeout" and err.value.temporary
    assert time.monotonic() - started < 5


def test_a_gzip_bomb_is_stopped_at_the_limit_while_decompressing(site):
    bomb = gzip.compress(b"\0" * (200 * 2**20), compresslevel=9)  # 200 MB in ~200 KB
    assert len(bomb) < 2**20
    site.pages["/bomb"] = (200, {"Content-Encoding": "gzip"}, bomb)
    with Fetcher(LOCAL, Limits(max_bytes=2**20)) as fetcher, pytest.raises(FetchError, match="larger than 1 MB"):
        fetcher.get(f"{site.url}/bomb")


def test_a_gzipped_page_within_the_limit_is_decoded(site):
    site.pages["/small"] = (200, {"Content-Encoding": "gzip"}, gzip.compress(b"<html><body>hello</body></html>"))
    with Fetcher(LOCAL) as fetcher:
        assert fetcher.get(f"{site.url}/small").content == b"<html><body>hello</body></html>"
