"""The CLI forms scripts rely on, end to end through a real server on a free port (one for
the module: every test works on bots of its own)."""

import json


def test_bot_create_kb_add_and_search_json(shared_server, tmp_path):
    docs = tmp_path / "docs"
    (docs / "nested").mkdir(parents=True)
    (docs / "refunds.md").write_text("# Refunds\n\nUnused items can be returned for a full refund within 30 days.\n")
    (docs / "nested" / "hours.txt").write_text("The support desk is open Monday to Friday from 9am to 5pm.\n")

    created = shared_server.cli("bot", "create", "Shop", "--json")
    assert created.returncode == 0, created.stderr
    bot_id = json.loads(created.stdout)["id"]

    added = shared_server.cli("kb", "add", bot_id, str(docs), "--wait")
    assert added.returncode == 0, added.stderr
    assert "2 ingested" in added.stderr

    one = shared_server.cli("kb", "search", bot_id, "when can I return an item", "--k", "1", "--json")
    assert one.returncode == 0, one.stderr
    hit = json.loads(one.stdout)["hits"][0]
    assert hit["source"] == "refunds.md" and set(hit) == {"source", "page", "chunk_id", "score", "text"}

    lines = "\n".join(json.dumps(q) for q in [{"id": "a", "query": "opening hours"}, {"id": "b", "query": "refund"}])
    batch = shared_server.cli("kb", "search", bot_id, "--k", "2", "--json", input=lines)
    assert batch.returncode == 0, batch.stderr
    answers = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["a", "b"]
    assert answers[0]["hits"][0]["source"] == "nested/hours.txt"
    assert answers[1]["hits"][0]["source"] == "refunds.md"

    again = shared_server.cli("kb", "add", bot_id, str(docs), "--wait")
    assert again.returncode == 0 and "2 unchanged" in again.stderr

    removed = shared_server.cli("kb", "rm", bot_id, "hours.txt")
    assert removed.returncode == 0, removed.stderr
    after = json.loads(shared_server.cli("kb", "search", bot_id, "opening hours", "--json").stdout)
    assert all(h["source"] != "nested/hours.txt" for h in after["hits"])


def test_kb_add_names_each_failure_and_exits_1(shared_server, tmp_path):
    bot_id = json.loads(shared_server.cli("bot", "create", "Shop", "--json").stdout)["id"]
    (tmp_path / "good.txt").write_text("Gift cards never expire.")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "tool.exe").write_bytes(b"MZ\x90\x00")
    (tmp_path / "cut.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    result = shared_server.cli(
        "kb",
        "add",
        bot_id,
        str(tmp_path / "good.txt"),
        str(tmp_path / "empty.txt"),
        str(tmp_path / "tool.exe"),
        str(tmp_path / "cut.pdf"),
        str(tmp_path / "nowhere.md"),
        "--wait",
    )
    assert result.returncode == 1
    assert "1 ingested" in result.stderr and "4 failed" in result.stderr
    failures = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    for name in ("empty.txt", "tool.exe", "cut.pdf", "nowhere.md"):
        assert sum(name in line for line in failures) == 1, (name, result.stderr)
    assert "Traceback" not in result.stderr


def test_folders_recursive_reindex_and_rm(shared_server, tmp_path):
    docs = tmp_path / "help"
    for folder, text in (("returns", "Returns are free within 30 days."), ("shipping", "Shipping takes two days.")):
        (docs / folder).mkdir(parents=True)
        (docs / folder / "faq.md").write_text(f"# FAQ\n\n{text}\n")
    (docs / ".git").mkdir()
    (docs / ".git" / "config.txt").write_text("not knowledge")
    bot_id = json.loads(shared_server.cli("bot", "create", "Shop", "--json").stdout)["id"]

    added = shared_server.cli("kb", "add", bot_id, str(docs), "--wait")
    assert added.returncode == 0 and "2 ingested" in added.stderr, added.stderr
    listed = json.loads(shared_server.cli("kb", "ls", bot_id, "--json").stdout)
    assert sorted(d["source"] for d in listed) == ["returns/faq.md", "shipping/faq.md"]

    reindexed = shared_server.cli("kb", "reindex", bot_id)
    assert reindexed.returncode == 0 and "done" in reindexed.stderr, reindexed.stderr
    hits = json.loads(shared_server.cli("kb", "search", bot_id, "how long does shipping take", "--json").stdout)["hits"]
    assert hits[0]["source"] == "shipping/faq.md"

    ambiguous = shared_server.cli("kb", "rm", bot_id, "faq.md")
    assert ambiguous.returncode == 1 and "returns/faq.md" in ambiguous.stderr
    assert shared_server.cli("kb", "rm", bot_id, "shipping/faq.md").returncode == 0
    missing = shared_server.cli("kb", "rm", bot_id, "shipping/faq.md")
    assert missing.returncode == 1 and "no document named" in missing.stderr
    listed = json.loads(shared_server.cli("kb", "ls", bot_id, "--json").stdout)
    assert [d["source"] for d in listed] == ["returns/faq.md"]
    unknown_bot = shared_server.cli("kb", "reindex", "nobody")
    assert unknown_bot.returncode == 1 and "No bot" in unknown_bot.stderr
