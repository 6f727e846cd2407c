"""Koers: channels, web app, storage, configuration and the command line."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
