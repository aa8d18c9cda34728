"""`huikuan ui`: open the Dagster UI (webserver + daemon) on this project, with telemetry off."""

from __future__ import annotations

import os
import subprocess
import sys

HELP = "open the Dagster UI on this project (runs schedules and sensors while it is up)"


def add_arguments(p) -> None:
    p.add_argument("--home", help="data directory (default: $HUIKUAN_HOME, else ./data)")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--address", default="127.0.0.1")


def run(args) -> int:
    if args.home:
        os.environ["HUIKUAN_HOME"] = args.home
    from huikuan.settings import load_settings
    from pipelines.instance import prepare_instance

    settings = load_settings().ensure_dirs()
    prepare_instance(settings)
    print(f"Dagster UI: http://localhost:{args.port}  (DAGSTER_HOME={settings.dagster_home})")
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    return subprocess.call(
        [dagster, "dev", "-m", "pipelines.definitions", "-h", args.address, "-p", str(args.port)],
        env=dict(os.environ),
    )
