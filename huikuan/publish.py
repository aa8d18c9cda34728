"""Publishing: turn the finished build file into an immutable, read-only snapshot for the dashboard.

The pipeline writes `warehouse/warehouse.duckdb`; readers never open it. Publishing copies it to
`published/warehouse-<stamp>.duckdb` under a temporary name, renames it into place, then switches the
`published/CURRENT` pointer with an atomic rename. A reader therefore sees either the old snapshot or
the new one, never a half-written file; a failed or blocked run never reaches this step, so the last
good snapshot stays. The newest `keep` snapshots are kept.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

POINTER = "CURRENT"
PREFIX = "warehouse-"
SUFFIX = ".duckdb"


class NoSnapshotError(FileNotFoundError):
    """Nothing has been published yet."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    published_at: float


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(warehouse: Path, published_dir: Path, keep: int = 5, *, link: bool = False) -> Snapshot:
    """Publish `warehouse` as a new snapshot and point readers at it; returns the new snapshot.

    `link=True` hard-links the file instead of copying it: only for a warehouse file that is never
    written again (a benchmark publishing a finished multi-gigabyte build on the same filesystem).
    """
    warehouse = Path(warehouse)
    published_dir = Path(published_dir)
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse}: no warehouse has been built yet")
    published_dir.mkdir(parents=True, exist_ok=True)

    # Fold the write-ahead log into the file so the copy is complete on its own.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CHECKPOINT")

    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 1_000_000_000:09d}"
    final = published_dir / f"{PREFIX}{stamp}{SUFFIX}"
    tmp = published_dir / f".{final.name}.tmp"
    if link:
        os.link(warehouse, tmp)
    else:
        shutil.copyfile(warehouse, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    # Prove the copy opens before anyone is pointed at it.
    with duckdb.connect(str(tmp), read_only=True) as con:
        con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
    os.replace(tmp, final)

    pointer_tmp = published_dir / f".{POINTER}.tmp"
    pointer_tmp.write_text(final.name + "\n", encoding="ascii")
    os.replace(pointer_tmp, published_dir / POINTER)
    _fsync_dir(published_dir)

    prune(published_dir, keep=keep)
    return Snapshot(path=final, published_at=final.stat().st_mtime)


def current_snapshot(published_dir: Path) -> Path:
    """Path of the snapshot readers should open now."""
    pointer = Path(published_dir) / POINTER
    try:
        name = pointer.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise NoSnapshotError(f"{published_dir}: nothing published yet — run the pipeline first") from None
    path = Path(published_dir) / name
    if not path.exists():
        raise NoSnapshotError(f"{pointer} names {name}, which does not exist")
    return path


def snapshots(published_dir: Path) -> list[Path]:
    """Published snapshots, oldest first."""
    return sorted(Path(published_dir).glob(f"{PREFIX}*{SUFFIX}"))


def prune(published_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` snapshots (never the current one)."""
    keep = max(int(keep), 1)
    try:
        current = current_snapshot(published_dir)
    except NoSnapshotError:
        current = None
    removed = []
    for path in snapshots(published_dir)[:-keep]:
        if path != current:
            path.unlink(missing_ok=True)
            removed.append(path)
    for stale in Path(published_dir).glob(f".{PREFIX}*.tmp"):
        stale.unlink(missing_ok=True)  # left by a run killed while copying
    return removed


def connect_published(published_dir: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current snapshot (the only way the dashboard reads data)."""
    return duckdb.connect(str(current_snapshot(published_dir)), read_only=True)
