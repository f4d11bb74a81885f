"""Configuration: defaults, then the environment, then explicit overrides."""

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = REPO_ROOT / "instance"
LANGUAGES = {"en": "English", "ru": "Русский", "pt": "Português"}


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def instance_path():
    return Path(os.environ.get("SIGNET_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH).resolve()


def load_or_create_secret_key(folder: Path) -> str:
    """Read the secret key from the instance folder, generating it on first start."""
    key_file = folder / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    folder.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def parse_smtp_url(url: str) -> dict:
    """smtp://user:pass@host:port (STARTTLS with ?starttls=1) or smtps://... for implicit TLS."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, got {parts.scheme!r}")
    security = "ssl" if parts.scheme == "smtps" else "none"
    if "starttls" in parts.query and "starttls=0" not in parts.query:
        security = "starttls"
    return {
        "SMTP_HOST": parts.hostname or "localhost",
        "SMTP_PORT": parts.port or (465 if security == "ssl" else 25),
        "SMTP_USER": unquote(parts.username or ""),
        "SMTP_PASSWORD": unquote(parts.password or ""),
        "SMTP_SECURITY": security,
    }


def _smtp_settings() -> dict:
    timeout = {"SMTP_TIMEOUT": _env_int("SMTP_TIMEOUT", 15)}
    if os.environ.get("SMTP_URL"):
        return parse_smtp_url(os.environ["SMTP_URL"]) | timeout
    return timeout | {
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _env_int("SMTP_PORT", 25),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_SECURITY": os.environ.get("SMTP_SECURITY", "none"),
    }


def _sms_settings() -> dict:
    """The HTTP SMS gateway; without SMS_GATEWAY_URL texts go to the outbox only."""
    return {
        "SMS_GATEWAY_URL": os.environ.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_METHOD": os.environ.get("SMS_GATEWAY_METHOD", "POST").upper(),
        # {to} and {text} are escaped to suit SMS_GATEWAY_CONTENT_TYPE (JSON, form or plain).
        "SMS_GATEWAY_BODY": os.environ.get("SMS_GATEWAY_BODY", '{"to": "{to}", "text": "{text}"}'),
        "SMS_GATEWAY_CONTENT_TYPE": os.environ.get("SMS_GATEWAY_CONTENT_TYPE", "application/json"),
        # One header line, e.g. "Authorization: Bearer <token>".
        "SMS_GATEWAY_AUTH_HEADER": os.environ.get("SMS_GATEWAY_AUTH_HEADER", ""),
        "SMS_GATEWAY_TIMEOUT": _env_int("SMS_GATEWAY_TIMEOUT", 15),
    }


def _oidc_discovery_url() -> str:
    """SIGNET_OIDC_DISCOVERY_URL, else the issuer's well-known document."""
    url = os.environ.get("SIGNET_OIDC_DISCOVERY_URL", "").strip()
    issuer = os.environ.get("SIGNET_OIDC_ISSUER", "").strip().rstrip("/")
    if not url and issuer:
        url = f"{issuer}/.well-known/openid-configuration"
    return url


def _oidc_settings() -> dict:
    """Single sign-on with OpenID Connect (off without a discovery URL and a client id)."""
    return {
        "SIGNET_OIDC_DISCOVERY_URL": _oidc_discovery_url(),
        "SIGNET_OIDC_CLIENT_ID": os.environ.get("SIGNET_OIDC_CLIENT_ID", "").strip(),
        "SIGNET_OIDC_CLIENT_SECRET": os.environ.get("SIGNET_OIDC_CLIENT_SECRET", ""),
        "SIGNET_OIDC_SCOPES": os.environ.get("SIGNET_OIDC_SCOPES", "").strip()
        or "openid email profile",
        "SIGNET_OIDC_NAME": os.environ.get("SIGNET_OIDC_NAME", "").strip() or "SSO",
        "SIGNET_OIDC_EMAIL_CLAIM": os.environ.get("SIGNET_OIDC_EMAIL_CLAIM", "").strip()
        or "email",
        "SIGNET_OIDC_NAME_CLAIM": os.environ.get("SIGNET_OIDC_NAME_CLAIM", "").strip() or "name",
        "SIGNET_OIDC_GROUPS_CLAIM": os.environ.get("SIGNET_OIDC_GROUPS_CLAIM", "").strip(),
        # e.g. "signet-admins=role:Administrator; sales=department:Sales,role:Employee"
        "SIGNET_OIDC_GROUP_MAP": os.environ.get("SIGNET_OIDC_GROUP_MAP", ""),
        "SIGNET_OIDC_CREATE_USERS": _env_bool("SIGNET_OIDC_CREATE_USERS"),
        "SIGNET_OIDC_DEFAULT_ROLE": os.environ.get("SIGNET_OIDC_DEFAULT_ROLE", "").strip()
        or "employee",
        "SIGNET_OIDC_TIMEOUT": float(os.environ.get("SIGNET_OIDC_TIMEOUT") or 10),
        # Off: only the break-glass accounts may still sign in with a password.
        "SIGNET_PASSWORD_LOGIN": _env_bool("SIGNET_PASSWORD_LOGIN", True),
        "SIGNET_BREAK_GLASS_EMAILS": [
            email.lower() for email in
            os.environ.get("SIGNET_BREAK_GLASS_EMAILS", "").replace(",", " ").split()
        ],
    }


def _default_database_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'signet.db'}"


def normalise_database_url(url: str) -> str:
    """Let people paste the usual postgres:// URL; we drive it with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def build_config(folder: Path) -> dict:
    """Everything the app reads, from the environment with sensible embedded defaults."""
    base_url = os.environ.get("SIGNET_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    config = {
        "SECRET_KEY": os.environ.get("SIGNET_SECRET_KEY") or load_or_create_secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            os.environ.get("DATABASE_URL") or _default_database_url(folder)
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # SQLite: how long a write waits for the lock before "database is locked". Above the
        # longest writer: 8 creates from a template take ~3 s in a row here, and an upload
        # holds the lock while it is checked (up to SIGNET_FILE_TIMEOUT).
        "SIGNET_SQLITE_TIMEOUT": float(os.environ.get("SIGNET_SQLITE_TIMEOUT") or 30),
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "SIGNET_BASE_URL": base_url,
        "SIGNET_MAIL_FROM": os.environ.get("SIGNET_MAIL_FROM", "Signet <signet@localhost>"),
        "SIGNET_PHONE_REGION": os.environ.get("SIGNET_PHONE_REGION", "").upper() or None,
        "SIGNET_TRUST_PROXY": _env_int("SIGNET_TRUST_PROXY", 0),
        # Failed logins: per account and address, and per address whatever the account (a shared
        # office address must not lock everyone out). After SIGNET_LOGIN_FREE_FAILURES in a row
        # on an account, attempts from browsers it never signed in from wait 2, 4, 8 ... seconds,
        # up to SIGNET_LOGIN_MAX_DELAY_SECONDS.
        "SIGNET_LOGIN_LIMIT": os.environ.get("SIGNET_LOGIN_LIMIT", "5 per minute;20 per hour"),
        "SIGNET_LOGIN_ADDRESS_LIMIT": os.environ.get(
            "SIGNET_LOGIN_ADDRESS_LIMIT", "30 per minute;200 per hour"
        ),
        "SIGNET_LOGIN_FREE_FAILURES": _env_int("SIGNET_LOGIN_FREE_FAILURES", 10),
        "SIGNET_LOGIN_MAX_DELAY_SECONDS": _env_int("SIGNET_LOGIN_MAX_DELAY_SECONDS", 300),
        # Two-factor sign-in: wrong codes (authenticator, recovery, passkey) are limited per
        # account and per address; after SIGNET_SECOND_FACTOR_TRIES wrong codes, or
        # SIGNET_SECOND_FACTOR_MINUTES after the password, the password is asked again.
        "SIGNET_SECOND_FACTOR_LIMIT": os.environ.get(
            "SIGNET_SECOND_FACTOR_LIMIT", "5 per minute;20 per hour"
        ),
        "SIGNET_SECOND_FACTOR_ADDRESS_LIMIT": os.environ.get(
            "SIGNET_SECOND_FACTOR_ADDRESS_LIMIT", "30 per minute;200 per hour"
        ),
        "SIGNET_SECOND_FACTOR_TRIES": _env_int("SIGNET_SECOND_FACTOR_TRIES", 5),
        "SIGNET_SECOND_FACTOR_MINUTES": _env_int("SIGNET_SECOND_FACTOR_MINUTES", 5),
        # A staff session ends after this long without a request, and this long after sign-in.
        "SIGNET_SESSION_IDLE_MINUTES": _env_int("SIGNET_SESSION_IDLE_MINUTES", 120),
        "SIGNET_SESSION_HOURS": _env_int("SIGNET_SESSION_HOURS", 12),
        # Sign-ins, failures and access changes are kept this long in the security log.
        "SIGNET_SECURITY_LOG_DAYS": _env_int("SIGNET_SECURITY_LOG_DAYS", 365),
        "SIGNET_INVITE_DAYS": _env_int("SIGNET_INVITE_DAYS", 7),
        "SIGNET_INVITE_LIMIT": os.environ.get("SIGNET_INVITE_LIMIT", "20 per minute"),
        # Per API token (requests without a valid token: per address).
        "SIGNET_API_LIMIT": os.environ.get("SIGNET_API_LIMIT", "120 per minute"),
        "SIGNET_STAMP_MAX_BYTES": _env_int("SIGNET_STAMP_MAX_KB", 2048) * 1024,
        "MAX_CONTENT_LENGTH": _env_int("SIGNET_UPLOAD_MAX_MB", 20) * 1024 * 1024 + 64 * 1024,
        "SIGNET_UPLOAD_MAX_BYTES": _env_int("SIGNET_UPLOAD_MAX_MB", 20) * 1024 * 1024,
        "SIGNET_MAX_PAGES": _env_int("SIGNET_MAX_PAGES", 200),
        # Bulk sending: the spreadsheet of clients (CSV or XLSX) and what one batch may hold.
        "SIGNET_BULK_MAX_BYTES": _env_int("SIGNET_BULK_MAX_MB", 5) * 1024 * 1024,
        "SIGNET_BULK_MAX_ROWS": _env_int("SIGNET_BULK_MAX_ROWS", 1000),
        "SIGNET_BULK_MAX_COLUMNS": _env_int("SIGNET_BULK_MAX_COLUMNS", 100),
        "SIGNET_BULK_MAX_CELL_CHARS": _env_int("SIGNET_BULK_MAX_CELL_CHARS", 2000),
        # A row claimed this long ago belongs to a dead worker; a running batch silent this
        # long lost its job (the sweep queues it again).
        "SIGNET_BULK_ROW_LEASE_SECONDS": _env_int("SIGNET_BULK_ROW_LEASE_SECONDS", 300),
        "SIGNET_BULK_STALLED_SECONDS": _env_int("SIGNET_BULK_STALLED_SECONDS", 120),
        # Runs queued per batch: up to this many workers create and send its rows side by side.
        "SIGNET_BULK_RUNS": _env_int("SIGNET_BULK_RUNS", 2),
        "SIGNET_IMAGE_MAX_PIXELS": _env_int("SIGNET_IMAGE_MAX_MEGAPIXELS", 40) * 1_000_000,
        # Every parse of a file the portal did not make (upload checks, page images, template
        # renders, burn-in) runs in a child process killed past these seconds / megabytes.
        "SIGNET_FILE_TIMEOUT": float(os.environ.get("SIGNET_FILE_TIMEOUT") or 15),
        "SIGNET_FILE_MEMORY_MB": _env_int("SIGNET_FILE_MEMORY_MB", 768),  # as pdfs/bounded.py
        "SIGNET_DEADLINE_DAYS": _env_int("SIGNET_DEADLINE_DAYS", 30),
        # The pipeline board highlights a card that has waited longer than this in its stage.
        "SIGNET_STUCK_DAYS": _env_int("SIGNET_STUCK_DAYS", 3),
        "SIGNET_SIGNING_LIMIT": os.environ.get("SIGNET_SIGNING_LIMIT", "60 per minute"),
        # Codes a public link's visitors may ask for from one IP address (each sends a message).
        "SIGNET_PUBLIC_LINK_CODE_LIMIT": os.environ.get("SIGNET_PUBLIC_LINK_CODE_LIMIT",
                                                        "10 per hour"),
        # The signing session a confirmed code opens in that browser lasts this long at most.
        "SIGNET_CEREMONY_MINUTES": _env_int("SIGNET_CEREMONY_MINUTES", 60),
        # A bulk batch's one signing link for our company's signer works this long.
        "SIGNET_BUNDLE_DAYS": _env_int("SIGNET_BUNDLE_DAYS", 30),
        "SIGNET_SIGNING_IMAGE_LIMIT": os.environ.get(
            "SIGNET_SIGNING_IMAGE_LIMIT", "300 per minute"
        ),
        # RFC 3161 time-stamping authorities, tried in order (space or comma separated).
        "SIGNET_TSA_URLS": [
            url for url in os.environ.get("SIGNET_TSA_URLS", "").replace(",", " ").split() if url
        ],
        # PEM file(s) with the roots of those authorities, so the verify page can trust the time.
        "SIGNET_TSA_ROOTS": os.environ.get("SIGNET_TSA_ROOTS", ""),
        "SIGNET_SEAL_LOCATION": os.environ.get("SIGNET_SEAL_LOCATION", ""),
        # A final PDF gets an archive time stamp when its last one's certificate ends this soon.
        "SIGNET_RESTAMP_DAYS": _env_int("SIGNET_RESTAMP_DAYS", 365),
        "SIGNET_VERIFY_LIMIT": os.environ.get("SIGNET_VERIFY_LIMIT", "20 per minute;200 per day"),
        # Each verification runs in a child process killed past this many seconds / megabytes.
        "SIGNET_VERIFY_TIMEOUT": float(os.environ.get("SIGNET_VERIFY_TIMEOUT") or 15),
        "SIGNET_VERIFY_MEMORY_MB": _env_int("SIGNET_VERIFY_MEMORY_MB", 768),
        "SIGNET_ATTACH_MAX_BYTES": _env_int("SIGNET_ATTACH_MAX_MB", 10) * 1024 * 1024,
        # Reminders to the signer whose turn it is: first after N days, then every M (0: none).
        "SIGNET_REMIND_AFTER_DAYS": _env_int("SIGNET_REMIND_AFTER_DAYS", 2),
        "SIGNET_REMIND_EVERY_DAYS": _env_int("SIGNET_REMIND_EVERY_DAYS", 2),
        # The periodic sweep (reminders, expiry, stuck sealing and mail): RQ schedules it with
        # Redis, a timer thread in the web process runs it without; 0 turns it off.
        "SIGNET_SWEEP_SECONDS": _env_int("SIGNET_SWEEP_SECONDS", 300),
        # Retention: documents handled per action and purge run (the next run takes the rest).
        "SIGNET_RETENTION_BATCH": _env_int("SIGNET_RETENTION_BATCH", 200),
        # A worker's scheduler lock lapses this long after the worker died; another takes over.
        "SIGNET_SCHEDULER_LOCK_SECONDS": _env_int("SIGNET_SCHEDULER_LOCK_SECONDS", 30),
        # Automation: how deep rules may set off rules, and the waits between retries.
        "SIGNET_AUTOMATION_MAX_DEPTH": _env_int("SIGNET_AUTOMATION_MAX_DEPTH", 3),
        "SIGNET_RETRY_SECONDS": [
            int(part) for part in
            os.environ.get("SIGNET_RETRY_SECONDS", "30,120,600,1800,7200").replace(",", " ").split()
        ],
        # Outbox messages: the waits between tries (the last one repeats), and the window after
        # which a message is failed for good: this many tries, or this many hours since it was
        # queued, whichever ends first. A claimed message not settled within the lease (its
        # worker died) is taken over by the next try; keep it above the slowest send.
        "SIGNET_MESSAGE_RETRY_SECONDS": [
            int(part) for part in os.environ.get(
                "SIGNET_MESSAGE_RETRY_SECONDS", "10,30,60,300,900,1800,3600"
            ).replace(",", " ").split()
        ],
        "SIGNET_MESSAGE_ATTEMPTS": _env_int("SIGNET_MESSAGE_ATTEMPTS", 30),
        "SIGNET_MESSAGE_GIVE_UP_HOURS": float(os.environ.get("SIGNET_MESSAGE_GIVE_UP_HOURS") or 24),
        "SIGNET_MESSAGE_LEASE_SECONDS": _env_int("SIGNET_MESSAGE_LEASE_SECONDS", 300),
        "SIGNET_WEBHOOK_TIMEOUT": float(os.environ.get("SIGNET_WEBHOOK_TIMEOUT") or 10),
        # Finished rule runs and webhook deliveries (with their payloads) are kept this long.
        "SIGNET_AUTOMATION_LOG_DAYS": _env_int("SIGNET_AUTOMATION_LOG_DAYS", 90),
        # Zip files of the vault's bulk download (default <instance>/bundles); kept one day.
        "SIGNET_BUNDLE_DIR": os.environ.get("SIGNET_BUNDLE_DIR", ""),
        # Stored files (default <instance>/blobs) and the page-image cache (default
        # <instance>/previews, safe to delete); the signing pages' draft previews are pruned
        # to this many megabytes.
        "SIGNET_BLOB_DIR": os.environ.get("SIGNET_BLOB_DIR", ""),
        "SIGNET_PREVIEW_DIR": os.environ.get("SIGNET_PREVIEW_DIR", ""),
        "SIGNET_DRAFT_CACHE_MB": _env_int("SIGNET_DRAFT_CACHE_MB", 256),
        "BABEL_DEFAULT_LOCALE": os.environ.get("SIGNET_DEFAULT_LOCALE", "en"),
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("SIGNET_TIMEZONE", "UTC"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SIGNET_SECURE_COOKIES", base_url.startswith("https://")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _env_bool(
            "SIGNET_SECURE_COOKIES", base_url.startswith("https://")
        ),
        # A form left open for hours (a long signing session) must still submit.
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_HEADERS_ENABLED": True,
        "SIGNET_REQUIRE_SERVICES": _env_bool("SIGNET_REQUIRE_SERVICES"),
    }
    config.update(_smtp_settings())
    config.update(_sms_settings())
    config.update(_oidc_settings())
    return config
