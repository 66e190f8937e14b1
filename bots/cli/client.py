"""A small client for the admin API, shared by the CLI and the builder UI. Calls return the
response models of `bots.schemas`, the classes the server declares for the same routes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bots.schemas import team
from bots.schemas.analytics import Analytics, Gaps
from bots.schemas.bots import Bot, BotList, UpdatedBot
from bots.schemas.conversations import (
    ConversationDetail,
    ConversationList,
    ExportedMessages,
    Handoff,
    HandoffList,
    Stats,
)
from bots.schemas.corrected_answers import CorrectedAnswer, CorrectedAnswerList, CsvImported
from bots.schemas.evaluation import (
    AddedCase,
    ExportedSet,
    GateSettings,
    ImportedSet,
    RunComparison,
    RunDetail,
    RunList,
    TestSetList,
)
from bots.schemas.experiments import Experiment, ExperimentList, Promoted
from bots.schemas.handoffs import HandoffDetail
from bots.schemas.keys import ApiKey, CreatedKey, KeyList, Snippets
from bots.schemas.knowledge import (
    Chunk,
    ChunkList,
    Document,
    DocumentList,
    Job,
    JobList,
    JobStarted,
    SearchHit,
    SearchResult,
    UploadResult,
)
from bots.schemas.playground import Comparison, PlaygroundReply, VersionFailure
from bots.schemas.providers import ProviderTest
from bots.schemas.review import AddedToTestSet, CorrectedFromReview, ReviewDetail, ReviewInbox
from bots.schemas.server import ServerSettings
from bots.schemas.versions import Specs, Version, VersionList, VersionWithSpec
from bots.schemas.web_sources import (
    SyncHistory,
    SyncStarted,
    WebSource,
    WebSourceCreated,
    WebSourceList,
    WebSync,
    WebSyncDetail,
)
from bots.settings import Settings

ASK_TIMEOUT_S = 600.0
Shape = TypeVar("Shape", bound=BaseModel)


class ClientError(Exception):
    """An error the server (or the network) reported, worded for the person at the keyboard."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.status, self.code = status, code
        self.details = details or {}  # the whole `error` object: e.g. the gate's verdict under "gate"


def discover(settings: Settings | None = None) -> tuple[str, str | None]:
    """Where the server is and the credential to use, found without the user typing either."""
    settings = settings or Settings()
    url = os.environ.get("PROMPTEUR_SERVER_URL")
    info = settings.home / "server.json"
    if not url and info.exists():
        url = json.loads(info.read_text()).get("url")
    url = url or f"http://{settings.host}:{settings.port}"
    return url.rstrip("/"), _token(settings)


CLI_TOKEN_FILE = "cli_token"  # written by `prompteur login`


def _token(settings: Settings) -> str | None:
    """The first of: PROMPTEUR_TOKEN (a person's API token), the token `prompteur login` saved,
    the admin token (the first owner's; only readable on the server's machine)."""
    for token in (os.environ.get("PROMPTEUR_TOKEN"), _read(settings.home / CLI_TOKEN_FILE), settings.admin_token):
        if token:
            return token
    return _read(settings.home / "admin_token")


def _read(path: Path) -> str | None:
    return path.read_text().strip() or None if path.exists() else None


