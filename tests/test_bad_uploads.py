"""Bad input through the HTTP upload path: each bad file gets a clear error naming it, the
good files of the same batch are ingested, other bots lose nothing, the server keeps serving."""

from __future__ import annotations

import json
import re

import pytest

from tests import sample_files
from tests.conftest import LiveServer, create_bot, documents, ingest, search, upload, wait_ingested
from tests.security.raw_http import raw_request

GOOD = (
    "The warranty covers manufacturing defects for two years. Broken tent poles are "
    "replaced free of charge when the tent is under warranty."
)


def test_a_batch_of_bad_files_fails_each_clearly_and_ingests_the_good_one(api, runtime):
    other = create_bot(api, "Other")
    ingest(api, other["id"], {"hours.txt": b"The support desk is open from 9am to 5pm."})
    bot = create_bot(api, "Shop")
    elf = b"\x7fELF\x02\x01\x01" + bytes(200)
    bad = {
        "locked.pdf": (sample_files.encrypted_pdf(["Secret plans"], "s3cret"), "encrypted", "password"),
        "truncated.pdf": (sample_files.pdf([GOOD] * 3)[:400], "corrupt", "damaged"),
        "corrupt.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 8, "corrupt", "damaged"),
        "empty.txt": (b"", "empty", "empty"),
        "login.pdf": (b"<!DOCTYPE html><html><body>Please sign in</body></html>", "wrong_type", "HTML"),
        "setup.pdf": (elf, "executable", "program"),
        "scan.pdf": (sample_files.pdf(["", ""], image=True), "no_text", "OCR"),
        "huge.pdf": (sample_files.pdf([""] * 5001, empty_pages=True), "too_many_pages", "5,000"),
        "bomb.docx": (sample_files.docx_bomb(), "too_large", "decompression bomb"),
    }
    files = {
        "warranty.pdf": sample_files.pdf([GOOD, "Contact us by phone."]),
        **{name: data for name, (data, _, _) in bad.items()},
        "slides.pptx": b"PK\x03\x04 not really",
        "run.exe": elf,
    }
    accepted = upload(api, bot["id"], files)
    assert {r["source"] for r in accepted["rejected"]} == {"slides.pptx", "run.exe"}
    for rejected in accepted["rejected"]:
        assert rejected["source"] in rejected["error"] and "not supported" in rejected["error"]
        assert "PDF" in rejected["error"]
    job = wait_ingested(api, accepted["job_id"])
    assert job["status"] == "done" and job["done"] == 1 and job["failed"] == len(bad)

    docs = documents(api, bot["id"])
    assert docs["warranty.pdf"]["status"] == "ready" and docs["warranty.pdf"]["pages"] == 2
    for name, (_, code, words) in bad.items():
        doc = docs[name]
        assert doc["status"] == "failed" and doc["error_code"] == code, (name, doc)
        assert name in doc["error"] and words in doc["error"], (name, doc["error"])
        assert not doc["searchable"] and doc["chunks"] == 0
        item = next(i for i in job["items"] if i["source"] == name)
        assert item["status"] == "failed" and item["error"] == doc["error"]
    assert search(api, bot["id"], "are broken tent poles replaced")[0]["source"] == "warranty.pdf"
    assert search(api, other["id"], "opening hours")[0]["source"] == "hours.txt"
    assert api.get("/healthz").json() == {"status": "ok"}


def test_a_bad_new_version_keeps_the_good_one_searchable(api):
    bot = create_bot(api)
    ingest(api, bot["id"], {"warranty.pdf": sample_files.pdf([GOOD])})
    job = ingest(api, bot["id"], {"warranty.pdf": sample_files.pdf([GOOD])[:300]})
    assert job["failed"] == 1
    doc = documents(api, bot["id"])["warranty.pdf"]
    assert doc["status"] == "failed" and doc["error_code"] == "corrupt" and doc["searchable"]
    assert search(api, bot["id"], "broken tent poles")[0]["source"] == "warranty.pdf"
    # Uploading the good file again repairs it.
    assert ingest(api, bot["id"], {"warranty.pdf": sample_files.pdf([GOOD])})["done"] == 1
    assert documents(api, bot["id"])["warranty.pdf"]["status"] == "ready"


