"""Finding 4 (medium): data files were readable by other local users: PROMPTEUR_HOME was
created 0755, prompteur.db and uploads 0644. The server now creates its folders 0700 and its
files 0600 (SQLite's -wal/-shm, Chroma's index, uploads, server.json, the local model's log
included), and warns at start about a data folder left open by an earlier version."""

from __future__ import annotations

import logging
import os
import stat

import httpx

from bots.runtime import Runtime
from tests.conftest import wait_ingested


def _mode(path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_everything_the_server_writes_is_private(process_server):
    home = process_server.home
    with httpx.Client(
        base_url=process_server.url, headers={"Authorization": f"Bearer {process_server.admin_token}"}, timeout=60
    ) as admin:
        bot = admin.post("/admin/bots", json={"name": "Shop"}).json()
        job = admin.post(
            f"/admin/bots/{bot['id']}/documents", files=[("files", ("faq.md", b"# Refunds\nWithin 14 days."))]
        ).json()
        assert wait_ingested(admin, job["job_id"])["status"] == "done"

    written = list(home.rglob("*"))
    names = {p.name for p in written}
    assert {"prompteur.db", "prompteur.db-wal", "server.json", "admin_token", "uploads", "chroma"} <= names, names
    assert any(p.suffix == ".md" for p in (home / "uploads").rglob("*")), "the upload is among the checked files"
    assert _mode(home) == 0o700
    exposed = {str(p.relative_to(home)): oct(_mode(p)) for p in written if _mode(p) & 0o077}
    assert not exposed, f"readable by other users: {exposed}"


def test_a_data_folder_open_to_others_gets_a_warning_at_start(settings, embedders, caplog):
    home = settings.home  # made private by the fixture, with the database in it
    os.chmod(home, 0o755)  # whatever the test process's umask
    caplog.set_level(logging.WARNING, logger="prompteur.files")
    Runtime.build(settings, embedders=embedders).stop()
    [warning] = [r.getMessage() for r in caplog.records if r.name == "prompteur.files"]
    assert str(home) in warning and f"chmod -R go-rwx {home}" in warning


def test_a_private_data_folder_gets_no_warning(settings, embedders, caplog):
    caplog.set_level(logging.WARNING, logger="prompteur.files")
    Runtime.build(settings, embedders=embedders).stop()
    Runtime.build(settings, embedders=embedders).stop()  # the second start sees what the first made
    assert not [r for r in caplog.records if r.name == "prompteur.files"]
