"""`huikuan dashboard`: serve the Streamlit dashboard on the published snapshot of this instance."""

from __future__ import annotations

import os
import subprocess
import sys

from huikuan.settings import PROJECT_ROOT

HELP = "serve the dashboard (Streamlit) on the published warehouse snapshot"
APP = PROJECT_ROOT / "dashboards" / "app.py"


def add_arguments(p) -> None:
    p.add_argument("--home", help="data directory (default: $HUIKUAN_HOME, else ./data)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="127.0.0.1", help="address to listen on (0.0.0.0 for the LAN)")


def streamlit_command(port: int, address: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]


def login_hint() -> str:
    """Make sure a users file exists and say how to sign in (the first admin's password is random)."""
    from dashboards.auth import INITIAL_PASSWORD_FILE, ensure_users_file
    from huikuan.settings import load_settings

    home = load_settings().ensure_dirs().home
    if ensure_users_file(home / "users.yml"):
        return ""  # just created: ensure_users_file has printed the admin's password
    initial = home / INITIAL_PASSWORD_FILE
    if initial.exists():
        user, password = initial.read_text(encoding="utf-8").split()[:2]
        return f"Sign in as '{user}' with password '{password}' (kept in {initial})."
    return f"Sign in with a user of {home / 'users.yml'} (add one: python -m dashboards.auth add NAME --role cfo)."


def serve(port: int = 8501, address: str = "127.0.0.1") -> int:
    hint = login_hint()
    if hint:
        print(hint)
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    print(f"Dashboard: http://{'localhost' if address in ('127.0.0.1', '0.0.0.0') else address}:{port}")
    return subprocess.call(streamlit_command(port, address), env=env)


def run(args) -> int:
    if args.home:
        os.environ["HUIKUAN_HOME"] = args.home
    return serve(args.port, args.address)
