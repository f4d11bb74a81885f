"""Configuration from the environment."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from portal import create_app
from portal.config import load_or_create_secret_key, normalise_database_url, parse_smtp_url


def test_smtp_url_with_starttls_and_credentials():
    settings = parse_smtp_url("smtp://mailer%40corp:p%40ss@mail.example.com:587?starttls=1")
    assert settings == {
        "SMTP_HOST": "mail.example.com",
        "SMTP_PORT": 587,
        "SMTP_USER": "mailer@corp",
        "SMTP_PASSWORD": "p@ss",
        "SMTP_SECURITY": "starttls",
    }


def test_smtps_url_defaults_to_port_465_with_tls():
    settings = parse_smtp_url("smtps://mail.example.com")
    assert settings["SMTP_PORT"] == 465
    assert settings["SMTP_SECURITY"] == "ssl"


def test_bad_smtp_scheme_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="smtp://"):
        parse_smtp_url("http://mail.example.com")


def test_postgres_urls_use_psycopg3():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_or_create_secret_key(tmp_path)
    second = load_or_create_secret_key(tmp_path)
    assert first == second
    assert len(first) >= 48
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_environment_configures_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNET_SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("SMTP_URL", "smtp://relay.example:2525")
    monkeypatch.setenv("SIGNET_BASE_URL", "https://sign.example.com/")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert (app.config["SMTP_HOST"], app.config["SMTP_PORT"]) == ("relay.example", 2525)
    assert app.config["SIGNET_BASE_URL"] == "https://sign.example.com"
    # An https base URL means the cookies must only travel over TLS.
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_embedded_default_needs_nothing(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL", "SMTP_HOST", "SIGNET_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'signet.db'}"
    assert app.config["RATELIMIT_STORAGE_URI"] == "signet-memory://"
    assert (tmp_path / "secret_key").exists()
    assert app.template_folder.endswith("templates")
    assert app.static_folder.endswith("static")


def _make_run_links(port: str, **env) -> str:
    root = Path(__file__).resolve().parent.parent
    environment = {key: value for key, value in os.environ.items()
                   if key != "SIGNET_BASE_URL"}
    environment.update(env)
    printed = subprocess.run(["make", "-n", "run", f"PORT={port}"], cwd=root, env=environment,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    return next(line for line in printed.splitlines() if "Links in mail" in line)


def test_make_run_builds_links_from_its_own_port_unless_told():
    assert "http://127.0.0.1:5093\"" in _make_run_links("5093")
    assert "https://sign.example.com\"" in _make_run_links(
        "5093", SIGNET_BASE_URL="https://sign.example.com")
