"""A web site served from the test process on 127.0.0.1: pages the test can change, delete
and add while a crawler reads them, plus misbehaving endpoints (endless bodies, loops)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]


def html_page(
    title: str, body: str, links: Sequence[str] = (), canonical: str | None = None, extra_head: str = ""
) -> bytes:
    """A help-centre page with the chrome a real one has (nav, footer, cookie banner)."""
    nav = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    canon = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f"<!doctype html><html><head><title>{title}</title>{canon}{extra_head}</head><body>"
        f"<nav><ul>{nav}</ul></nav>"
        f'<div role="dialog" aria-hidden="true">We use cookies</div>'
        f"<main><h1>{title}</h1>{body}</main>"
        f"<footer>Copyright Contoso</footer></body></html>"
    ).encode()


class Site:
    """`pages` maps a path (with its query) to (status, headers, body) or to a handler that
    writes the response itself. Requests are recorded as (method, path, headers)."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, dict[str, str], bytes] | Handler] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        site = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                site.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                entry = site.pages.get(self.path)
                if entry is None:
                    self._send(404, {"Content-Type": "text/html"}, b"<html><body>Not found</body></html>")
                elif callable(entry):
                    entry(self)
                else:
                    status, headers, body = entry
                    self._send(status, headers, body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(status)
                for key, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                    self.send_header(key, value)
                if status == 200:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def page(self, path: str, title: str, body: str, links: Sequence[str] = (), **kw) -> None:
        self.pages[path] = (200, {}, html_page(title, body, links, **kw))

    def fetched(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p == path)


def endless(handler: BaseHTTPRequestHandler, pause_s: float = 0.0, block: bytes = b"x" * 65536) -> None:
    """A body that never ends (chunked, no length), fast or trickling."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    try:
        while True:
            handler.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            handler.wfile.flush()
            if pause_s:
                time.sleep(pause_s)
    except OSError:  # the client hung up: what the test wants
        return
