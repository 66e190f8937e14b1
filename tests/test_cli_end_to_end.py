"""The CLI forms scripts rely on, end to end through a real server on a free port."""
import json


def test_bot_create_kb_add_and_search_json(live_server, tmp_path):
    docs = tmp_path / "docs"
    (docs / "nested").mkdir(parents=True)
    (docs / "refunds.md").write_text("# Refunds\n\nUnused items can be returned for a full refund within 30 days.\n")
    (docs / "nested" / "hours.txt").write_text("The support desk is open Monday to Friday from 9am to 5pm.\n")

    created = live_server.cli("bot", "create", "Shop", "--json")
    assert created.returncode == 0, created.stderr
    bot_id = json.loads(created.stdout)["id"]

    added = live_server.cli("kb", "add", bot_id, str(docs), "--wait")
    assert added.returncode == 0, added.stderr
    assert "2 ingested" in added.stderr

    one = live_server.cli("kb", "search", bot_id, "when can I return an item", "--k", "1", "--json")
    assert one.returncode == 0, one.stderr
    hit = json.loads(one.stdout)["hits"][0]
    assert hit["source"] == "refunds.md" and set(hit) == {"source", "page", "chunk_id", "score", "text"}

    lines = "\n".join(json.dumps(q) for q in [{"id": "a", "query": "opening hours"},
                                               {"id": "b", "query": "refund"}])
    batch = live_server.cli("kb", "search", bot_id, "--k", "2", "--json", input=lines)
    assert batch.returncode == 0, batch.stderr
    answers = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["a", "b"]
    assert answers[0]["hits"][0]["source"] == "hours.txt"
    assert answers[1]["hits"][0]["source"] == "refunds.md"

    again = live_server.cli("kb", "add", bot_id, str(docs), "--wait")
    assert again.returncode == 0 and "2 unchanged" in again.stderr

    removed = live_server.cli("kb", "rm", bot_id, "hours.txt")
    assert removed.returncode == 0, removed.stderr
    after = json.loads(live_server.cli("kb", "search", bot_id, "opening hours", "--json").stdout)
    assert all(h["source"] != "hours.txt" for h in after["hits"])


def test_kb_add_names_each_failure_and_exits_1(live_server, tmp_path):
    bot_id = json.loads(live_server.cli("bot", "create", "Shop", "--json").stdout)["id"]
    (tmp_path / "good.txt").write_text("Gift cards never expire.")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "tool.exe").write_bytes(b"MZ\x90\x00")
    result = live_server.cli("kb", "add", bot_id, str(tmp_path / "good.txt"), str(tmp_path / "empty.txt"),
                             str(tmp_path / "tool.exe"), "--wait")
    assert result.returncode == 1
    assert "1 ingested" in result.stderr
    assert "empty.txt" in result.stderr and "tool.exe" in result.stderr
