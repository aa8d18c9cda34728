"""Dunning stage policy: which reminder stage an invoice is in, by days overdue (DESIGN.md §5)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from huikuan.settings import SEEDS_DIR

POLICY_FILE = SEEDS_DIR / "dunning_policy.csv"
POLICY_COLUMNS = (
    "stage_key",
    "stage_order",
    "min_days_overdue",
    "max_days_overdue",
    "owner_role",
    "channel",
    "action_en",
    "action_zh",
)


@dataclass(frozen=True)
class Stage:
    """One escalation step; `max_days` None means open-ended."""

    key: str
    order: int
    min_days: int
    max_days: int | None
    owner_role: str = ""
    channel: str = "email"  # the stage's main action; every stage also gets a reminder email
    action_en: str = ""
    action_zh: str = ""

    def contains(self, days_overdue: int) -> bool:
        return days_overdue >= self.min_days and (self.max_days is None or days_overdue <= self.max_days)

    @property
    def tone(self) -> str:
        """Wording used when a template has no text for this stage key: friendlier first, firmer later."""
        if self.order <= 0:
            return "reminder"
        return {1: "polite", 2: "formal"}.get(self.order, "demand")


@dataclass(frozen=True)
class DunningPolicy:
    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.stages, key=lambda s: (s.order, s.min_days)))
        keys = [s.key for s in ordered]
        if len(set(keys)) != len(keys):
            raise ValueError(f"dunning policy: duplicate stage_key in {keys}")
        for a, b in zip(ordered, ordered[1:]):
            if a.max_days is None or a.max_days >= b.min_days:
                raise ValueError(f"dunning policy: stages {a.key!r} and {b.key!r} overlap")
        object.__setattr__(self, "stages", ordered)

    def by_key(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        raise KeyError(f"no dunning stage {key!r}; known: {[s.key for s in self.stages]}")


DEFAULT_POLICY = DunningPolicy(
    (
        Stage("pre_reminder", 0, -7, 0, "salesperson", "email",
              "Friendly reminder before the due date", "到期前友好提醒"),
        Stage("stage_1", 1, 1, 15, "salesperson", "phone",
              "Owner calls the customer", "负责人电话催收"),
        Stage("stage_2", 2, 16, 30, "finance_manager", "email",
              "Manager or finance sends a formal email", "经理或财务发送正式催收函"),
        Stage("stage_3", 3, 31, None, "legal", "letter",
              "Demand letter and legal review; hold new orders",
              "发送律师函并进行法务审查；暂停新订单"),
    )
)


def _int(value: str, *, where: str, column: str, optional: bool = False) -> int | None:
    text = (value or "").strip()
    if not text:
        if optional:
            return None
        raise ValueError(f"{where}: column {column} is empty")
    try:
        return int(float(text))
    except ValueError:
        raise ValueError(f"{where}: column {column} is not a whole number: {text!r}") from None


def load_policy(path: str | Path | None = None) -> DunningPolicy:
    """The policy from `seeds/dunning_policy.csv` (or `path`); DESIGN.md defaults if the seed is absent."""
    file = Path(path) if path is not None else POLICY_FILE
    if not file.exists():
        if path is not None:
            raise FileNotFoundError(f"dunning policy file not found: {file}")
        return DEFAULT_POLICY
    with open(file, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in POLICY_COLUMNS[:4] if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{file}: missing columns {missing}; expected {list(POLICY_COLUMNS)}")
        stages = []
        for line, row in enumerate(reader, start=2):
            where = f"{file}, line {line}"
            key = (row.get("stage_key") or "").strip()
            if not key:
                raise ValueError(f"{where}: column stage_key is empty")
            stages.append(
                Stage(
                    key=key,
                    order=_int(row["stage_order"], where=where, column="stage_order"),
                    min_days=_int(row["min_days_overdue"], where=where, column="min_days_overdue"),
                    max_days=_int(row["max_days_overdue"], where=where, column="max_days_overdue",
                                  optional=True),
                    owner_role=(row.get("owner_role") or "").strip(),
                    channel=(row.get("channel") or "email").strip() or "email",
                    action_en=(row.get("action_en") or "").strip(),
                    action_zh=(row.get("action_zh") or "").strip(),
                )
            )
    if not stages:
        raise ValueError(f"{file}: no stages")
    return DunningPolicy(tuple(stages))


def stage_for(days_overdue: int, policy: DunningPolicy = DEFAULT_POLICY) -> Stage | None:
    """The stage whose range holds `days_overdue` (negative = days before the due date), else None."""
    for stage in policy.stages:
        if stage.contains(days_overdue):
            return stage
    return None
