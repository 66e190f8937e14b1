"""Issue #17: the disk fills up while files are uploaded. The uploads folder is a 1 MB tmpfs
(we mount one when we may: root in the sandbox and CI containers; elsewhere a full disk is
simulated at the write, which is where the kernel reports it). The upload is refused with a
sentence (507 storage_full), leaves no partial file, stages no document and queues no job;
a document uploaded before keeps its file and its passages; once there is room, uploading works."""

from __future__ import annotations

import errno
import io
import subprocess
from pathlib import Path

import pytest

from tests.conftest import create_bot, ingest, search, upload

ROOM = 1024 * 1024


@pytest.fixture
def small_disk(runtime, monkeypatch):
    """The uploads folder, holding at most ROOM bytes."""
    folder = runtime.settings.uploads_dir
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={ROOM},mode=0700", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode == 0:
        try:
            yield folder
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
        return
    written = {"bytes": 0}
    real_fdopen = __import__("os").fdopen

    class FillingFile(io.FileIO):
        def write(self, block):
            written["bytes"] += len(block)
            if written["bytes"] > ROOM:
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(block)

    def fdopen(fd, mode="r", *args, **kwargs):
        return FillingFile(fd, "wb", closefd=True) if "w" in mode else real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr("bots.uploads.os.fdopen", fdopen)
    yield folder


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_a_full_disk_refuses_the_upload_and_loses_nothing(api, small_disk):
    bot = create_bot(api)["id"]
    assert ingest(api, bot, {"returns.md": b"# Returns\n\nReturns are free within 30 days."})["status"] == "done"
    before = _files(small_disk)
    assert len(before) == 1

    big = b"# Catalogue\n\n" + b"lorem ipsum dolor " * (2 * ROOM // 18)
    for files in (
        {"small.md": b"# Small\n\nFits on its own.", "catalogue.md": big},
        # A new version of a stored document, then no room: the old file must survive.
        {"returns.md": b"# Returns\n\nReturns are free within 60 days.", "catalogue.md": big},
    ):
        refused = api.post(
            f"/admin/bots/{bot}/documents",
            files=[("files", (name, data, "application/octet-stream")) for name, data in files.items()],
        )
        assert refused.status_code == 507, refused.text
        error = refused.json()["error"]
        assert error["code"] == "storage_full" and "disk is full" in error["message"], error
        assert _files(small_disk) == before  # no partial file, no half of the request
        documents = api.get(f"/admin/bots/{bot}/documents").json()["documents"]
        assert [(d["source"], d["status"]) for d in documents] == [("returns.md", "ready")]
        jobs = api.get(f"/admin/bots/{bot}/jobs").json()["jobs"]
        assert len(jobs) == 1 and jobs[0]["status"] == "done", jobs  # nothing queued, nothing stuck

    assert "30 days" in search(api, bot, "returns")[0]["text"]
    # Room is still there for what fits: nothing was leaked by the refusals.
    job = upload(api, bot, {"small.md": b"# Small\n\nFits on its own."})
    assert job["job_id"] and [d["source"] for d in job["documents"]] == ["small.md"]