def test_hostile_file_names_are_stored_under_generated_names(api, runtime, tmp_path):
    bot = create_bot(api)
    before = {p for p in tmp_path.rglob("*")}
    names = [
        "../../escape.txt",
        "..\\..\\windows.txt",
        "/etc/passwd.txt",
        "nul\x00byte.txt",
        "bell\x07\x1b[31mred.txt",
        "....txt",
    ]
    body, content_type = sample_files.multipart([(n, f"Paragraph number {i}.".encode()) for i, n in enumerate(names)])
    response = api.post(f"/admin/bots/{bot['id']}/documents", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 202, response.text
    result = response.json()
    wait_ingested(api, result["job_id"])
    sources = {d["source"] for d in result["documents"]} | {r["source"] for r in result["rejected"]}
    for source in sources:
        assert not source.startswith("/") and "\\" not in source and ".." not in source.split("/")
        assert not any(ord(ch) < 32 for ch in source), source
    assert {"escape.txt", "windows.txt", "etc/passwd.txt", "nulbyte.txt"} <= sources

    uploads = runtime.settings.uploads_dir.resolve()
    new = {p for p in tmp_path.rglob("*") if p not in before and p.is_file()}
    written = {p for p in new if uploads in p.resolve().parents}
    assert written, "the uploads were stored"
    for path in written:
        assert re.fullmatch(r"doc_[0-9a-f]{16}-[0-9a-f]{8}\.(txt|bin)", path.name), path
    home = runtime.settings.home.resolve()
    assert all(home in p.resolve().parents for p in new), new - written
    statuses = {source: d["status"] for source, d in documents(api, bot["id"]).items()}
    # "....txt" is left with no extension ("txt"), so the loaders refuse it by content.
    assert statuses.pop("txt") == "failed"
    assert set(statuses.values()) == {"ready"}


def test_an_upload_without_files_is_refused_clearly(api):
    bot = create_bot(api)
    response = api.post(f"/admin/bots/{bot['id']}/documents", data={"note": "hello"})
    assert response.status_code == 422
    assert "files" in response.json()["error"]["message"]
    missing = api.post("/admin/bots/bot_nope/documents", files=[("files", ("a.txt", b"x"))])
    assert missing.status_code == 404


def test_oversized_uploads_are_refused_before_they_are_read(isolated_home, tmp_path):
    server = LiveServer(isolated_home, {"PROMPTEUR_MAX_UPLOAD_MB": "1"}).start()
    try:
        token = server.admin_token
        bot_id = json.loads(server.cli("bot", "create", "Shop", "--json").stdout)["id"]
        path = f"/admin/bots/{bot_id}/documents"
        common = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
        )

        # Declared too large: refused on the headers, with only a sliver of the body sent.
        answer = raw_request(server.port, common + f"Content-Length: {2 * 1024 * 1024}\r\n\r\n", [b"x" * 1024])
        status, _, rest = answer.partition(b"\r\n")
        assert b" 413 " in status, answer[:300]
        assert b"1 MB limit" in rest and b"PROMPTEUR_MAX_UPLOAD_MB" in rest

        # Streamed without a length: refused once the count passes the limit.
        preamble = b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
        chunk = b"y" * 65536
        parts = [b"%x\r\n" % len(preamble) + preamble + b"\r\n"]
        parts += [b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(40)] + [b"0\r\n\r\n"]
        answer = raw_request(server.port, common + "Transfer-Encoding: chunked\r\n\r\n", parts)
        assert b" 413 " in answer.partition(b"\r\n")[0], answer[:300]
        assert b"too_large" in answer

        # Through the CLI: the big file is named as failed, the small one still goes in.
        (tmp_path / "big.txt").write_bytes(b"word " * (2 * 1024 * 1024 // 5))
        (tmp_path / "small.txt").write_text("Gift cards never expire.")
        added = server.cli("kb", "add", bot_id, str(tmp_path / "big.txt"), str(tmp_path / "small.txt"), "--wait")
        assert added.returncode == 1, added.stderr
        assert "Traceback" not in added.stderr
        assert re.search(r"failed: .*big\.txt.*1 MB limit", added.stderr), added.stderr
        assert "1 ingested" in added.stderr

        assert not list((isolated_home / "uploads").rglob("*.part"))
        found = json.loads(server.cli("kb", "search", bot_id, "gift cards", "--json").stdout)["hits"]
        assert found and found[0]["source"] == "small.txt"
    finally:
        server.stop()


@pytest.mark.parametrize("name", ["notes.doc", "sheet.xlsx", "archive.tar.gz"])
def test_unsupported_types_are_refused_at_upload(api, runtime, name):
    bot = create_bot(api)
    result = upload(api, bot["id"], {name: b"some bytes"})
    assert result["job_id"] is None and result["documents"] == []
    assert result["rejected"][0]["source"] == name and "not supported" in result["rejected"][0]["error"]
    assert not (runtime.settings.uploads_dir / bot["id"]).exists() or not any(
        (runtime.settings.uploads_dir / bot["id"]).iterdir()
    )


def test_a_file_without_extension_is_recognised_by_its_content(api):
    bot = create_bot(api)
    job = ingest(api, bot["id"], {"download": sample_files.pdf([GOOD]), "README": b"Plain words."})
    docs = documents(api, bot["id"])
    assert docs["download"]["status"] == "ready" and docs["download"]["pages"] == 1
    assert docs["README"]["status"] == "failed" and docs["README"]["error_code"] == "unsupported"
    assert "README" in docs["README"]["error"] and job["failed"] == 1
