"""Failure behaviour: killed runs, corrupt files and failed runs never break what readers see."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from huikuan.publish import connect_published, current_snapshot
from tests.conftest import AS_OF, ROOT

pytestmark = pytest.mark.slow
HUIKUAN = str(Path(sys.executable).with_name("huikuan"))


def _env(home: Path, **extra) -> dict:
    return dict(os.environ, HUIKUAN_HOME=str(home), DO_NOT_TRACK="1", **extra)


def _run(home: Path, **extra) -> subprocess.CompletedProcess:
    return subprocess.run([HUIKUAN, "run"], env=_env(home, **extra), cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


def _descendants(pid: int) -> list[str]:
    """Full command lines of every process below pid (read from /proc: `ps` may cut long lines)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # the process ended while we looked
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append((int(entry.name), args))
    found, todo = [], [pid]
    while todo:
        for child, args in children.get(todo.pop(), []):
            found.append(args)
            todo.append(child)
    return found


@pytest.fixture(scope="module")
def published_home(tmp_path_factory, generated_small):
    home = tmp_path_factory.mktemp("failures")
    (home / "huikuan.yml").write_text(f"as_of_date: '{AS_OF.isoformat()}'\n", encoding="utf-8")
    shutil.copytree(generated_small / "landing", home / "landing")
    first = _run(home)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return home


def test_run_killed_mid_build_leaves_previous_snapshot_and_next_run_succeeds(published_home):
    home = published_home
    before = current_snapshot(home / "published")
    proc = subprocess.Popen([HUIKUAN, "run"], env=_env(home), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if any("dbt" in a and "build" in a for a in _descendants(proc.pid)):
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before dbt started building"
    time.sleep(1.0)  # let dbt get into the models
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)

    assert current_snapshot(home / "published") == before
    with connect_published(home / "published") as con:
        assert con.execute("select count(*) from marts.ar_aging").fetchone()[0] > 0

    again = _run(home)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    after = current_snapshot(home / "published")
    assert after != before
    with connect_published(home / "published") as con:
        assert con.execute("select count(*) from marts.ar_aging").fetchone()[0] > 0


def test_corrupt_landing_file_fails_only_that_file_and_raises_an_alert(published_home):
    home = published_home
    bad = home / "landing" / "invoicing" / "invoices_corrupt.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(256))
    try:
        result = _run(home)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        with connect_published(home / "published") as con:
            rows = con.execute(
                "select status, reasons from raw.file_registry where source_file like '%invoices_corrupt.csv'"
            ).fetchall()
            assert rows and rows[-1][0] == "rejected" and rows[-1][1]
            assert con.execute("select count(*) from raw.invoices").fetchone()[0] > 0
        alerts = (home / "alerts.log").read_text(encoding="utf-8")
        assert "invoices_corrupt.csv" in alerts
    finally:
        bad.unlink(missing_ok=True)


def test_failed_run_keeps_snapshot_and_notifies(published_home):
    from tests.dunning.conftest import SmtpServer

    home = published_home
    before = current_snapshot(home / "published")
    smtp = SmtpServer().start()  # a real SMTP server on loopback
    try:
        # Break the dbt build: a profile target that does not exist.
        result = _run(home, HUIKUAN_DBT_TARGET="no_such_target", HUIKUAN_ALERT_EMAILS="cfo@corp.example.cn",
                      HUIKUAN_SMTP_HOST="127.0.0.1", HUIKUAN_SMTP_PORT=str(smtp.port))
    finally:
        smtp.stop()
    assert result.returncode != 0
    assert current_snapshot(home / "published") == before
    alerts = (home / "alerts.log").read_text(encoding="utf-8")
    assert "daily_job failed" in alerts
    mails = [m for m in smtp.messages if "daily_job failed" in m["Subject"]]
    assert len(mails) == 1 and mails[0]["To"] == "cfo@corp.example.cn"
    assert "previously published snapshot stays" in mails[0].get_body(("plain",)).get_content()
