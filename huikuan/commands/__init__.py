"""Subcommands that drive the whole pipeline (build, run, demo, dashboard, ui)."""
