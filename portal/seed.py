"""Demo data for the embedded default: an administrator, and for each language of the built-in
templates (English, Russian, Portuguese) a company of ours with a client of the same country,
two automation rules."""

import os
import secrets
from pathlib import Path

from flask import current_app

from portal import unit
from portal.auth.models import Department, User
from portal.auth.roles import ADMINISTRATOR, EMPLOYEE, give_role, role_by_key
from portal.automation.services import create_rule
from portal.doctemplates.builtin import install_builtin_templates
from portal.doctemplates.builtin.sources import LANGUAGES
from portal.doctemplates.sample import SAMPLE_COMPANIES, SAMPLE_COUNTERPARTIES
from portal.extensions import db
from portal.parties.services import save_company, save_counterparty

PASSWORD_FILE = "initial_admin_password"  # noqa: S105 (a file name)


def _initial_password(instance: Path) -> tuple[str, str]:
    """The admin password from the environment, or one generated and kept for `make run`."""
    if os.environ.get("SIGNET_ADMIN_PASSWORD"):
        return os.environ["SIGNET_ADMIN_PASSWORD"], "SIGNET_ADMIN_PASSWORD"
    stored = instance / PASSWORD_FILE
    if stored.exists():
        return stored.read_text().strip(), str(stored)
    password = secrets.token_urlsafe(12)
    stored.write_text(password + "\n")
    stored.chmod(0o600)
    return password, str(stored)


def seed() -> list[str]:
    """Seed once; on later runs only report how to log in."""
    instance = Path(current_app.instance_path)
    email = os.environ.get("SIGNET_ADMIN_EMAIL", "admin@example.com").strip().lower()
    password, source = _initial_password(instance)
    if db.session.execute(db.select(User).limit(1)).first() is None:
        admin = _create_demo(email, password)
        unit.commit()
        _demo_parties(admin)
        install_builtin_templates()
        _demo_rules(admin)
        head = "Seeded the demo data."
    else:
        head = "Data already present; nothing seeded."
    return [
        head,
        "",
        "  Signet admin login",
        f"    email:    {email}",
        f"    password: {password}   (initial password, from {source})",
        "",
    ]


def _create_demo(email: str, password: str) -> User:
    management = Department(name="Management")
    # Everyone in the demo tree inherits the employee's grants from the top department.
    management.roles.append(role_by_key(EMPLOYEE))
    sales = Department(name="Sales", parent=management)
    Department(name="Accounting", parent=management)
    Department(name="Key accounts", parent=sales)
    admin = User(email=email, name="Administrator", department=management)
    give_role(admin, ADMINISTRATOR)
    admin.set_password(password)
    db.session.add_all([management, admin])
    return admin


def _demo_parties(admin: User) -> None:
    """A company of ours and a client for each language of the built-in templates, through
    the same checks as the forms (the demo data is what a user could have typed)."""
    for language in LANGUAGES:
        save_company({**SAMPLE_COMPANIES[language], "language": language}, admin)
        save_counterparty(SAMPLE_COUNTERPARTIES[language], admin)


def _demo_rules(admin: User) -> None:
    """Two everyday rules, so the rules view is not empty on first look."""

    create_rule(admin, {"name": "Tell the responsible when the client signs",
                        "trigger": "client_signed", "action": "notify_responsible"})
    create_rule(admin, {"name": "Remind a client who waits 3 days", "trigger": "stuck",
                        "stage": "client_signing", "stuck_days": "3",
                        "action": "remind_signer"})
