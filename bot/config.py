"""Reads the environment once into a frozen settings object.

This is the only module that looks at ``os.environ``. Every setting is a
``KOERS_`` variable, optionally from a ``.env`` file in the project root; real
environment variables win over the file.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from bot import ROOT
from bot.i18n import FALLBACK_LANGUAGE

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org/bot"


def _read_dotenv(path: Path) -> dict[str, str]:
    """Returns the KEY=VALUE pairs of a .env file (comments and blanks skipped)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _secret_from_file(path: Path) -> str:
    """Returns a secret kept in var/, generating it on first use."""
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    # created private; a secret readable by others is no secret
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value


@dataclass(frozen=True)
class Settings:
    """Everything Koers can be configured with; see the README's table."""

    var_dir: Path
    database_url: str
    secret_key: str
    rasa_token: str
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    rasa_url: str = "http://127.0.0.1:5005"
    action_port: int = 5055
    telegram_token: str | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_webhook_url: str | None = None
    telegram_webhook_port: int = 8443
    default_language: str = FALLBACK_LANGUAGE
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    invite_days: int = 14
    session_idle_minutes: int = 30
    log_level: str = "INFO"

    @property
    def rasa_tracker_url(self) -> str:
        """Returns the SQLAlchemy URL Rasa's tracker store uses (the same database)."""
        return self.database_url


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Builds the settings from the environment (or ``env``) and ``.env``."""
    source = dict(_read_dotenv(ROOT / ".env"))
    source.update(os.environ if env is None else env)

    def get(name: str, default: str | None = None) -> str | None:
        value = source.get(f"KOERS_{name}")
        return value if value not in (None, "") else default

    var_dir = Path(get("VAR_DIR", str(ROOT / "var")) or "var").resolve()
    database_url = get("DATABASE_URL") or f"sqlite:///{var_dir / 'koers.db'}"
    secret_key = get("SECRET_KEY") or _secret_from_file(var_dir / "secret_key")
    rasa_token = get("RASA_TOKEN") or _secret_from_file(var_dir / "rasa_token")
    origins = tuple(o.strip() for o in (get("ALLOWED_ORIGINS", "") or "").split(",") if o.strip())
    return Settings(
        var_dir=var_dir,
        database_url=database_url,
        secret_key=secret_key,
        rasa_token=rasa_token,
        web_host=get("WEB_HOST", "127.0.0.1") or "127.0.0.1",
        web_port=int(get("WEB_PORT", "8000") or 8000),
        rasa_url=(get("RASA_URL", "http://127.0.0.1:5005") or "").rstrip("/"),
        action_port=int(get("ACTION_PORT", "5055") or 5055),
        telegram_token=get("TELEGRAM_TOKEN"),
        telegram_api_url=get("TELEGRAM_API_URL", DEFAULT_TELEGRAM_API_URL) or DEFAULT_TELEGRAM_API_URL,
        telegram_webhook_url=get("TELEGRAM_WEBHOOK_URL"),
        telegram_webhook_port=int(get("TELEGRAM_WEBHOOK_PORT", "8443") or 8443),
        default_language=get("DEFAULT_LANGUAGE", FALLBACK_LANGUAGE) or FALLBACK_LANGUAGE,
        allowed_origins=origins,
        invite_days=int(get("INVITE_DAYS", "14") or 14),
        session_idle_minutes=int(get("SESSION_IDLE_MINUTES", "30") or 30),
        log_level=(get("LOG_LEVEL", "INFO") or "INFO").upper(),
    )
