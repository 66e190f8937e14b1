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

from bots.schemas.bots import Bot, BotList, UpdatedBot
from bots.schemas.conversations import (
    ConversationDetail,
    ConversationList,
    ExportedMessages,
    Handoff,
    HandoffList,
    Stats,
)
from bots.schemas.evaluation import (
    ExportedSet,
    GateSettings,
    ImportedSet,
    RunComparison,
    RunDetail,
    TestSetList,
)
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
from bots.schemas.server import ServerSettings
from bots.schemas.versions import Specs, Version, VersionList, VersionWithSpec
from bots.settings import Settings

ASK_TIMEOUT_S = 600.0
Shape = TypeVar("Shape", bound=BaseModel)


class ClientError(Exception):
    """An error the server (or the network) reported, worded for the person at the keyboard."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.code = status, code


def discover(settings: Settings | None = None) -> tuple[str, str | None]:
    """Where the server is and the admin token, found without the user typing either."""
    settings = settings or Settings()
    url = os.environ.get("PROMPTEUR_SERVER_URL")
    info = settings.home / "server.json"
    if not url and info.exists():
        url = json.loads(info.read_text()).get("url")
    url = url or f"http://{settings.host}:{settings.port}"
    token = settings.admin_token
    token_file = settings.home / "admin_token"
    if not token and token_file.exists():
        token = token_file.read_text().strip()
    return url.rstrip("/"), token


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
                raise ClientError(error["message"], response.status_code, error.get("code"))
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


def _raise_for(response: httpx.Response) -> None:
    """The server's own error sentence as a ClientError (a status >= 400 was answered)."""
    try:
        error = response.json()["error"]
        raise ClientError(error["message"], response.status_code, error.get("code"))
    except (ValueError, KeyError, TypeError):
        raise ClientError(
            f"The server answered {response.status_code}: {response.text[:300]}", response.status_code
        ) from None
