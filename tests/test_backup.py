"""Issue #17: `prompteur backup` and `prompteur restore` of the embedded setup. A home with two
bots, documents, a conversation and a corrected answer is backed up while its app runs,
restored by the CLI into a new home, and a server started on it: the bots answer as before,
search finds the same passages, the conversation and the admin token are there. Bad input is
refused with a sentence and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bots.backup import BackupError, backup, check_backup
from bots.cli.main import main
from bots.http.app import create_app
from bots.runtime import Runtime
from bots.settings import Settings
from tests.conftest import faq_csv, ingest, search
from tests.security.published_bots import bearer, new_key, published_bot

QUESTION = "Can I pay with a gift card?"
APPROVED = "Yes: gift cards are accepted for every order, online and in our shops."
QUERIES = ["how long do returns take", "shipping to Belgium", "gift card"]


def _ask(client, bot: str, key: str, message: str) -> dict:
    answer = client.post(f"/v1/bots/{bot}/chat", json={"message": message}, headers=bearer(key))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _passages(client, bot: str) -> list[list[str]]:
    return [[hit["text"] for hit in search(client, bot, query)] for query in QUERIES]


def _fill(api) -> dict:
    shop = published_bot(api, "Shop")
    ingest(
        api,
        shop,
        {
            "returns.md": b"# Returns\n\nReturns are free within 30 days of delivery.\n\n# Shipping\n\n"
            b"We ship to France and Belgium in two working days.",
            "faq.csv": faq_csv(
                [("Do you sell gift cards?", "Gift cards are sold in every shop, from 10 to 200 euros.")]
            ),
        },
    )
    added = api.post(f"/admin/bots/{shop}/corrected-answers", json={"question": QUESTION, "answer": APPROVED})
    assert added.status_code == 201, added.text
    assert api.post(f"/admin/bots/{shop}/versions", json={"note": "corrections"}).status_code == 201
    key = new_key(api, shop)
    asked = _ask(api, shop, key, QUESTION)
    assert asked["answer"] == APPROVED, asked
    other = published_bot(api, "Other")
    ingest(api, other, {"hours.md": b"# Opening hours\n\nThe shop opens at nine every day but Sunday."})
    return {"shop": shop, "other": other, "key": key, "conversation": asked["conversation_id"]}


def test_a_backup_restored_into_a_new_home_answers_and_finds_the_same(
    api, settings, tmp_path, monkeypatch, capsys, embedders
):
    made = _fill(api)
    passages = _passages(api, made["shop"])
    assert all(passages), passages
    admin = api.headers["Authorization"]

    # Online: the app is running and holds its database open.
    manifest = backup(settings, tmp_path / "backup")
    assert manifest["counts"]["bots"] == 2 and manifest["counts"]["documents"] == 3, manifest["counts"]
    assert manifest["counts"]["corrected_answers"] == 1 and manifest["counts"]["conversations"] == 1
    assert any(name.startswith("uploads/") for name in manifest["files"]), manifest["files"]
    assert not (tmp_path / "backup" / "chroma").exists()  # vectors are rebuilt, not kept

    new_home = tmp_path / "restored"
    monkeypatch.setenv("PROMPTEUR_HOME", str(new_home))
    # The command loads its own embedding models; this process has them loaded already.
    monkeypatch.setattr("knowledge.embedding.EmbedderCache", lambda: embedders)
    assert main(["restore", str(tmp_path / "backup")]) == 0
    out = capsys.readouterr().out
    # Progress per bot: its documents and chunks embedded, up to all of them.
    assert "Shop: 2 documents" in out and "Other: 1 documents" in out, out
    assert "Restored" in out, out

    restored = Settings(home=new_home)
    with TestClient(create_app(restored, runtime=Runtime.build(restored, embedders=embedders))) as client:
        client.headers["Authorization"] = admin  # the same admin token
        assert sorted(b["name"] for b in client.get("/admin/bots").json()["bots"]) == ["Other", "Shop"]
        assert _passages(client, made["shop"]) == passages
        assert search(client, made["other"], "when does the shop open")[0]["text"].startswith("The shop opens")
        again = _ask(client, made["shop"], made["key"], QUESTION)  # the old key still works
        assert again["answer"] == APPROVED
        conversation = client.get(f"/admin/bots/{made['shop']}/conversations/{made['conversation']}").json()
        assert [m["content"] for m in conversation["messages"]][:2] == [QUESTION, APPROVED]


def test_restore_refuses_a_home_with_data_unless_forced(api, settings, tmp_path, monkeypatch, capsys):
    published_bot(api, "Shop")
    backup(settings, tmp_path / "backup")
    target = tmp_path / "busy"
    target.mkdir()
    (target / "prompteur.db").write_bytes(b"someone's data")
    monkeypatch.setenv("PROMPTEUR_HOME", str(target))

    assert main(["restore", str(tmp_path / "backup")]) == 1
    assert "already holds data" in capsys.readouterr().err
    assert (target / "prompteur.db").read_bytes() == b"someone's data"  # nothing lost

    assert main(["restore", str(tmp_path / "backup"), "--force"]) == 0
    assert (target / "prompteur.db").read_bytes() != b"someone's data"


def test_restore_refuses_a_running_server(api, settings, tmp_path, monkeypatch, capsys):
    import json
    import os

    backup(settings, tmp_path / "backup")
    home = tmp_path / "running"
    home.mkdir()
    (home / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": os.getpid()}))
    monkeypatch.setenv("PROMPTEUR_HOME", str(home))
    assert main(["restore", str(tmp_path / "backup")]) == 1
    assert "stop it" in capsys.readouterr().err
    assert not (home / "prompteur.db").exists()


def test_damaged_or_incomplete_backups_are_refused(api, settings, tmp_path):
    published_bot(api, "Shop")
    ingest(api, published_bot(api, "Docs"), {"a.md": b"# A\n\nSome text about returns."})
    folder = tmp_path / "backup"
    manifest = backup(settings, folder)
    upload = next(name for name in manifest["files"] if name.startswith("uploads/"))

    with pytest.raises(BackupError, match="not empty"):
        backup(settings, folder)
    data = (folder / upload).read_bytes()
    (folder / upload).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(BackupError, match="damaged"):
        check_backup(folder)
    (folder / upload).unlink()
    with pytest.raises(BackupError, match="missing"):
        check_backup(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(BackupError, match="no manifest"):
        check_backup(folder)


def test_backup_of_a_postgres_server_points_to_pg_dump(tmp_path):
    settings = Settings(home=tmp_path, database_url="postgresql://prompteur@db/prompteur")
    with pytest.raises(BackupError, match="pg_dump"):
        backup(settings, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()


def test_the_backup_is_private_and_skips_uploads_in_flight(api, settings, tmp_path):
    bot = published_bot(api, "Docs")
    ingest(api, bot, {"a.md": b"# A\n\nSome text about returns."})
    (settings.uploads_dir / bot / "doc_x-1234.md.part").write_bytes(b"half an upload")
    folder = tmp_path / "backup"
    manifest = backup(settings, folder)
    assert not [name for name in manifest["files"] if name.endswith(".part")], manifest["files"]
    for path in [folder, *folder.rglob("*")]:
        assert Path(path).stat().st_mode & 0o077 == 0, path
