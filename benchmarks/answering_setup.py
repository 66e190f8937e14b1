"""What the answering benchmarks share: a bot built through the admin API whose questions go
through `bots.core.answering`, with the chat model the server itself would use (the bundled one,
started by the runtime on the first question)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bots.core.spec import BotSpec
from bots.llm.providers import OpenAIChatModel
from knowledge.documents import Hit

# The admin API's request log (Starlette's test client speaks httpx2) would bury the tables.
logging.getLogger("httpx2").setLevel(logging.WARNING)

# Quality and latency runs measure the answers, not the provider timeout: on a loaded 2-core
# machine SmolLM2 can take longer than the spec's default 30 s (the load test keeps it).
MODEL_TIMEOUT_S = 600


def spec_for(name: str) -> BotSpec:
    """The spec a support lead gets by default, with the company named and a patient timeout."""
    company = {"contoso_northwind_en": "Contoso"}.get(name, "")
    return BotSpec(
        name=name,
        persona={"company": company},
        model={"provider": "local", "timeout_s": MODEL_TIMEOUT_S, "max_retries": 0},
    )


@dataclass
class AnsweringBot:
    bot_id: str
    spec: BotSpec
    model: OpenAIChatModel
    embedding_model: str
    search: Callable[[str, str, int], list[Hit]]  # (bot_id, question, k): the knowledge base's search

    def retrieve(self, question: str, k: int) -> list[Hit]:
        return self.search(self.bot_id, question, k)


def answering_bot(server, eval_set) -> AnsweringBot:
    bot_id = server.create_bot(eval_set.name, eval_set.model)
    server.upload(bot_id, eval_set.files)
    spec = spec_for(eval_set.name)
    runtime = server.runtime
    return AnsweringBot(bot_id, spec, runtime.chat_model(spec.model), eval_set.model, runtime.kb.search)
