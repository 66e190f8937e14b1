"""The admin API through the real app: bots, documents, jobs, search, and the admin token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bots.store import tables as t
from tests.conftest import create_bot, documents, ingest, search, upload, wait_ingested

REFUNDS = b"# Refunds\n\nUnused items can be returned for a full refund within 30 days of delivery.\n"
SHIPPING = b"Parcels ship within two business days. Express delivery arrives the next morning.\n"
HOURS = b"The support desk is open Monday to Friday from 9am to 5pm, closed on public holidays.\n"


def _sql_chunks(runtime, **where) -> list[t.Chunk]:
    with runtime.sessions() as s:
        query = select(t.Chunk)
        for column, value in where.items():
            query = query.where(getattr(t.Chunk, column) == value)
        return list(s.scalars(query))


def _collection(runtime, bot_id: str) -> str:
    with runtime.sessions() as s:
        return s.get(t.Bot, bot_id).vector_collection


def test_every_admin_route_refuses_without_the_admin_token(api, runtime):
    bot = create_bot(api)
    routes = [
        (method.upper(), path)
        for path, operations in api.app.openapi()["paths"].items()
        if path.startswith("/admin") and path != "/admin/login"  # signing in needs no credential
        for method in operations
    ]
    assert len(routes) >= 12
    for method, path in routes:
        url = re.sub(r"\{bot_id\}", bot["id"], path)
        url = re.sub(r"\{\w+\}", "x", url)
        for headers in (
            {"Authorization": ""},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Basic {runtime.admin_token}"},
        ):
            response = api.request(method, url, headers=headers)
            assert response.status_code == 401, (method, url, response.text)
            assert response.json()["error"]["code"] == "unauthorized"
            assert "admin token" in response.json()["error"]["message"]
    # Refused before the body is read: nothing stored, nothing queued.
    response = api.post(
        f"/admin/bots/{bot['id']}/documents", headers={"Authorization": ""}, files=[("files", ("refunds.md", REFUNDS))]
    )
    assert response.status_code == 401
    assert not any(runtime.settings.uploads_dir.rglob("*.md"))
    assert documents(api, bot["id"]) == {}


def test_bots_are_created_listed_read_updated_and_deleted(api):
    first = create_bot(api, "Shop", language="en", spec={"persona": {"tone": "friendly"}})
    second = create_bot(api, "Boutique", language="fr")
    assert first["embedding_model"] == "all-MiniLM-L6-v2"
    assert second["embedding_model"] == "multilingual-e5-small"
    assert first["documents"] == 0 and first["chunks"] == 0

    listed = api.get("/admin/bots").json()["bots"]
    assert [b["id"] for b in listed] == [first["id"], second["id"]]
    assert api.get(f"/admin/bots/{first['id']}").json()["spec"]["persona"]["tone"] == "friendly"

    patched = api.patch(f"/admin/bots/{first['id']}", json={"name": "Shop 2", "spec": {"persona": {"tone": "terse"}}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Shop 2" and patched.json()["spec"]["persona"]["tone"] == "terse"
    assert api.get(f"/admin/bots/{first['id']}").json()["name"] == "Shop 2"

    assert api.delete(f"/admin/bots/{first['id']}").status_code == 204
    missing = api.get(f"/admin/bots/{first['id']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "bot_not_found"
    assert [b["id"] for b in api.get("/admin/bots").json()["bots"]] == [second["id"]]


def test_bad_bot_requests_get_clear_errors(api):
    unknown = api.post("/admin/bots", json={"name": "Shop", "embedding_model": "gpt-embed-9000"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_embedding_model"
    assert "all-MiniLM-L6-v2" in unknown.json()["error"]["message"]
    extra = api.post("/admin/bots", json={"name": "Shop", "colour": "red"})
    assert extra.status_code == 422 and "colour" in extra.json()["error"]["message"]
    assert api.post("/admin/bots", json={"name": ""}).status_code == 422
    bot = create_bot(api)
    bad_patch = api.patch(f"/admin/bots/{bot['id']}", json={"name": "Renamed", "embedding_model": "nope"})
    assert bad_patch.status_code == 422
    # A refused update changes nothing, not even the fields that were valid.
    assert api.get(f"/admin/bots/{bot['id']}").json()["name"] == "Shop"
    assert api.get("/admin/bots").json()["bots"] == [api.get(f"/admin/bots/{bot['id']}").json()]


def test_documents_are_uploaded_listed_searched_and_deleted(api, runtime):
    bot = create_bot(api)
    accepted = upload(api, bot["id"], {"refunds.md": REFUNDS, "shipping.txt": SHIPPING, "hours.txt": HOURS})
    assert [d["status"] for d in accepted["documents"]] == ["queued"] * 3
    assert accepted["rejected"] == []
    job = api.get(f"/admin/jobs/{accepted['job_id']}").json()
    assert job["total"] == 3 and job["kind"] == "ingest" and 0 <= job["progress"] <= 1

    job = wait_ingested(api, accepted["job_id"])
    assert job["status"] == "done" and job["done"] == 3 and job["failed"] == 0 and job["progress"] == 1
    assert [j["id"] for j in api.get(f"/admin/bots/{bot['id']}/jobs").json()["jobs"]] == [job["id"]]

    docs = documents(api, bot["id"])
    assert set(docs) == {"refunds.md", "shipping.txt", "hours.txt"}
    for d in docs.values():
        assert d["status"] == "ready" and d["chunks"] >= 1 and d["error"] is None and d["searchable"]
        assert d["pages"] is None  # only PDFs have pages
    assert api.get(f"/admin/bots/{bot['id']}").json()["documents"] == 3
    one = api.get(f"/admin/bots/{bot['id']}/documents/{docs['refunds.md']['id']}").json()
    assert one["content_hash"] and one["size"] == len(REFUNDS)
    chunks = api.get(f"/admin/bots/{bot['id']}/documents/{one['id']}/chunks").json()["chunks"]
    assert "full refund" in chunks[0]["text"]

    hits = search(api, bot["id"], "when is the support desk open")
    assert hits[0]["source"] == "hours.txt" and hits[0]["dense_score"] > 0.3

    shipping = docs["shipping.txt"]
    stored = list((runtime.settings.uploads_dir / bot["id"]).iterdir())
    assert len(stored) == 3
    chunk_ids = {c.id for c in _sql_chunks(runtime, document_id=shipping["id"])}
    assert chunk_ids and chunk_ids <= runtime.vectors.ids(_collection(runtime, bot["id"]))

    assert api.delete(f"/admin/bots/{bot['id']}/documents/{shipping['id']}").status_code == 204
    assert set(documents(api, bot["id"])) == {"refunds.md", "hours.txt"}
    assert _sql_chunks(runtime, document_id=shipping["id"]) == []
    assert not chunk_ids & runtime.vectors.ids(_collection(runtime, bot["id"]))
    assert all(h["source"] != "shipping.txt" for h in search(api, bot["id"], "parcels express delivery", k=10))
    assert len(list((runtime.settings.uploads_dir / bot["id"]).iterdir())) == 2
    gone = api.delete(f"/admin/bots/{bot['id']}/documents/{shipping['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "document_not_found"


def test_a_bot_never_sees_another_bots_chunks(api, runtime):
    shop = create_bot(api, "Shop")
    bank = create_bot(api, "Bank")
    ingest(api, shop["id"], {"refunds.md": REFUNDS, "hours.txt": HOURS})
    ingest(
        api,
        bank["id"],
        {
            "cards.txt": b"A lost debit card is blocked at once by calling 0800 123 456.\n",
            "refunds.md": b"# Refunds\n\nCard payments made by mistake are refunded by the bank.\n",
        },
    )
    shop_docs = {d["id"] for d in documents(api, shop["id"]).values()}
    bank_docs = {d["id"] for d in documents(api, bank["id"]).values()}
    queries = [
        "lost debit card",
        "0800 123 456",
        "refund",
        "Card payments made by mistake are refunded by the bank",
        "support desk open",
        "Unused items can be returned for a full refund within 30 days of delivery",
    ]
    for query in queries:
        for bot, own in ((shop, shop_docs), (bank, bank_docs)):
            for hit in search(api, bot["id"], query, k=50):
                assert hit["document_id"] in own, (bot["name"], query, hit)
    # Nor through the other bot's address.
    bank_doc = next(iter(bank_docs))
    assert api.get(f"/admin/bots/{shop['id']}/documents/{bank_doc}").status_code == 404
    assert api.get(f"/admin/bots/{shop['id']}/documents/{bank_doc}/chunks").status_code == 404
    assert api.delete(f"/admin/bots/{shop['id']}/documents/{bank_doc}").status_code == 404
    assert bank_doc in {d["id"] for d in documents(api, bank["id"]).values()}
    # The vector collections are separate too.
    shop_ids = runtime.vectors.ids(_collection(runtime, shop["id"]))
    assert all(cid.split("-v")[0] in shop_docs for cid in shop_ids)


@pytest.mark.both_backends
def test_deleting_a_bot_removes_its_knowledge_and_spares_the_others(api, runtime):
    doomed = create_bot(api, "Doomed")
    kept = create_bot(api, "Kept")
    ingest(api, doomed["id"], {"refunds.md": REFUNDS})
    ingest(api, kept["id"], {"hours.txt": HOURS})
    collection = _collection(runtime, doomed["id"])
    assert runtime.vectors.ids(collection)

    assert api.delete(f"/admin/bots/{doomed['id']}").status_code == 204
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(t.Document).where(t.Document.bot_id == doomed["id"])) == 0
        assert s.scalar(select(func.count()).select_from(t.Chunk).where(t.Chunk.bot_id == doomed["id"])) == 0
    assert runtime.vectors.ids(collection) == set()
    assert not (runtime.settings.uploads_dir / doomed["id"]).exists()
    assert search(api, kept["id"], "support desk hours")[0]["source"] == "hours.txt"
