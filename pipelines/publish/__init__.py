"""Publish asset group: the read-only snapshot the dashboard reads."""
