"""What the answering benchmarks share: the bundled model served as the server serves it, and
a bot built through the admin API whose questions go through `bots.answering`."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bots.local_model import LocalModelServer
from bots.providers import ChatModel
from bots.spec import BotSpec
from knowledge.documents import Hit

# The admin API's request log (Starlette's test client speaks httpx2) would bury the tables.
logging.getLogger("httpx2").setLevel(logging.WARNING)

# Quality and latency runs measure the answers, not the provider timeout: on a loaded 2-core
# machine SmolLM2 can take longer than the spec's default 30 s, which the load test reports.
MODEL_TIMEOUT_S = 600


def spec_for(name: str) -> BotSpec:
    """The spec a support lead gets by default, with the company named and a patient timeout."""
    company = {"contoso_northwind_en": "Contoso"}.get(name, "")
    return BotSpec(name=name, persona={"company": company},
                   model={"provider": "local", "timeout_s": MODEL_TIMEOUT_S, "max_retries": 0})


@contextmanager
def bundled_model(work: Path):
    with LocalModelServer(log_path=work / "local_model.log") as server:
        model = ChatModel.from_settings(spec_for("-").model, local_base_url=server.base_url)
        try:
            yield model
        finally:
            model.close()


@dataclass
class AnsweringBot:
    bot_id: str
    spec: BotSpec
    model: ChatModel
    embedding_model: str
    search: object

    def retrieve(self, question: str, k: int) -> list[Hit]:
        return self.search(self.bot_id, question, k)


def answering_bot(server, eval_set, model: ChatModel) -> AnsweringBot:
    bot_id = server.create_bot(eval_set.name, eval_set.model)
    server.upload(bot_id, eval_set.files)
    return AnsweringBot(bot_id, spec_for(eval_set.name), model, eval_set.model, server.runtime.kb.search)
