"""Settings from the environment, read once when the app or CLI starts."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = f"sqlite:///{ROOT / 'instance' / 'itsmflow.db'}"


@dataclass
class Settings:
    database_url: str
    secret_key: str
    secure_cookies: bool = False

    @classmethod
    def from_env(cls) -> Settings:
        url = os.environ.get("ITSMFLOW_DATABASE_URL", DEFAULT_DB)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            path = Path(url.removeprefix("sqlite:///"))
            url = f"sqlite:///{path.resolve()}"
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        secret = os.environ.get("ITSMFLOW_SECRET_KEY") or _instance_secret()
        return cls(url, secret, os.environ.get("ITSMFLOW_SECURE_COOKIES", "0") == "1")


def _instance_secret() -> str:
    """A per-install key kept under instance/, so sessions survive restarts without configuration."""
    path = ROOT / "instance" / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