class AdminClient:
    def __init__(self, base_url: str, token: str | None, timeout: float = 60.0):
        self.base_url = base_url
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, headers={"Authorization": f"Bearer {token}"} if token else {}
        )

    @classmethod
    def from_environment(cls) -> AdminClient:
        return cls(*discover())

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs):
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as err:
            raise ClientError(
                f"Cannot reach the Prompteur server at {self.base_url}: is it running? "
                "Start it with `prompteur serve` (or `make run`)."
            ) from err
        except httpx.TimeoutException as err:
            raise ClientError(f"The server at {self.base_url} did not answer in time; try again.") from err
        except httpx.TransportError as err:
            # Typically the server refusing an upload mid-way and hanging up.
            raise ClientError(
                f"The connection to the server at {self.base_url} broke off ({type(err).__name__}). "
                "If this was an upload, it may exceed the server's upload limit "
                "(PROMPTEUR_MAX_UPLOAD_MB); otherwise try again."
            ) from err
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ClientError(error["message"], response.status_code, error.get("code"), error)
            except (ValueError, KeyError, TypeError):
                raise ClientError(
                    f"The server answered {response.status_code}: {response.text[:300]}", response.status_code
                ) from None
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _parse(self, model: type[Shape], body: Any) -> Shape:
        """The server's answer as `model`; one of another shape (a server of another version,
        or not Prompteur at all) is a ClientError that says so, not a traceback."""
        try:
            return model.model_validate(body)
        except ValidationError as err:
            where = "; ".join(".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in err.errors()[:3])
            raise ClientError(
                f"The server at {self.base_url} answered in an unexpected shape ({where}): is it a "
                "Prompteur server of the same version as this client?"
            ) from None

    # --- bots ---
    def bots(self) -> list[Bot]:
        return self._parse(BotList, self.request("GET", "/admin/bots")).bots

    def create_bot(self, name: str, language: str = "en", spec: dict | None = None, **extra) -> Bot:
        return self._parse(
            Bot,
            self.request("POST", "/admin/bots", json={"name": name, "language": language, "spec": spec or {}, **extra}),
        )

    def bot(self, bot_id: str) -> Bot:
        return self._parse(Bot, self.request("GET", f"/admin/bots/{bot_id}"))

    def update_bot(self, bot_id: str, **fields) -> UpdatedBot:
        return self._parse(UpdatedBot, self.request("PATCH", f"/admin/bots/{bot_id}", json=fields))

    def delete_bot(self, bot_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}")

    def resolve_bot(self, ref: str) -> Bot:
        """A bot by id, or by its name when exactly one bot has it."""
        bots = self.bots()
        for b in bots:
            if b.id == ref:
                return b
        named = [b for b in bots if b.name == ref]
        if len(named) == 1:
            return named[0]
        if named:
            raise ClientError(f"Several bots are named {ref!r}; use the id ({', '.join(b.id for b in named)}).")
        raise ClientError(f"No bot has the id or name {ref!r}. `prompteur bot list` shows them.")

    # --- knowledge ---
    def upload(self, bot_id: str, paths: list[Path], names: list[str] | None = None) -> UploadResult:
        """`names` are what the server shows (e.g. paths relative to an uploaded folder);
        the files' own names by default."""
        names = names or [p.name for p in paths]
        files = [("files", (name, p.open("rb"))) for p, name in zip(paths, names)]
        try:
            return self._parse(UploadResult, self.request("POST", f"/admin/bots/{bot_id}/documents", files=files))
        finally:
            for _, (_, handle) in files:
                handle.close()

    def documents(self, bot_id: str) -> list[Document]:
        return self._parse(DocumentList, self.request("GET", f"/admin/bots/{bot_id}/documents")).documents

    def chunks(self, bot_id: str, doc_id: str) -> list[Chunk]:
        return self._parse(ChunkList, self.request("GET", f"/admin/bots/{bot_id}/documents/{doc_id}/chunks")).chunks

    def delete_document(self, bot_id: str, doc_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}/documents/{doc_id}")

    def job(self, job_id: str) -> Job:
        return self._parse(Job, self.request("GET", f"/admin/jobs/{job_id}"))

    def search(self, bot_id: str, query: str, k: int = 5) -> list[SearchHit]:
        body = self.request("POST", f"/admin/bots/{bot_id}/search", json={"query": query, "k": k})
        return self._parse(SearchResult, body).hits

    def reindex(self, bot_id: str) -> JobStarted:
        return self._parse(JobStarted, self.request("POST", f"/admin/bots/{bot_id}/reindex"))

    # --- publishing ---
    def versions(self, bot_id: str) -> VersionList:
        return self._parse(VersionList, self.request("GET", f"/admin/bots/{bot_id}/versions"))

    def version(self, bot_id: str, number: int) -> VersionWithSpec:
        return self._parse(VersionWithSpec, self.request("GET", f"/admin/bots/{bot_id}/versions/{number}"))

    def publish(self, bot_id: str, note: str = "", override: str | None = None) -> Version:
        """The publish gate may refuse (ClientError, code publish_gate_refused); `override`
        publishes anyway and is stored with the version."""
        body: dict = {"note": note, **({"override": override} if override else {})}
        # The gate may evaluate the draft first: as slow as answering its test cases.
        reply = self.request("POST", f"/admin/bots/{bot_id}/versions", json=body, timeout=ASK_TIMEOUT_S)
        return self._parse(Version, reply)

    def rollback(self, bot_id: str, number: int) -> Version:
        return self._parse(Version, self.request("POST", f"/admin/bots/{bot_id}/versions/{number}/rollback"))

    def specs(self, bot_id: str) -> Specs:
        """The draft and the published spec side by side."""
        return self._parse(Specs, self.request("GET", f"/admin/bots/{bot_id}/spec"))

    # --- keys ---
    def create_key(self, bot_id: str, kind: str = "secret", label: str = "") -> CreatedKey:
        """The response's `key` is the only time the key is ever shown."""
        body = self.request("POST", f"/admin/bots/{bot_id}/keys", json={"kind": kind, "label": label})
        return self._parse(CreatedKey, body)

    def keys(self, bot_id: str) -> list[ApiKey]:
        return self._parse(KeyList, self.request("GET", f"/admin/bots/{bot_id}/keys")).keys

    def revoke_key(self, bot_id: str, key_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}/keys/{key_id}")

    # --- conversations ---
    def conversations(self, bot_id: str, limit: int = 50, offset: int = 0, **filters) -> ConversationList:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._parse(
            ConversationList,
            self.request(
                "GET", f"/admin/bots/{bot_id}/conversations", params={**params, "limit": limit, "offset": offset}
            ),
        )

    def conversation(self, bot_id: str, conversation_id: str) -> ConversationDetail:
        body = self.request("GET", f"/admin/bots/{bot_id}/conversations/{conversation_id}")
        return self._parse(ConversationDetail, body)

    def handoffs(self, bot_id: str) -> list[Handoff]:
        return self._parse(HandoffList, self.request("GET", f"/admin/bots/{bot_id}/handoffs")).handoffs

    def export_conversations(self, bot_id: str, format: str = "json", **filters) -> ExportedMessages | str:
        """JSON: the messages; CSV: the file's text."""
        params = {**{k: v for k, v in filters.items() if v is not None}, "format": format}
        if format == "json":
            return self._parse(ExportedMessages, self.request("GET", f"/admin/bots/{bot_id}/export", params=params))
        response = self._http.get(f"/admin/bots/{bot_id}/export", params=params)
        if response.status_code >= 400:
            raise ClientError(response.json()["error"]["message"], response.status_code)
        return response.text

    def stats(self, bot_id: str, **filters) -> Stats:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._parse(Stats, self.request("GET", f"/admin/bots/{bot_id}/stats", params=params))

    # --- asking ---
    def playground(
        self, bot_id: str, message: str, version: str | int = "draft", conversation_id: str | None = None
    ) -> PlaygroundReply:
        """The answer plus `debug` (hits with scores, prompt messages, tokens, latency)."""
        body: dict = {"message": message, "version": version}
        if conversation_id:
            body["conversation_id"] = conversation_id
        # Answers wait on a model, which can be slow on a busy CPU: wait longer than for admin calls.
        reply = self.request("POST", f"/admin/bots/{bot_id}/playground", json=body, timeout=ASK_TIMEOUT_S)
        return self._parse(PlaygroundReply, reply)

    def compare(
        self, bot_id: str, message: str, versions: list | None = None
    ) -> list[PlaygroundReply | VersionFailure]:
        """Ask the draft and the published version (or the given ones) the same question."""
        body = self.request(
            "POST",
            f"/admin/bots/{bot_id}/compare",
            json={"message": message, "versions": versions or ["draft", "published"]},
            timeout=ASK_TIMEOUT_S,
        )
        return self._parse(Comparison, body).results

    # --- used by the builder UI ---
    def upload_files(self, bot_id: str, files: list[tuple[str, bytes]]) -> UploadResult:
        """Upload in-memory files (name, bytes), as a browser hands them over."""
        return self._parse(
            UploadResult,
            self.request(
                "POST", f"/admin/bots/{bot_id}/documents", files=[("files", (name, data)) for name, data in files]
            ),
        )

    def jobs(self, bot_id: str) -> list[Job]:
        return self._parse(JobList, self.request("GET", f"/admin/bots/{bot_id}/jobs")).jobs

    # --- publishing on a site ---
    def embed(self, bot_id: str, key: str | None = None) -> Snippets:
        """Ready to paste; without a publishable key the snippets carry a placeholder."""
        params = {"key": key} if key else None
        return self._parse(Snippets, self.request("GET", f"/admin/bots/{bot_id}/embed", params=params))

    def server_settings(self) -> ServerSettings:
        """Limits, embedding models and providers this server offers (read-only)."""
        return self._parse(ServerSettings, self.request("GET", "/admin/settings"))

    # --- test sets and evaluation ---
    def test_sets(self, bot_id: str) -> TestSetList:
        return self._parse(TestSetList, self.request("GET", f"/admin/bots/{bot_id}/test-sets"))

    def import_test_set(self, bot_id: str, name: str, content: str, format: str = "jsonl") -> ImportedSet:
        """Replaces the set; all or nothing (a ClientError names every bad line)."""
        body = {"format": format, "content": content}
        return self._parse(ImportedSet, self.request("PUT", f"/admin/bots/{bot_id}/test-sets/{name}", json=body))

    def export_test_set(self, bot_id: str, name: str) -> ExportedSet:
        return self._parse(ExportedSet, self.request("GET", f"/admin/bots/{bot_id}/test-sets/{name}"))

    def start_eval_run(self, bot_id: str, version: str | int = "draft", set_name: str | None = None) -> RunDetail:
        body = {"version": version, **({"set": set_name} if set_name else {})}
        return self._parse(RunDetail, self.request("POST", f"/admin/bots/{bot_id}/eval-runs", json=body))

    def eval_run(self, bot_id: str, run_id: str) -> RunDetail:
        return self._parse(RunDetail, self.request("GET", f"/admin/bots/{bot_id}/eval-runs/{run_id}"))

    def cancel_eval_run(self, bot_id: str, run_id: str) -> None:
        self.request("POST", f"/admin/bots/{bot_id}/eval-runs/{run_id}/cancel")

    def compare_runs(self, bot_id: str, run_a: str, run_b: str) -> RunComparison:
        body = self.request("GET", f"/admin/bots/{bot_id}/eval-runs/{run_a}/compare/{run_b}")
        return self._parse(RunComparison, body)

    def gate(self, bot_id: str) -> GateSettings:
        return self._parse(GateSettings, self.request("GET", f"/admin/bots/{bot_id}/gate"))

    # --- hand-off inbox ---
    def handoff_inbox(self, bot_id: str, status: str | None = None) -> list[Handoff]:
        params = {"status": status} if status else None
        body = self.request("GET", f"/admin/bots/{bot_id}/handoffs", params=params)
        return self._parse(HandoffList, body).handoffs

    def handoff(self, bot_id: str, handoff_id: str) -> HandoffDetail:
        return self._parse(HandoffDetail, self.request("GET", f"/admin/bots/{bot_id}/handoffs/{handoff_id}"))

    def assign_handoff(self, bot_id: str, handoff_id: str, assignee: str | None) -> HandoffDetail:
        body = self.request("POST", f"/admin/bots/{bot_id}/handoffs/{handoff_id}/assign", json={"assignee": assignee})
        return self._parse(HandoffDetail, body)

    def reply_handoff(self, bot_id: str, handoff_id: str, message: str, author: str | None = None) -> HandoffDetail:
        payload = {"message": message, "author": author}
        body = self.request("POST", f"/admin/bots/{bot_id}/handoffs/{handoff_id}/reply", json=payload)
        return self._parse(HandoffDetail, body)

    def close_handoff(self, bot_id: str, handoff_id: str) -> HandoffDetail:
        return self._parse(HandoffDetail, self.request("POST", f"/admin/bots/{bot_id}/handoffs/{handoff_id}/close"))

    # --- evaluation: runs listing, gate settings, experiments, cases from conversations ---
    def eval_runs(self, bot_id: str) -> RunList:
        """The bot's newest runs (50), newest first, without their cases."""
        return self._parse(RunList, self.request("GET", f"/admin/bots/{bot_id}/eval-runs"))

    def save_gate(
        self, bot_id: str, set_names: list[str] | None, min_pass_rate: float, enabled: bool = True
    ) -> GateSettings:
        """`set_names` None: every test set of the bot gates publishing."""
        body = {"set_names": set_names, "min_pass_rate": min_pass_rate, "enabled": enabled}
        return self._parse(GateSettings, self.request("PUT", f"/admin/bots/{bot_id}/gate", json=body))

    def add_test_case(
        self, bot_id: str, set_name: str, case: dict | None = None, message_id: str | None = None
    ) -> AddedCase:
        """Add one case to a set (made if missing). With `message_id`, what `case` leaves out
        comes from that conversation message: the question, the answer as the reference."""
        body = {**(case or {}), **({"message_id": message_id} if message_id else {})}
        reply = self.request("POST", f"/admin/bots/{bot_id}/test-sets/{set_name}/cases", json=body)
        return self._parse(AddedCase, reply)

    def start_experiment(self, bot_id: str, set_name: str, variants: list[dict], wait: bool = False) -> Experiment:
        """Each variant `{"name": ..., <spec section>: {...}}` is measured as a run of the draft with it."""
        body = {"set": set_name, "variants": variants, "wait": wait}
        # Waiting, the server answers once every variant has answered every case.
        slow = {"timeout": ASK_TIMEOUT_S} if wait else {}
        reply = self.request("POST", f"/admin/bots/{bot_id}/experiments", json=body, **slow)
        return self._parse(Experiment, reply)

    def experiment(self, bot_id: str, experiment_id: str) -> Experiment:
        return self._parse(Experiment, self.request("GET", f"/admin/bots/{bot_id}/experiments/{experiment_id}"))

    def experiments(self, bot_id: str) -> ExperimentList:
        return self._parse(ExperimentList, self.request("GET", f"/admin/bots/{bot_id}/experiments"))

    def promote_variant(self, bot_id: str, experiment_id: str, variant: str) -> Promoted:
        body = {"variant": variant}
        reply = self.request("POST", f"/admin/bots/{bot_id}/experiments/{experiment_id}/promote", json=body)
        return self._parse(Promoted, reply)

    # --- knowledge gaps and resolution analytics ---
    def gaps(self, bot_id: str, since: str | None = None, until: str | None = None, **options) -> Gaps:
        """Badly answered questions of the period as topics, the largest first."""
        params = {k: v for k, v in {"since": since, "until": until, **options}.items() if v is not None}
        return self._parse(Gaps, self.request("GET", f"/admin/bots/{bot_id}/gaps", params=params))

    def gaps_todo(self, bot_id: str, format: str = "markdown", **filters) -> str:
        """The gaps as a to-do list: the text of the CSV or Markdown file."""
        params = {**{k: v for k, v in filters.items() if v is not None}, "format": format}
        return self._download(f"/admin/bots/{bot_id}/gaps", params)

    def analytics(self, bot_id: str, **filters) -> Analytics:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._parse(Analytics, self.request("GET", f"/admin/bots/{bot_id}/analytics", params=params))

    def analytics_csv(self, bot_id: str, **filters) -> str:
        params = {**{k: v for k, v in filters.items() if v is not None}, "format": "csv"}
        return self._download(f"/admin/bots/{bot_id}/analytics", params)

    def _download(self, path: str, params: dict) -> str:
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as err:
            raise ClientError(f"Cannot reach the Prompteur server at {self.base_url}: {type(err).__name__}.") from err
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                raise ClientError(f"The server answered {response.status_code}.", response.status_code) from None
            raise ClientError(error["message"], response.status_code, error.get("code"))
        return response.text

    # --- website knowledge (issue #16) ---
    def create_web_source(self, bot_id: str, url: str, **fields) -> WebSourceCreated:
        body = self.request("POST", f"/admin/bots/{bot_id}/web-sources", json={"url": url, **fields})
        return self._parse(WebSourceCreated, body)

    def web_sources(self, bot_id: str) -> list[WebSource]:
        return self._parse(WebSourceList, self.request("GET", f"/admin/bots/{bot_id}/web-sources")).sources

    def update_web_source(self, bot_id: str, source_id: str, **fields) -> WebSource:
        body = self.request("PATCH", f"/admin/bots/{bot_id}/web-sources/{source_id}", json=fields)
        return self._parse(WebSource, body)

    def delete_web_source(self, bot_id: str, source_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}/web-sources/{source_id}")

    def sync_web_sources(self, bot_id: str, source_id: str | None = None) -> list[str]:
        path = f"/admin/bots/{bot_id}/web-sources" + (f"/{source_id}/sync" if source_id else "/sync")
        return self._parse(SyncStarted, self.request("POST", path)).sync_ids

    def web_sync(self, bot_id: str, sync_id: str) -> WebSyncDetail:
        return self._parse(WebSyncDetail, self.request("GET", f"/admin/bots/{bot_id}/web-syncs/{sync_id}"))

    def web_sync_history(self, bot_id: str, source_id: str) -> list[WebSync]:
        body = self.request("GET", f"/admin/bots/{bot_id}/web-sources/{source_id}/syncs")
        return self._parse(SyncHistory, body).syncs

    # --- corrected answers (issue #14) ---
    def corrected_answers(self, bot_id: str, search: str = "", limit: int = 200) -> list[CorrectedAnswer]:
        params = {"q": search, "limit": limit}
        body = self.request("GET", f"/admin/bots/{bot_id}/corrected-answers", params=params)
        return self._parse(CorrectedAnswerList, body).answers

    def all_corrected_answers(self, bot_id: str) -> list[CorrectedAnswer]:
        body = self.request("GET", f"/admin/bots/{bot_id}/corrected-answers/export", params={"format": "json"})
        return self._parse(CorrectedAnswerList, body).answers

    def add_corrected_answer(
        self,
        bot_id: str,
        question: str,
        answer: str,
        paraphrases: list[str] | None = None,
        sources: list[dict] | None = None,
    ) -> CorrectedAnswer:
        body = {"question": question, "answer": answer, "paraphrases": paraphrases or [], "sources": sources or []}
        return self._parse(CorrectedAnswer, self.request("POST", f"/admin/bots/{bot_id}/corrected-answers", json=body))

    def edit_corrected_answer(self, bot_id: str, answer_id: str, **fields) -> CorrectedAnswer:
        path = f"/admin/bots/{bot_id}/corrected-answers/{answer_id}"
        return self._parse(CorrectedAnswer, self.request("PATCH", path, json=fields))

    def delete_corrected_answer(self, bot_id: str, answer_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}/corrected-answers/{answer_id}")

    def replace_corrected_answers(self, bot_id: str, answers: list[dict]) -> CsvImported:
        """All of the bot's corrected answers become `answers` (a bot import)."""
        body = {"answers": answers}
        return self._parse(CsvImported, self.request("PUT", f"/admin/bots/{bot_id}/corrected-answers", json=body))

    def import_corrected_answers_csv(self, bot_id: str, text: str) -> CsvImported:
        """New rows are created, rows with one of the bot's ids updated; all or nothing."""
        path = f"/admin/bots/{bot_id}/corrected-answers/import"
        body = self.request("POST", path, content=text.encode("utf-8"), headers={"content-type": "text/csv"})
        return self._parse(CsvImported, body)

    def export_corrected_answers_csv(self, bot_id: str) -> str:
        # The CSV comes whole from the server (the import's format); errors are JSON as usual.
        path = f"/admin/bots/{bot_id}/corrected-answers/export"
        try:
            response = self._http.request("GET", path, params={"format": "csv"})
        except httpx.HTTPError as err:
            raise ClientError(f"Cannot export from the server at {self.base_url}: {err}") from err
        if response.status_code >= 400:
            self.request("GET", path, params={"format": "json"})  # raises the server's error as usual
        return response.text

    # --- the review inbox (issue #14) ---
    def review_inbox(self, bot_id: str, limit: int = 50, offset: int = 0, **filters) -> ReviewInbox:
        """filters: reason (a list), version, since, until, channel, language."""
        params = {"limit": limit, "offset": offset, **{k: v for k, v in filters.items() if v not in (None, [], "")}}
        return self._parse(ReviewInbox, self.request("GET", f"/admin/bots/{bot_id}/review", params=params))

    def review_item(self, bot_id: str, message_id: str) -> ReviewDetail:
        return self._parse(ReviewDetail, self.request("GET", f"/admin/bots/{bot_id}/review/{message_id}"))

    def review_correct(self, bot_id: str, message_id: str, answer: str, **fields) -> CorrectedFromReview:
        body = {"answer": answer, **fields}
        path = f"/admin/bots/{bot_id}/review/{message_id}/correct"
        return self._parse(CorrectedFromReview, self.request("POST", path, json=body))

    def review_test_case(
        self, bot_id: str, message_id: str, set_name: str, expected_source: str | None = None
    ) -> AddedToTestSet:
        body = {"set": set_name, **({"expected_source": expected_source} if expected_source else {})}
        path = f"/admin/bots/{bot_id}/review/{message_id}/test-case"
        return self._parse(AddedToTestSet, self.request("POST", path, json=body))

    def review_mark(self, bot_id: str, message_id: str, note: str = "") -> None:
        self.request("POST", f"/admin/bots/{bot_id}/review/{message_id}/reviewed", json={"note": note})

    # --- first-run setup: does a model answer? ---
    def test_provider(self, model: dict, bot_id: str | None = None) -> ProviderTest:
        """One real request with these model settings (provider, model, base_url, api_key,
        timeout_s), sent by the server; nothing is saved. With `bot_id`, a masked api_key
        stands for that bot's saved key."""
        params = {"bot_id": bot_id} if bot_id else None
        return self._parse(ProviderTest, self.request("POST", "/admin/providers/test", json=model, params=params))

    # --- the playground, streamed ---
    def playground_stream(
        self, bot_id: str, message: str, version: str | int = "draft", conversation_id: str | None = None
    ) -> Iterator[tuple[str, dict]]:
        """(event, data) pairs as the server sends them: start, delta*, then done (its data is
        a PlaygroundReply) or error ({code, message, detail}). A refusal before the stream
        starts (no such bot, message too long, server down) raises ClientError."""
        body: dict = {"message": message, "version": version, "stream": True}
        if conversation_id:
            body["conversation_id"] = conversation_id
        path = f"/admin/bots/{bot_id}/playground"
        try:
            with self._http.stream("POST", path, json=body, timeout=ASK_TIMEOUT_S) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response)
                event = "message"
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        yield event, json.loads(line[5:])
        except httpx.ConnectError as err:
            raise ClientError(
                f"Cannot reach the Prompteur server at {self.base_url}: is it running? "
                "Start it with `prompteur serve` (or `make run`)."
            ) from err
        except httpx.TransportError as err:
            raise ClientError(f"The answer stream from {self.base_url} broke off ({type(err).__name__}).") from err

    # --- team use: who am I, people, tokens, the audit log (issue #15, item 10) ---
    def use_token(self, token: str | None) -> None:
        """Send this credential from now on (the builder, once someone signs in); None: none."""
        if token:
            self._http.headers["Authorization"] = f"Bearer {token}"
        else:
            self._http.headers.pop("Authorization", None)

    def login(self, name: str, password: str) -> team.LoginResult:
        return self._parse(
            team.LoginResult, self.request("POST", "/admin/login", json={"name": name, "password": password})
        )

    def logout(self) -> None:
        self.request("POST", "/admin/logout")

    def me(self) -> team.Me:
        return self._parse(team.Me, self.request("GET", "/admin/me"))

    def change_me(self, **fields) -> team.User:
        return self._parse(team.User, self.request("PATCH", "/admin/me", json=fields))

    def users(self) -> list[team.User]:
        return self._parse(team.UserList, self.request("GET", "/admin/users")).users

    def create_user(self, name: str, role: str, password: str | None = None) -> team.UserCreated:
        body: dict = {"name": name, "role": role} | ({"password": password} if password else {})
        return self._parse(team.UserCreated, self.request("POST", "/admin/users", json=body))

    def update_user(self, user_id: str, **fields) -> team.User:
        return self._parse(team.User, self.request("PATCH", f"/admin/users/{user_id}", json=fields))

    def delete_user(self, user_id: str) -> None:
        self.request("DELETE", f"/admin/users/{user_id}")

    def resolve_user(self, ref: str) -> team.User:
        for user in self.users():
            if ref in (user.id, user.name):
                return user
        raise ClientError(f"There is no user named {ref!r} (or with that id): `prompteur users list` shows them.")

    def tokens(self, everyone: bool = False) -> list[team.Token]:
        params = {"all": "true"} if everyone else {}
        return self._parse(team.TokenList, self.request("GET", "/admin/tokens", params=params)).tokens

    def create_token(self, name: str, expires_in_days: int | None = None) -> team.TokenCreated:
        body: dict = {"name": name} | ({"expires_in_days": expires_in_days} if expires_in_days else {})
        return self._parse(team.TokenCreated, self.request("POST", "/admin/tokens", json=body))

    def revoke_token(self, token_id: str) -> None:
        self.request("DELETE", f"/admin/tokens/{token_id}")

    def audit(self, **filters) -> team.AuditPage:
        params = {k: v for k, v in filters.items() if v is not None}
        return self._parse(team.AuditPage, self.request("GET", "/admin/audit", params=params))


def _raise_for(response: httpx.Response) -> None:
    """The server's own error sentence as a ClientError (a status >= 400 was answered)."""
    try:
        error = response.json()["error"]
        raise ClientError(error["message"], response.status_code, error.get("code"))
    except (ValueError, KeyError, TypeError):
        raise ClientError(
            f"The server answered {response.status_code}: {response.text[:300]}", response.status_code
        ) from None
