"""Ingest asset group: landing files into raw.* tables."""
