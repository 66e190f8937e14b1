"""Fetching web pages without becoming a door into the network the server runs in.

Every connection goes to an address this module resolved and checked itself: the check runs
inside the connection pool's network backend, on the IP the socket is about to connect to,
for the first request and for every redirect. A name that resolves to a public address when
checked and to 127.0.0.1 a second later (DNS rebinding) cannot slip through, because nothing
resolves it a second time. TLS still verifies the certificate against the host name (httpcore
passes the URL's host as the SNI/server name; only the TCP connect uses the checked IP).

Responses are read as a stream under limits (bytes after decompression, wall-clock time,
redirects), so a page that never ends, a 10 GB body or a gzip bomb stops with a reason."""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore
import httpx

DEFAULT_USER_AGENT = "PrompteurBot/1.0 (+https://github.com/prompteur/prompteur)"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class FetchError(Exception):
    """A fetch that did not give a page. `str(err)` says why, for people; `code` is stable
    for programs. `temporary` errors (timeouts, 5xx, connection resets) keep a page's last
    good version at the next sync; the others do not."""

    def __init__(self, code: str, message: str, temporary: bool = False):
        super().__init__(message)
        self.code = code
        self.temporary = temporary


class FetchRefused(FetchError):
    """Refused by policy before or while connecting: a private address, a scheme other than
    http(s), an address that is not one."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, temporary=False)


@dataclass(frozen=True)
class FetchPolicy:
    """Which destinations may be fetched. By default only globally routable unicast addresses;
    `allow` names hosts (exact, case-insensitive) or networks (CIDR, or one IP) an operator
    opens on purpose, e.g. an intranet help centre."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[Network, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> FetchPolicy:
        hosts, networks = set(), []
        for raw in entries:
            entry = raw.strip().strip("[]")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def check(self, host: str, address: str) -> None:
        """Raise FetchRefused unless connecting to `address` (resolved from `host`) is allowed."""
        ip: IPAddress = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone id
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1 on the wire
        if host.lower().rstrip(".") in self.allow_hosts:
            return
        if any(ip.version == net.version and ip in net for net in self.allow_networks):
            return
        if ip.is_global and not ip.is_multicast and not ip.is_reserved:
            return
        raise FetchRefused(
            "address_refused",
            f"{host} resolves to {ip}, a {_kind(ip)} address: Prompteur does not fetch from "
            "inside the network it runs in. An operator can allow it with PROMPTEUR_FETCH_ALLOW.",
        )


def _kind(ip: IPAddress) -> str:
    for attribute, name in (
        ("is_loopback", "loopback"),
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attribute):
            return name
    return "non-public"


class _CheckedBackend(httpcore.SyncBackend):
    """Resolves the host itself, checks every address it resolves to, and connects to the
    first one: the checked address is the connected address."""

    def __init__(self, policy: FetchPolicy):
        self._policy = policy

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as err:
            raise FetchError("dns", f"{host} could not be resolved ({err}).", temporary=True) from err
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        # All of them, not just the first: a name listing one public and one private address
        # would otherwise let the OS (or a retry) pick the private one.
        for address in addresses:
            self._policy.check(host, address)
        failure: Exception | None = None
        for address in addresses:  # e.g. "localhost": ::1 first, a server listening on 127.0.0.1
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as err:
                failure = err
        raise failure or httpcore.ConnectError(f"{host} has no address")


