"""The action server's resources, built on first use and kept for the process."""

from __future__ import annotations

import functools

from bot.config import Settings, load_settings
from bot.db import Database


@functools.cache
def settings() -> Settings:
    """Returns the process settings."""
    return load_settings()


@functools.cache
def database() -> Database:
    """Returns the process database (one engine with its pool, made on first use)."""
    return Database(settings().database_url)
