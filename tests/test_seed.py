"""`flask signet seed`: demo data once, and the admin login every time."""

import pytest

from portal.auth.models import User
from portal.extensions import db
from portal.parties.models import Company, Counterparty
from tests.helpers import login


def _seed(app):
    result = app.test_cli_runner().invoke(args=["signet", "seed"])
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_creates_demo_data_once_and_prints_the_login(app, monkeypatch):
    monkeypatch.setenv("SIGNET_ADMIN_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("SIGNET_ADMIN_PASSWORD", "a-long-demo-password")
    first = _seed(app)
    second = _seed(app)
    assert "boss@example.com" in first and "a-long-demo-password" in first
    assert "nothing seeded" in second and "boss@example.com" in second
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1
        companies = {c.legal_name: c for c in db.session.execute(db.select(Company)).scalars()}
        clients = {c.name: c for c in db.session.execute(db.select(Counterparty)).scalars()}
    assert sorted(companies) == ["Signet Demo Ltd", "Signet Demo, Lda.", "ООО «Сигнет Демо»"]
    assert sorted(clients) == ["Northwind Trading Ltd", "Soluções Atlântico, Lda.", "ООО «Вектор»"]
    russian = companies["ООО «Сигнет Демо»"]
    assert "Москва" in russian.address and russian.signer_name == "Петрова Анна Сергеевна"
    assert russian.phone == "+74950000001"  # stored as the company form stores it
    assert "Lisboa" in companies["Signet Demo, Lda."].address
    assert "Bristol" in companies["Signet Demo Ltd"].address
    # A template in Russian starts with the Russian company, and so on.
    assert {name: c.language for name, c in companies.items()} == {
        "Signet Demo Ltd": "en", "Signet Demo, Lda.": "pt", "ООО «Сигнет Демо»": "ru"}
    with app.app_context():
        from portal.automation.models import AutomationRule

        rules = db.session.execute(db.select(AutomationRule)).scalars().all()
        assert sorted(rule.trigger for rule in rules) == ["client_signed", "stuck"]
        assert all(rule.enabled for rule in rules)
    login(app.test_client(), "boss@example.com", "a-long-demo-password")


def test_generated_admin_password_is_kept_for_the_next_run(app, monkeypatch):
    monkeypatch.delenv("SIGNET_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SIGNET_ADMIN_EMAIL", raising=False)
    first = _seed(app)
    password = first.split("password:")[1].split()[0]
    assert password in _seed(app)
    login(app.test_client(), "admin@example.com", password)


# --- the demo requisites are well-formed: each number passes its own checksum ----------------

_ACCOUNT_WEIGHTS = (7, 1, 3)


def _inn_valid(inn: str) -> bool:
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return len(inn) == 10 and int(inn[9]) == sum(
        int(digit) * weight for digit, weight in zip(inn, weights, strict=False)) % 11 % 10


def _ogrn_valid(ogrn: str) -> bool:
    return len(ogrn) == 13 and int(ogrn[12]) == int(ogrn[:12]) % 11 % 10


def _weighted_by_713(digits: str) -> bool:
    return sum(int(d) * _ACCOUNT_WEIGHTS[i % 3] for i, d in enumerate(digits)) % 10 == 0


def _nif_valid(nif: str) -> bool:
    total = sum(int(digit) * (9 - i) for i, digit in enumerate(nif[:8]))
    check = 0 if total % 11 < 2 else 11 - total % 11
    return len(nif) == 9 and int(nif[8]) == check


def _gb_vat_valid(vat: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(vat[:7], range(8, 1, -1),
                                                             strict=True))
    return (total + int(vat[7:9])) % 97 == 0


def _iban_valid(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


@pytest.fixture
def seeded(app, monkeypatch):
    monkeypatch.setenv("SIGNET_ADMIN_PASSWORD", "a-long-demo-password")
    _seed(app)
    with app.app_context():
        companies = db.session.execute(db.select(Company)).scalars().all()
        clients = db.session.execute(db.select(Counterparty)).scalars().all()
        db.session.expunge_all()
    return companies + clients


def test_demo_requisites_pass_their_checksums(seeded):
    russian = [party for party in seeded if party.kpp]
    british = [party for party in seeded if party.tax_id.startswith("GB")]
    portuguese = [party for party in seeded if party.tax_id.startswith("PT")]
    assert (len(russian), len(british), len(portuguese)) == (2, 2, 2)
    for party in russian:
        assert _inn_valid(party.tax_id) and _ogrn_valid(party.registration_number)
        assert _weighted_by_713("0" + party.bank_code[4:6] + party.correspondent_account)
        assert _weighted_by_713(party.bank_code[-3:] + party.bank_account)
    for party in british:
        assert _gb_vat_valid(party.tax_id[2:]) and _iban_valid(party.bank_account)
    for party in portuguese:
        assert _nif_valid(party.tax_id[2:]) and party.registration_number == party.tax_id[2:]
        assert party.bank_account.startswith("PT50") and _iban_valid(party.bank_account)
    emails = [party.email for party in seeded]
    emails += [party.signer_email for party in seeded if hasattr(party, "signer_email")]
    assert all(email.endswith(".example") for email in emails)
