"""A Chroma server that stops (a restart, a network fault) while the server answers: searches
and chats get a 503 `search_unavailable` with Retry-After (a stream: an `error` event with the
same code), never a 500 or a hang; the question is stored with its failed answer; and once the
Chroma server is back, the same process answers again by itself. Its own `chroma run`: the
session's Chroma server serves other tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bots.http.app import create_app
from bots.runtime import Runtime
from tests.conftest import free_port, search
from tests.public_api_support import bearer, make_bot, parse_sse, secret_key
from tests.scripted_openai import Reply, ScriptedOpenAI


class Chroma:
    def __init__(self, folder: Path):
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Chroma:
        command = Path(sys.executable).with_name("chroma")
        if not command.exists():
            pytest.skip("the `chroma` command of the chromadb package is not installed")
        with open(self.folder / "chroma.log", "ab") as log:
            self.proc = subprocess.Popen(
                [str(command), "run", "--path", str(self.folder / "data"), "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the Chroma server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)


@pytest.fixture
def chroma(tmp_path):
    server = Chroma(tmp_path).start()
    yield server
    server.stop()


def test_a_stopped_chroma_server_gets_503_with_retry_after_and_search_recovers_when_it_is_back(
    chroma, settings, embedders
):
    model = ScriptedOpenAI().start()
    try:
        on_server = settings.model_copy(update={"chroma_url": chroma.url})
        runtime = Runtime.build(on_server, embedders=embedders)
        with TestClient(create_app(on_server, runtime=runtime), raise_server_exceptions=False) as api:
            api.headers["Authorization"] = f"Bearer {runtime.admin_token}"
            bot = make_bot(api, model.base_url)
            key = bearer(secret_key(api, bot))
            assert search(api, bot, "refund")

            chroma.stop()
            started = time.monotonic()
            response = api.post(f"/admin/bots/{bot}/search", json={"query": "refund", "k": 5})
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "search_unavailable"
            assert int(response.headers["Retry-After"]) >= 1
            chat = api.post(f"/v1/bots/{bot}/chat", json={"message": "Can I get a refund?"}, headers=key)
            assert chat.status_code == 503, chat.text
            assert chat.json()["error"]["code"] == "search_unavailable" and "Retry-After" in chat.headers
            assert "try again" in chat.json()["error"]["message"].lower()
            stream = api.post(
                f"/v1/bots/{bot}/chat", json={"message": "Can I get a refund?", "stream": True}, headers=key
            )
            events = parse_sse(stream.text)
            assert events[-1][0] == "error" and events[-1][1]["code"] == "search_unavailable", events
            assert time.monotonic() - started < 30  # no hang on a server that is gone
            assert not model.requests  # nothing was asked of the model without its passages

            # The questions are stored, their answers marked failed: nothing is lost.
            conversations = api.get(f"/admin/bots/{bot}/conversations").json()["conversations"]
            assert len(conversations) == 2

            chroma.start()  # the same data, the same port: the process recovers by itself
            assert search(api, bot, "refund")[0]["source"] == "shop_help.md"
            model.queue(Reply("stream", chunks=["Yes, within 30 days [1]."]))
            after = api.post(
                f"/v1/bots/{bot}/chat", json={"message": "Can I get a refund?", "stream": True}, headers=key
            )
            assert parse_sse(after.text)[-1][0] == "done", after.text
    finally:
        model.close()
