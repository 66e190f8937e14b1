"""A small client for the admin API, shared by the CLI and the builder UI."""
from __future__ import annotations

import json
import os
from pathlib import Path

import httpx

from bots.settings import Settings


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
        self._http = httpx.Client(base_url=base_url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}"} if token else {})

    @classmethod
    def from_environment(cls) -> "AdminClient":
        return cls(*discover())

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs):
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as err:
            raise ClientError(f"Cannot reach the Prompteur server at {self.base_url}: is it running? "
                              "Start it with `prompteur serve` (or `make run`).") from err
        except httpx.TimeoutException as err:
            raise ClientError(f"The server at {self.base_url} did not answer in time; try again.") from err
        except httpx.TransportError as err:
            # Typically the server refusing an upload mid-way and hanging up.
            raise ClientError(f"The connection to the server at {self.base_url} broke off ({type(err).__name__}). "
                              "If this was an upload, it may exceed the server's upload limit "
                              "(PROMPTEUR_MAX_UPLOAD_MB); otherwise try again.") from err
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ClientError(error["message"], response.status_code, error.get("code"))
            except (ValueError, KeyError, TypeError):
                raise ClientError(f"The server answered {response.status_code}: {response.text[:300]}",
                                  response.status_code) from None
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # --- bots ---
    def bots(self) -> list[dict]:
        return self.request("GET", "/admin/bots")["bots"]

    def create_bot(self, name: str, language: str = "en", spec: dict | None = None, **extra) -> dict:
        return self.request("POST", "/admin/bots", json={"name": name, "language": language,
                                                          "spec": spec or {}, **extra})

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
    def upload(self, bot_id: str, paths: list[Path]) -> dict:
        files = [("files", (p.name, p.open("rb"))) for p in paths]
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