@dataclass
class Limits:
    max_bytes: int = 10 * 1024 * 1024  # after decompression
    timeout_s: float = 20.0  # a whole page: connect, headers and body
    max_redirects: int = 5


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    headers: dict[str, str]
    content: bytes
    connected_to: str | None = None  # the IP the last hop connected to
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class Fetcher:
    """One HTTP client for a crawl. Not thread-safe by design: a crawl fetches one page at a
    time per host (politeness), so one client per crawl is enough."""

    def __init__(self, policy: FetchPolicy, limits: Limits | None = None, user_agent: str = DEFAULT_USER_AGENT):
        self.policy = policy
        self.limits = limits or Limits()
        transport = httpx.HTTPTransport()
        # httpx does not take a network backend; its pool is swapped for one that uses ours
        # (same defaults as httpx's own pool).
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), network_backend=_CheckedBackend(policy)
        )
        # trust_env=False: an HTTP(S)_PROXY in the environment would make the proxy, not us,
        # resolve and connect, and bypass every check.
        self._client = httpx.Client(
            transport=transport,
            trust_env=False,
            follow_redirects=False,
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, url: str, headers: dict[str, str] | None = None, max_bytes: int | None = None, truncate: bool = False
    ) -> Fetched:
        """GET `url`, following redirects (each one checked like the first). Returns any
        final status (304, 404 and 5xx included: the caller decides); raises FetchError when
        there is no response to judge, or a limit was hit. With `truncate`, a body over
        `max_bytes` is cut there instead (robots.txt: its first 500 KiB are its rules)."""
        deadline = time.monotonic() + self.limits.timeout_s
        seen: list[str] = []
        current = url
        while True:
            request_url = _checked_url(current)
            if current in seen:
                raise FetchError("redirect_loop", f"{url} redirects in a loop ({' -> '.join(seen + [current])}).")
            seen.append(current)
            response, content, connected = self._get_once(request_url, headers or {}, deadline, max_bytes, truncate)
            if response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
                if len(seen) > self.limits.max_redirects:
                    raise FetchError(
                        "too_many_redirects", f"{url} redirects more than {self.limits.max_redirects} times."
                    )
                current = str(request_url.join(response.headers["location"]).copy_with(fragment=None))
                continue
            return Fetched(
                url=current,
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                content=content,
                connected_to=connected,
                redirects=seen[:-1],
            )

    def _get_once(
        self, url: httpx.URL, headers: dict[str, str], deadline: float, max_bytes: int | None, truncate: bool = False
    ) -> tuple[httpx.Response, bytes, str | None]:
        limit = max_bytes or self.limits.max_bytes
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout(str(url), self.limits.timeout_s)
        timeout = httpx.Timeout(remaining)
        try:
            with self._client.stream("GET", url, headers=headers, timeout=timeout) as response:
                connected = _peer(response)
                if response.status_code >= 300 or response.status_code < 200:
                    return response, b"", connected  # a status is all a caller needs
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit and not truncate:
                    raise _too_large(str(url), limit)
                decoder = _Decoder(response.headers.get("content-encoding", ""), limit, str(url), truncate)
                for block in response.iter_raw():  # as it arrives: a chunk size would wait to fill it
                    decoder.feed(block)
                    if decoder.full:
                        break
                    if time.monotonic() > deadline:  # a trickle that never ends
                        raise _timeout(str(url), self.limits.timeout_s)
                return response, decoder.finish(), connected
        except httpx.TimeoutException as err:
            raise _timeout(str(url), self.limits.timeout_s) from err
        except httpx.HTTPError as err:
            raise FetchError("network", f"{url} could not be fetched: {err or type(err).__name__}.", True) from err


def precheck(raw: str, policy: FetchPolicy) -> None:
    """Refuse an address at once (when a source is created) if it is not http(s) or its host
    resolves to a refused address. Only a courtesy for a quick answer: every fetch is checked
    again on the address it connects to. A name that does not resolve yet is let through."""
    url = _checked_url(raw)
    host = url.host
    try:
        infos = socket.getaddrinfo(host, url.port or 80, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return
    for info in infos:
        policy.check(host, str(info[4][0]))


def _checked_url(raw: str) -> httpx.URL:
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError) as err:
        raise FetchRefused("invalid_url", f"{raw!r} is not a valid web address ({err}).") from err
    if url.scheme not in ("http", "https"):
        raise FetchRefused("scheme_refused", f"{raw}: only http and https addresses are fetched.")
    if not url.host:
        raise FetchRefused("invalid_url", f"{raw!r} has no host.")
    return url


def _peer(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    address = stream.get_extra_info("server_addr") if stream is not None else None
    return str(address[0]) if address else None


def _timeout(url: str, seconds: float) -> FetchError:
    return FetchError("timeout", f"{url} took longer than {seconds:g} s to download.", temporary=True)


def _too_large(url: str, limit: int) -> FetchError:
    return FetchError("too_large", f"{url} is larger than {limit / 2**20:g} MB; it was not read further.")


class _Decoder:
    """Content-Encoding decoding under an output limit: at most `limit + 1` bytes are ever
    produced from any input, so a small gzip bomb cannot expand in memory first."""

    def __init__(self, encoding: str, limit: int, url: str, truncate: bool = False):
        encoding = encoding.strip().lower()
        self._url, self._limit, self._truncate = url, limit, truncate
        self.full = False  # truncated at the limit: nothing more to read
        self._out = bytearray()
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise FetchError("encoding", f"{url} is sent with an encoding Prompteur does not read ({encoding}).")

    def feed(self, data: bytes) -> None:
        if self._zlib is None:
            self._append(data)
            return
        while data and not self.full:
            try:
                chunk = self._zlib.decompress(data, self._limit + 1 - len(self._out))
            except zlib.error as err:
                raise FetchError("corrupt", f"{self._url} sent damaged compressed data ({err}).") from err
            self._append(chunk)
            data = self._zlib.unconsumed_tail

    def _append(self, data: bytes) -> None:
        self._out += data
        if len(self._out) > self._limit:
            if not self._truncate:
                raise _too_large(self._url, self._limit)
            del self._out[self._limit :]
            self.full = True

    def finish(self) -> bytes:
        if self._zlib is not None and not self.full:
            self._append(self._zlib.flush())
        return bytes(self._out)


def gunzip_limited(data: bytes, limit: int, what: str) -> bytes:
    """A gzipped file (e.g. sitemap.xml.gz), decompressed under the same output limit."""
    decoder = _Decoder("gzip", limit, what)
    decoder.feed(data)
    return decoder.finish()
