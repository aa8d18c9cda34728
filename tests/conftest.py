"""Shared fixtures: isolated instances, the shared sample folder, and a small generated dataset."""

from __future__ import annotations

import os
import socket
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HUIKUAN_SHARED", ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# A fixed as-of date keeps generated data and expected figures reproducible.
AS_OF = date(2026, 6, 30)


def free_port() -> int:
    """A free TCP port on loopback, for servers the tests start (SMTP, Streamlit, Dagster UI)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_shared(*parts: str) -> Path:
    """Path inside ../shared; skip with a reason when absent, but fail under CI where it must exist."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"{path} is absent: the shared samples are not next to this clone"
        if IN_CI:
            pytest.fail(msg + " (CI=true: they must be there)")
        pytest.skip(msg)
    return path


@pytest.fixture
def shared_dir():
    return require_shared


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An isolated HUIKUAN_HOME for one test."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HUIKUAN_HOME", str(h))
    return h


@pytest.fixture(scope="session")
def generated_small(tmp_path_factory):
    """A small generated dataset (landing + truth), made once per test session."""
    from huikuan.generate import generate

    out = tmp_path_factory.mktemp("generated")
    generate(out=out, invoices=600, seed=7, as_of=AS_OF)
    return out
