"""Dashboard users: the users file with salted password hashes, roles, and a command to add users.

`$HUIKUAN_HOME/users.yml` holds one entry per user: display name, role, salesperson_id (sales only)
and a PBKDF2-SHA256 hash with a per-user random salt. When the file does not exist the dashboard
creates it with one `admin` (role cfo) whose random password is printed on the server console and
written to `users-initial-password.txt` (mode 0600) beside it — never a fixed, guessable password.
With an `[auth]` section in Streamlit's secrets, single sign-on (`st.login`) is offered as well; the
identity provider's email is looked up in the users file, which still decides the role.

    python -m dashboards.auth add alice --role sales --salesperson-id S001 --name "Alice Wang"
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import os
import secrets
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from huikuan.settings import load_settings

ROLES = ("cfo", "finance", "collector", "sales", "analyst")
# Roles that may record actions. Sales users own stage-1 calls, so they record promises, disputes,
# notes and contacts on their own customers' invoices (the scope is checked per action); the analyst
# only reads.
ACTING_ROLES = frozenset({"cfo", "finance", "collector", "sales"})
ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 310_000  # OWASP 2023 guidance for PBKDF2-HMAC-SHA256
USERS_FILE = "users.yml"
INITIAL_PASSWORD_FILE = "users-initial-password.txt"


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    salesperson_id: str | None = None

    @property
    def can_act(self) -> bool:
        return self.role in ACTING_ROLES

    def to_session(self) -> dict:
        return asdict(self)

    @classmethod
    def from_session(cls, value: dict) -> User:
        return cls(**value)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """`pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>` for `password` with a fresh random salt."""
    if not password:
        raise ValueError("the password is empty")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    b64 = base64.b64encode
    return f"{ALGORITHM}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches `encoded` (constant-time comparison; malformed hashes never match)."""
    try:
        algorithm, iterations, salt, digest = encoded.split("$")
        if algorithm != ALGORITHM:
            return False
        expected = base64.b64decode(digest)
        got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(got, expected)


def users_path(home: Path | None = None) -> Path:
    return (Path(home) if home else load_settings().home) / USERS_FILE


def load_users(path: Path) -> dict[str, dict]:
    """The users file as {username: entry}; a malformed entry is an error naming the user and cause."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    users = raw.get("users") if isinstance(raw, dict) else None
    if not isinstance(users, dict):
        raise ValueError(f"{path}: expected a mapping `users: {{username: {{...}}}}`")
    for name, entry in users.items():
        where = f"{path}: user {name!r}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a mapping")
        if entry.get("role") not in ROLES:
            raise ValueError(f"{where}: role {entry.get('role')!r} is not one of {', '.join(ROLES)}")
        if entry["role"] == "sales" and not entry.get("salesperson_id"):
            raise ValueError(f"{where}: a sales user needs a salesperson_id")
        if not str(entry.get("password_hash", "")).startswith(ALGORITHM + "$"):
            raise ValueError(f"{where}: password_hash missing or not {ALGORITHM}")
    return users


def save_users(path: Path, users: dict[str, dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump({"users": users}, allow_unicode=True, sort_keys=True), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def add_user(
    path: Path, username: str, password: str, role: str, display_name: str | None = None,
    salesperson_id: str | None = None, email: str | None = None,
) -> None:
    """Add or replace `username` in the users file."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role == "sales" and not salesperson_id:
        raise ValueError("a sales user needs --salesperson-id (they see only that salesperson's customers)")
    users = load_users(path) if Path(path).exists() else {}
    entry = {"display_name": display_name or username, "role": role, "password_hash": hash_password(password)}
    if salesperson_id:
        entry["salesperson_id"] = salesperson_id
    if email:
        entry["email"] = email
    users[username] = entry
    save_users(path, users)


def ensure_users_file(path: Path) -> str | None:
    """Create the users file with a random-password admin if absent; returns that password (else None)."""
    path = Path(path)
    if path.exists():
        return None
    password = secrets.token_urlsafe(12)
    add_user(path, "admin", password, "cfo", display_name="Administrator")
    secret = path.with_name(INITIAL_PASSWORD_FILE)
    secret.write_text(f"admin\n{password}\n", encoding="utf-8")
    os.chmod(secret, 0o600)
    print(
        f"huikuan dashboard: created {path} with user 'admin' (role cfo), password: {password}\n"
        f"  (also in {secret}; add real users with `python -m dashboards.auth add`, then delete it)",
        file=sys.stderr, flush=True,
    )
    return password


def authenticate(path: Path, username: str, password: str) -> User | None:
    """The user if `username`/`password` match an entry of the users file, else None."""
    entry = load_users(path).get((username or "").strip())
    if entry is None:
        verify_password(password or "x", hash_password("timing-equaliser", iterations=1000))
        return None
    if not verify_password(password or "", entry["password_hash"]):
        return None
    return User(
        username=username.strip(),
        display_name=str(entry.get("display_name") or username),
        role=entry["role"],
        salesperson_id=entry.get("salesperson_id"),
    )


def user_for_email(path: Path, email: str | None) -> User | None:
    """The users-file entry whose `email` matches an identity-provider login (case-insensitive)."""
    if not email:
        return None
    for name, entry in load_users(path).items():
        if str(entry.get("email", "")).strip().lower() == email.strip().lower():
            return User(username=name, display_name=str(entry.get("display_name") or name), role=entry["role"],
                        salesperson_id=entry.get("salesperson_id"))
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.auth", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add or replace a user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", dest="display_name")
    add.add_argument("--salesperson-id")
    add.add_argument("--email", help="identity-provider email, for single sign-on (st.login)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--file", type=Path, help="users file (default: $HUIKUAN_HOME/users.yml)")
    sub.add_parser("list", help="list users and roles").add_argument("--file", type=Path)
    args = parser.parse_args(argv)
    path = args.file or users_path()
    if args.command == "list":
        for name, entry in (load_users(path) if path.exists() else {}).items():
            print(f"{name}\t{entry['role']}\t{entry.get('salesperson_id') or ''}\t{entry.get('display_name', '')}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if password != getpass.getpass("again: "):
            print("passwords differ", file=sys.stderr)
            return 2
    try:
        add_user(path, args.username, password, args.role, args.display_name, args.salesperson_id, args.email)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: user {args.username!r} ({args.role}) saved")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
