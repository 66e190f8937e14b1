"""The steps an upload shows per file (reading, chunking, embedding N/M, indexing) come from the
ingestion itself, in order, and the job API carries them only while the file is worked on."""

from __future__ import annotations

from tests.conftest import FIXTURES, wait_ingested


def test_ingest_reports_each_step_in_order(api, runtime):
    bot = api.post("/admin/bots", json={"name": "Shop", "language": "en"}).json()
    md = (FIXTURES / "shop_help.md").read_bytes()
    started = api.post(f"/admin/bots/{bot['id']}/documents", files=[("files", ("shop_help.md", md))]).json()
    job = wait_ingested(api, started["job_id"])
    assert job["status"] == "done"
    assert all(i["stage"] is None for i in job["items"]), "a finished file has no step left"

    steps: list[str] = []
    counts: list[tuple[int, int]] = []
    doc_id = job["items"][0]["document_id"]
    runtime.kb.ingest(doc_id, progress=lambda d, n: counts.append((d, n)), stage=steps.append)
    assert steps == ["reading", "chunking", "embedding", "indexing"]
    assert counts[0][0] == 0 and counts[-1][0] == counts[-1][1] > 0, "embedding counts up to every chunk"
