"""Users file, password hashing and the login flow."""

from __future__ import annotations

import stat

import pytest
import yaml

from dashboards import auth
from tests.dashboard.conftest import PASSWORDS, app_as


def test_hash_is_salted_and_verifies():
    a, b = auth.hash_password("s3cret", iterations=1000), auth.hash_password("s3cret", iterations=1000)
    assert a != b and a.startswith("pbkdf2_sha256$1000$")
    assert auth.verify_password("s3cret", a) and auth.verify_password("s3cret", b)
    assert not auth.verify_password("s3cret!", a)
    assert not auth.verify_password("s3cret", "md5$whatever")
    assert not auth.verify_password("s3cret", "garbage")


def test_load_users_names_the_bad_entry(tmp_path):
    p = tmp_path / "users.yml"
    p.write_text(yaml.safe_dump({"users": {"bob": {"role": "boss", "password_hash": "pbkdf2_sha256$1$a$b"}}}))
    with pytest.raises(ValueError, match="user 'bob': role 'boss'"):
        auth.load_users(p)
    p.write_text(yaml.safe_dump({"users": {"sam": {"role": "sales", "password_hash": "pbkdf2_sha256$1$a$b"}}}))
    with pytest.raises(ValueError, match="user 'sam': a sales user needs a salesperson_id"):
        auth.load_users(p)


def test_first_start_creates_random_admin_readable_only_by_owner(tmp_path):
    p = tmp_path / "users.yml"
    password = auth.ensure_users_file(p)
    assert password and len(password) >= 12
    assert auth.ensure_users_file(p) is None  # never replaced once it exists
    users = auth.load_users(p)
    assert users["admin"]["role"] == "cfo"
    assert password not in p.read_text()
    for f in (p, tmp_path / auth.INITIAL_PASSWORD_FILE):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert auth.authenticate(p, "admin", password).role == "cfo"
    assert auth.authenticate(p, "admin", "admin") is None
    assert auth.authenticate(p, "nobody", password) is None


def test_cli_adds_a_sales_user(tmp_path, monkeypatch, capsys):
    p = tmp_path / "users.yml"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("pw-123\n"))
    assert auth.main(["add", "li", "--role", "sales", "--salesperson-id", "S09", "--name", "李雷",
                      "--password-stdin", "--file", str(p)]) == 0
    user = auth.authenticate(p, "li", "pw-123")
    assert (user.role, user.salesperson_id, user.display_name) == ("sales", "S09", "李雷")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("pw\n"))
    assert auth.main(["add", "x", "--role", "sales", "--password-stdin", "--file", str(p)]) == 2
    assert "salesperson-id" in capsys.readouterr().err


def test_login_flow_signs_in_and_out(fixture_home):
    at = app_as(None)
    at.run()
    assert not at.exception
    assert not at.metric  # nothing but the login form before signing in
    at.text_input(key="login_username").input("collector")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click().run()
    assert at.error and not at.metric
    at.text_input(key="login_username").input("collector")
    at.text_input(key="login_password").input(PASSWORDS["collector"])
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["auth_user"]["role"] == "collector"
    assert at.metric  # the overview
    at.button(key="logout").click().run()
    assert "auth_user" not in at.session_state
    assert not at.metric


def test_single_sign_on_email_maps_to_a_users_file_entry(tmp_path):
    p = tmp_path / "users.yml"
    auth.add_user(p, "wang", "pw", "collector", "王芳", email="Wang.Fang@example.com")
    assert auth.user_for_email(p, "wang.fang@example.com").role == "collector"
    assert auth.user_for_email(p, "someone@example.com") is None
    assert auth.user_for_email(p, None) is None


def test_no_sso_button_without_an_auth_secret(fixture_home):
    at = app_as(None)
    at.run()
    assert not at.exception
    assert "sso_login" not in [b.key for b in at.button]


def test_sso_button_offered_when_auth_is_configured(fixture_home):
    at = app_as(None)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "huikuan", "client_secret": "s",
                          "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert "sso_login" in [b.key for b in at.button]
