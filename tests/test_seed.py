"""`flask signet seed`: demo data once, and the admin login every time."""

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
        company = db.session.execute(db.select(Company)).scalar_one()
        assert company.tax_id and company.bank_account and company.signer_name
        counterparties = db.session.execute(db.select(Counterparty)).scalars().all()
    assert sorted(c.kind for c in counterparties) == ["company", "company", "person"]
    assert any("Вектор" in c.name for c in counterparties)
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
