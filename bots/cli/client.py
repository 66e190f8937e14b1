"""A small client for the admin API, shared by the CLI and the builder UI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from bots.settings import Settings

ASK_TIMEOUT_S = 600.0


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

    # --- bots ---
    def bots(self) -> list[dict]:
        return self.request("GET", "/admin/bots")["bots"]

    def create_bot(self, name: str, language: str = "en", spec: dict | None = None, **extra) -> dict:
        return self.request(
            "POST", "/admin/bots", json={"name": name, "language": language, "spec": spec or {}, **extra}
        )

    def bot(self, bot_id: str) -> dict:
        return self.request("GET", f"/admin/bots/{bot_id}")

    def update_bot(self, bot_id: str, **fields) -> dict:
        return self.request("PATCH", f"/admin/bots/{bot_id}", json=fields)

    def delete_bot(self, bot_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}")

    def resolve_bot(self, ref: str) -> dict:
        """A bot by id, or by its name when exactly one bot has it."""
        bots = self.bots()
        for b in bots:
            if b["id"] == ref:
                return b
        named = [b for b in bots if b["name"] == ref]
        if len(named) == 1:
            return named[0]
        if named:
            raise ClientError(f"Several bots are named {ref!r}; use the id ({', '.join(b['id'] for b in named)}).")
        raise ClientError(f"No bot has the id or name {ref!r}. `prompteur bot list` shows them.")

    # --- knowledge ---
    def upload(self, bot_id: str, paths: list[Path], names: list[str] | None = None) -> dict:
        """`names` are what the server shows (e.g. paths relative to an uploaded folder);
        the files' own names by default."""
        names = names or [p.name for p in paths]
        files = [("files", (name, p.open("rb"))) for p, name in zip(paths, names)]
        try:
            return self.request("POST", f"/admin/bots/{bot_id}/documents", files=files)
        finally:
            for _, (_, handle) in files:
                handle.close()

    def documents(self, bot_id: str) -> list[dict]:
        return self.request("GET", f"/admin/bots/{bot_id}/documents")["documents"]

    def chunks(self, bot_id: str, doc_id: str) -> list[dict]:
        return self.request("GET", f"/admin/bots/{bot_id}/documents/{doc_id}/chunks")["chunks"]

    def delete_document(self, bot_id: str, doc_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}/documents/{doc_id}")

    def job(self, job_id: str) -> dict:
        return self.request("GET", f"/admin/jobs/{job_id}")

    def search(self, bot_id: str, query: str, k: int = 5) -> list[dict]:
        return self.request("POST", f"/admin/bots/{bot_id}/search", json={"query": query, "k": k})["hits"]

    def reindex(self, bot_id: str) -> dict:
        return self.request("POST", f"/admin/bots/{bot_id}/reindex")

    # --- publishing ---
    def versions(self, bot_id: str) -> dict:
        return self.request("GET", f"/admin/bots/{bot_id}/versions")

    def version(self, bot_id: str, number: int) -> dict:
        return self.request("GET", f"/admin/bots/{bot_id}/versions/{number}")

    def publish(self, bot_id: str, note: str = "") -> dict:
        return self.request("POST", f"/admin/bots/{bot_id}/versions", json={"note": note})

    def rollback(self, bot_id: str, number: int) -> dict:
        return self.request("POST", f"/admin/bots/{bot_id}/versions/{number}/rollback")

    def specs(self, bot_id: str) -> dict:
        """{"draft", "published", "published_version", "draft_differs"}"""
        return self.request("GET", f"/admin/bots/{bot_id}/spec")

    # --- keys ---
    def create_key(self, bot_id: str, kind: str = "secret", label: str = "") -> dict:
        """The response's "key" is the only time the key is ever shown."""
        return self.request("POST", f"/admin/bots/{bot_id}/keys", json={"kind": kind, "label": label})

    def keys(self, bot_id: str) -> list[dict]:
        return self.request("GET", f"/admin/bots/{bot_id}/keys")["keys"]

    def revoke_key(self, bot_id: str, key_id: str) -> None:
        self.request("DELETE", f"/admin/bots/{bot_id}/keys/{key_id}")

    # --- conversations ---
    def conversations(self, bot_id: str, limit: int = 50, offset: int = 0, **filters) -> dict:
        params = {k: v for k, v in filters.items() if v is not None}
        return self.request(
            "GET", f"/admin/bots/{bot_id}/conversations", params={**params, "limit": limit, "offset": offset}
        )

    def conversation(self, bot_id: str, conversation_id: str) -> dict:
        return self.request("GET", f"/admin/bots/{bot_id}/conversations/{conversation_id}")

    def handoffs(self, bot_id: str) -> list[dict]:
        return self.request("GET", f"/admin/bots/{bot_id}/handoffs")["handoffs"]

    def export_conversations(self, bot_id: str, format: str = "json", **filters):
        """JSON: {"messages": [...]}; CSV: the file's text."""
        params = {**{k: v for k, v in filters.items() if v is not None}, "format": format}
        if format == "json":
            return self.request("GET", f"/admin/bots/{bot_id}/export", params=params)
        response = self._http.get(f"/admin/bots/{bot_id}/export", params=params)
        if response.status_code >= 400:
            raise ClientError(response.json()["error"]["message"], response.status_code)
        return response.text

    def stats(self, bot_id: str, **filters) -> dict:
        return self.request(
            "GET", f"/admin/bots/{bot_id}/stats", params={k: v for k, v in filters.items() if v is not None}
        )

    # --- asking ---
    def playground(
        self, bot_id: str, message: str, version: str | int = "draft", conversation_id: str | None = None
    ) -> dict:
        """The answer plus `debug` (hits with scores, prompt messages, tokens, latency)."""
        body = {"message": message, "version": version}
        if conversation_id:
            body["conversation_id"] = conversation_id
        # Answers wait on a model, which can be slow on a busy CPU: wait longer than for admin calls.
        return self.request("POST", f"/admin/bots/{bot_id}/playground", json=body, timeout=ASK_TIMEOUT_S)

    def compare(self, bot_id: str, message: str, versions: list | None = None) -> list[dict]:
        """Ask the draft and the published version (or the given ones) the same question."""
        return self.request(
            "POST",
            f"/admin/bots/{bot_id}/compare",
            json={"message": message, "versions": versions or ["draft", "published"]},
            timeout=ASK_TIMEOUT_S,
        )["results"]

    # --- used by the builder UI ---
    def upload_files(self, bot_id: str, files: list[tuple[str, bytes]]) -> dict:
        """Upload in-memory files (name, bytes), as a browser hands them over."""
        return self.request(
            "POST", f"/admin/bots/{bot_id}/documents", files=[("files", (name, data)) for name, data in files]
        )

    def jobs(self, bot_id: str) -> list[dict]:
        return self.request("GET", f"/admin/bots/{bot_id}/jobs")["jobs"]

    # --- publishing on a site ---
    def embed(self, bot_id: str, key: str | None = None) -> dict:
        """{"script", "iframe", "hosted_url", "curl", "python"}: ready to paste; without a
        publishable key the snippets carry a placeholder."""
        return self.request("GET", f"/admin/bots/{bot_id}/embed", params={"key": key} if key else None)

    def server_settings(self) -> dict:
        """Limits, embedding models and providers this server offers (read-only)."""
        return self.request("GET", "/admin/settings")
