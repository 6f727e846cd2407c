"""Koers custom actions for Rasa: one module per conversation flow."""
