"""Where everything lives and how it is configured: one data directory plus an optional settings file.

All state (landing folder, warehouse, published snapshots, operational store, models) lives under
`HUIKUAN_HOME` (default `./data`). Settings come from `$HUIKUAN_HOME/huikuan.yml` if present, then
`HUIKUAN_*` environment variables; defaults run with zero configuration on an embedded DuckDB.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from datetime import date, timedelta
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = PROJECT_ROOT / "seeds"


@dataclass(frozen=True)
class Settings:
    home: Path
    reporting_currency: str = "CNY"
    language: str = "zh"  # dashboard default: zh or en
    timezone: str = "Asia/Shanghai"
    keep_snapshots: int = 5
    max_file_mb: int = 4096  # landing files above this are rejected
    dbt_target: str = "duckdb"  # dbt profile target of the pipeline build (Spark builds: docs/warehouse.md)
    as_of_date: str = ""  # YYYY-MM-DD the reports are as of; empty means today
    dunning_mode: str = "dry_run"  # dry_run (write .eml to outbox/), send (SMTP), or off
    alert_emails: str = ""  # comma-separated recipients of failure alerts (SMTP from HUIKUAN_SMTP_*)
    # 0: each run reconciles the whole bank history; N: only the lines booked in the last N days
    # (older results stand; ERP clearings from before the window are taken as they are)
    reconcile_days: int = 0
    # DuckDB's memory for the dashboard's read-only connection to the published snapshot (its cache of
    # the snapshot's blocks is bounded by it)
    dashboard_memory: str = "4GB"

    @property
    def as_of(self) -> date:
        """The date the warehouse reports as of (configured, else today)."""
        return date.fromisoformat(self.as_of_date) if self.as_of_date else date.today()

    @property
    def reconcile_since(self) -> date | None:
        """First booking date the daily reconciliation works on (None: the whole history)."""
        return self.as_of - timedelta(days=self.reconcile_days) if self.reconcile_days > 0 else None

    @property
    def alert_recipients(self) -> list[str]:
        return [a.strip() for a in self.alert_emails.split(",") if a.strip()]

    @property
    def alerts_log(self) -> Path:
        return self.home / "alerts.log"

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        """The build file: only the pipeline opens it, and only to write."""
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def ops_path(self) -> Path:
        """Operational store (SQLite, WAL): user actions, never rebuilt."""
        return self.home / "ops" / "ops.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def dbt_target_dir(self) -> Path:
        return self.home / "dbt" / "target"

    def ensure_dirs(self) -> Settings:
        for d in (
            self.landing_dir,
            self.warehouse_dir,
            self.published_dir,
            self.ops_path.parent,
            self.models_dir,
            self.dagster_home,
        ):
            d.mkdir(parents=True, exist_ok=True)
        return self


_ENV_PREFIX = "HUIKUAN_"
_MEMORY_SIZE = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)


def load_settings(home: str | os.PathLike | None = None) -> Settings:
    """Settings for the instance at `home` (default: $HUIKUAN_HOME, else ./data)."""
    home_path = Path(home or os.environ.get("HUIKUAN_HOME") or "data").resolve()
    values: dict = {}
    settings_file = home_path / "huikuan.yml"
    if settings_file.exists():
        loaded = yaml.safe_load(settings_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{settings_file}: expected a mapping of setting: value")
        values.update(loaded)
    known = {f.name: f.type for f in fields(Settings) if f.name != "home"}
    for name in known:
        env = os.environ.get(_ENV_PREFIX + name.upper())
        if env is not None:
            values[name] = env
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"{settings_file}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
    for name in ("keep_snapshots", "max_file_mb", "reconcile_days"):
        if name in values:
            values[name] = int(values[name])
    if values.get("as_of_date"):
        try:
            date.fromisoformat(str(values["as_of_date"]))
        except ValueError:
            raise ValueError(f"as_of_date must be YYYY-MM-DD, not {values['as_of_date']!r}") from None
        values["as_of_date"] = str(values["as_of_date"])
    if "dashboard_memory" in values:
        values["dashboard_memory"] = str(values["dashboard_memory"]).strip()
        if not _MEMORY_SIZE.fullmatch(values["dashboard_memory"]):
            raise ValueError(f"dashboard_memory must be a size such as 4GB or 512MB, not {values['dashboard_memory']!r}")
    if values.get("dunning_mode", "dry_run") not in ("dry_run", "send", "off"):
        raise ValueError(f"dunning_mode must be dry_run, send or off, not {values['dunning_mode']!r}")
    return Settings(home=home_path, **values)
