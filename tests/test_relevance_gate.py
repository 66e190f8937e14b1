"""The relevance gate at its default thresholds, on real ingestion, embeddings and retrieval:
questions the documents answer get through to the model, off-topic ones get the fallback
(without a model call). The thresholds come from benchmarks/gate_calibration.py."""

from __future__ import annotations

from bots.core.answering import relevant_passages
from bots.core.spec import RetrievalSettings
from tests.conftest import FIXTURES, wait_ingested


def bot_with(api, language: str, *names: str) -> dict:
    bot = api.post("/admin/bots", json={"name": f"gate-{language}", "language": language}).json()
    handles = [(FIXTURES / n).open("rb") for n in names]
    try:
        job = api.post(
            f"/admin/bots/{bot['id']}/documents", files=[("files", (n, h)) for n, h in zip(names, handles)]
        ).json()
    finally:
        for h in handles:
            h.close()
    assert wait_ingested(api, job["job_id"])["status"] == "done"
    return bot


def gate_opens(runtime, bot: dict, question: str) -> bool:
    hits = runtime.kb.search(bot["id"], question, k=RetrievalSettings().k)
    return bool(relevant_passages(hits, RetrievalSettings().threshold_for(bot["embedding_model"])))


def test_english_bot_answers_its_topics_and_falls_back_on_others(api, runtime):
    bot = bot_with(api, "en", "shop_help.md")
    assert bot["embedding_model"] == "all-MiniLM-L6-v2"
    for question in (
        "How long does standard delivery take?",
        "Can I send back an unused item and get a refund?",
        "When is the support desk open?",
    ):
        assert gate_opens(runtime, bot, question), question
    for question in (
        "What is the capital of Peru?",
        "how do i change the oil in my car",
        "Quelle est la population du Brésil ?",
    ):
        assert not gate_opens(runtime, bot, question), question


def test_french_bot_answers_its_topics_and_falls_back_on_others(api, runtime):
    bot = bot_with(api, "fr", "faq_fr.csv")
    assert bot["embedding_model"] == "multilingual-e5-small"
    for question in ("Comment annuler ma commande ?", "En combien de jours suis-je livré ?"):
        assert gate_opens(runtime, bot, question), question
    for question in (
        "Qui a écrit Les Misérables ?",
        "En quelle année la tour Eiffel a-t-elle été construite ?",
        "what is the weather like in Boston",
    ):
        assert not gate_opens(runtime, bot, question), question
