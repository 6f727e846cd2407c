"""The settings object: defaults that are safe, secrets that persist, env that wins."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.config import _read_dotenv, load_settings


def test_defaults_bind_locally_and_use_sqlite(tmp_path: Path) -> None:
    settings = load_settings({"KOERS_VAR_DIR": str(tmp_path)})
    assert settings.web_host == "127.0.0.1"
    assert settings.web_port == 8000
    assert settings.database_url == f"sqlite:///{tmp_path / 'koers.db'}"
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.telegram_token is None
    assert settings.telegram_api_url.startswith("https://api.telegram.org")


def test_generated_secrets_are_private_and_stable(tmp_path: Path) -> None:
    first = load_settings({"KOERS_VAR_DIR": str(tmp_path)})
    second = load_settings({"KOERS_VAR_DIR": str(tmp_path)})
    assert first.rasa_token == second.rasa_token
    assert first.secret_key == second.secret_key
    assert first.rasa_token != first.secret_key
    mode = stat.S_IMODE((tmp_path / "rasa_token").stat().st_mode)
    assert mode == 0o600


def test_environment_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "KOERS_VAR_DIR": str(tmp_path),
            "KOERS_WEB_PORT": "8123",
            "KOERS_RASA_TOKEN": "tok",
            "KOERS_TELEGRAM_TOKEN": "123:abc",
            "KOERS_TELEGRAM_API_URL": "http://127.0.0.1:9999/bot",
            "KOERS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert settings.web_port == 8123
    assert settings.rasa_token == "tok"
    assert settings.telegram_token == "123:abc"
    assert settings.telegram_api_url == "http://127.0.0.1:9999/bot"
    assert settings.allowed_origins == ("https://a.example", "https://b.example")


def test_dotenv_parsing(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('# comment\nKOERS_WEB_PORT=9000\n\nKOERS_SECRET_KEY="quoted"\nnot a pair\n')
    assert _read_dotenv(env) == {"KOERS_WEB_PORT": "9000", "KOERS_SECRET_KEY": "quoted"}
