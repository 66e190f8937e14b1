"""Prompteur as a user meets it: the real app and runtime in a temporary home, driven
through the admin API (create a bot, upload files, wait for the ingestion job)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from knowledge.embedding import EmbedderCache

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# One line per HTTP request or index build would bury the tables.
for _noisy in ("httpx", "bm25s", "prompteur.ingestion"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

UPLOAD_BATCH = 500  # the admin API takes at most 1000 files per request


class Server:
    def __init__(self, client: TestClient, runtime: Runtime):
        self.client = client
        self.runtime = runtime

    def create_bot(self, name: str, model: str) -> str:
        res = self.client.post("/admin/bots", json={"name": name, "embedding_model": model})
        res.raise_for_status()
        return res.json()["id"]

    def upload(self, bot_id: str, files: list[Path]) -> dict[str, int]:
        """Upload `files` and wait until their ingestion job ends; counts item statuses."""
        counts: dict[str, int] = {}
        for start in range(0, len(files), UPLOAD_BATCH):
            batch = files[start : start + UPLOAD_BATCH]
            handles = [p.open("rb") for p in batch]
            try:
                res = self.client.post(
                    f"/admin/bots/{bot_id}/documents", files=[("files", (p.name, h)) for p, h in zip(batch, handles)]
                )
            finally:
                for h in handles:
                    h.close()
            res.raise_for_status()
            body = res.json()
            if body["rejected"]:
                raise RuntimeError(f"upload rejected: {body['rejected'][:3]}")
            job = self.wait(body["job_id"]) if body["job_id"] else {"items": []}
            for item in job["items"]:
                counts[item["status"]] = counts.get(item["status"], 0) + 1
                if item["status"] == "failed":
                    print(f"  ! {item['source']}: {item['error']}")
        return counts

    def wait(self, job_id: str) -> dict:
        # Backing off to 1 s: each poll is a request through the app in this process, and at
        # 20 a second the polling took CPU and the GIL from the ingestion it waits for (a
        # 1,057-file upload on a shared machine spent most of its time answering polls).
        pause = 0.05
        while True:
            job = self.client.get(f"/admin/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(pause)
            pause = min(pause * 1.5, 1.0)

    def pages(self, bot_id: str) -> int:
        docs = self.client.get(f"/admin/bots/{bot_id}/documents").json()["documents"]
        return sum(d["pages"] or 0 for d in docs)


@contextmanager
def running_server(embedders: EmbedderCache | None = None, **settings_overrides):
    with tempfile.TemporaryDirectory(prefix="prompteur-bench-") as home:
        settings = Settings(home=Path(home), **settings_overrides)
        runtime = Runtime.build(settings, embedders=embedders or EmbedderCache())
        with TestClient(create_app(settings, runtime=runtime)) as client:
            client.headers["Authorization"] = f"Bearer {runtime.admin_token}"
            yield Server(client, runtime)
