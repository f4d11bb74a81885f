"""Demo data for the embedded default: an administrator, a company, three counterparties,
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
from portal.extensions import db
from portal.parties.models import Company, Counterparty
from portal.parties.search import search_text_for

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
        _create_demo(email, password)
        unit.commit()
        install_builtin_templates()
        _demo_rules(db.session.scalar(db.select(User).where(User.email == email)))
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


def _create_demo(email: str, password: str) -> None:
    management = Department(name="Management")
    # Everyone in the demo tree inherits the employee's grants from the top department.
    management.roles.append(role_by_key(EMPLOYEE))
    sales = Department(name="Sales", parent=management)
    Department(name="Accounting", parent=management)
    Department(name="Key accounts", parent=sales)
    admin = User(email=email, name="Administrator", department=management)
    give_role(admin, ADMINISTRATOR)
    admin.set_password(password)
    db.session.add_all([management, admin, _demo_company(), *_demo_counterparties()])


def _demo_rules(admin: User) -> None:
    """Two everyday rules, so the rules view is not empty on first look."""

    create_rule(admin, {"name": "Tell the responsible when the client signs",
                        "trigger": "client_signed", "action": "notify_responsible"})
    create_rule(admin, {"name": "Remind a client who waits 3 days", "trigger": "stuck",
                        "stage": "client_signing", "stuck_days": "3",
                        "action": "remind_signer"})


def _demo_company() -> Company:
    return Company(
        legal_name="Signet Demo LLC",
        short_name="Signet Demo",
        email="office@signet-demo.example",
        phone="+74951234567",
        tax_id="7707083893",
        kpp="770701001",
        registration_number="1027700132195",
        address="Moscow, Tverskaya st. 1, office 10",
        bank_name="PJSC Sberbank",
        bank_account="40702810900000000001",
        correspondent_account="30101810400000000225",
        bank_code="044525225",
        signer_name="Anna Petrova",
        signer_position="Director",
        signer_email="director@signet-demo.example",
        signer_phone="+79161234567",
    )


def _demo_counterparties() -> list[Counterparty]:
    people = [
        Counterparty(
            kind="person",
            name="Maria Silva",
            email="maria.silva@example.com",
            phone="+351912345678",
        ),
        Counterparty(
            kind="company",
            name="Northwind Trading Ltd",
            representative_name="John Carter",
            representative_position="CEO",
            email="contracts@northwind.example",
            phone="+442079460000",
            tax_id="GB123456789",
            registration_number="01234567",
            address="221 King's Road, London SW3 5EP",
            bank_name="Barclays Bank",
            bank_account="GB29NWBK60161331926819",
            bank_code="BARCGB22",
        ),
        Counterparty(
            kind="company",
            name="ООО «Вектор»",
            representative_name="Иванов Иван Иванович",
            representative_position="Генеральный директор",
            email="info@vektor.example",
            phone="+78123334455",
            tax_id="7812345678",
            kpp="781201001",
            registration_number="1157847000001",
            address="Санкт-Петербург, Невский пр., д. 28",
            bank_name="АО «Банк Северный»",
            bank_account="40702810555000001234",
            correspondent_account="30101810500000000653",
            bank_code="044030653",
        ),
    ]
    for counterparty in people:
        counterparty.search_text = search_text_for(counterparty)
    return people
