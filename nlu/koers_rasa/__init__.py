"""Koers' extensions loaded into the Rasa server (this package runs in .venv-rasa)."""
