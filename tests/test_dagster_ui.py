"""`huikuan ui` opens the Dagster UI on this project, with the instance's telemetry off."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow



def test_ui_serves_the_project_with_telemetry_off(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    env = dict(os.environ, HUIKUAN_HOME=str(home), DO_NOT_TRACK="1")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("huikuan")), "ui", "--port", str(port)],
                            env=env, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body, deadline = None, time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert body is not None, f"the UI did not answer; exit={proc.poll()}"
        assert "dagster_webserver_version" in body
        # the code location loads the project's definitions
        query = b'{"query":"{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"}'
        req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=query,
                                     headers={"Content-Type": "application/json"})
        jobs, deadline = "", time.time() + 120
        while time.time() < deadline and "daily_job" not in jobs:
            with urllib.request.urlopen(req, timeout=30) as r:
                jobs = r.read().decode()
            time.sleep(1)
        assert "daily_job" in jobs and "retrain_job" in jobs
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    config = yaml.safe_load((home / "dagster" / "dagster.yaml").read_text(encoding="utf-8"))
    assert config["telemetry"]["enabled"] is False
