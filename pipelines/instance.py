"""The Dagster instance for a huikuan home: DAGSTER_HOME under the data directory, telemetry off."""

from __future__ import annotations

import os
from pathlib import Path

from huikuan.settings import Settings

DAGSTER_YAML = """\
# Written by huikuan. Nothing phones home.
telemetry:
  enabled: false
run_monitoring:
  enabled: false
"""


def prepare_instance(settings: Settings) -> Path:
    """Create DAGSTER_HOME with a dagster.yaml that disables telemetry; export it for this process."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists() or cfg.read_text(encoding="utf-8") != DAGSTER_YAML:
        cfg.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ["DO_NOT_TRACK"] = "1"
    return home
