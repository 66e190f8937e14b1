"""The one settings object, read from PROMPTEUR_* environment variables in composition roots."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROMPTEUR_", extra="ignore")

    home: Path = Field(default=Path.home() / ".prompteur",
                       description="Data folder: uploads, SQLite database, Chroma index, admin token.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in `home` when unset.")
    chroma_url: str | None = Field(default=None, description="Chroma server URL; embedded Chroma in `home` when unset.")
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = Field(default=None, description="Fixed admin token; generated into home/admin_token when unset.")
    max_upload_mb: int = 50
    max_pdf_pages: int = 5000
    ingest_workers: int = 1

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'prompteur.db'}"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"
