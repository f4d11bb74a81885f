"""Template services: default layouts, the shipped set, and what the documents area relies on."""

import pytest

from portal.doctemplates.builtin import install_builtin_templates
from portal.doctemplates.layout import LayoutRefused
from portal.doctemplates.models import DocumentTemplate
from portal.doctemplates.services import (
    TemplateInvalid,
    TemplateLocked,
    active_templates,
    save_default_layout,
    save_template,
    set_active,
)
from portal.extensions import db
from tests.factories import make_user

FIXED = {"role": "client", "type": "signature", "page": 1, "x": 0.1, "y": 0.8, "w": 0.3,
         "h": 0.05, "required": True, "label": "Sign here"}
ANCHORED = {"role": "company", "type": "stamp", "anchor": "company.stamp", "dx": -0.02,
            "dy": 0.01, "w": 0.15, "required": False, "label": ""}


def _template(**fields) -> DocumentTemplate:
    fields = {"name": "T", "kind": "act", "language": "en", "body_html": "<p>x</p>",
              "default_layout": [], **fields}
    template = DocumentTemplate(**fields)
    db.session.add(template)
    db.session.commit()
    return template


def test_save_default_layout_keeps_valid_entries(app):
    with app.app_context():
        actor = make_user(is_admin=True)
        template_id = _template().id
        saved = save_default_layout(template_id, [FIXED, ANCHORED], actor)
        assert saved.default_layout == [
            FIXED,
            {"role": "company", "type": "stamp", "anchor": "company.stamp", "dx": -0.02,
             "dy": 0.01, "w": 0.15, "required": False, "label": ""},
        ]
        db.session.expire_all()
        assert db.session.get(DocumentTemplate, template_id).default_layout[0] == FIXED


@pytest.mark.parametrize("entry, problem", [
    ({**FIXED, "role": "stranger"}, "role"),
    ({**FIXED, "type": "autograph"}, "type"),
    ({**FIXED, "page": 0}, "page"),
    ({**FIXED, "x": 1.2}, "x"),
    ({**FIXED, "y": -0.1}, "y"),
    ({**FIXED, "w": 0}, "w"),
    ({**FIXED, "h": "0.1"}, "h"),
    ({**FIXED, "x": float("nan")}, "x"),
    ({**ANCHORED, "anchor": "company"}, "anchor"),
    ({**ANCHORED, "dx": 3}, "dx"),
    ({**FIXED, "label": "x" * 201}, "label"),
])
def test_save_default_layout_refuses_bad_entries(app, entry, problem):
    with app.app_context():
        template = _template(default_layout=[FIXED])
        with pytest.raises(LayoutRefused) as caught:
            save_default_layout(template.id, [FIXED, entry], None)
        assert f"Field 2 of the layout has an invalid “{problem}”" in caught.value.message
        db.session.expire_all()
        assert db.session.get(DocumentTemplate, template.id).default_layout == [FIXED]


def test_save_default_layout_refuses_a_missing_template_or_a_non_list(app):
    with app.app_context():
        with pytest.raises(Exception) as caught:
            save_default_layout(12345, [FIXED], None)
        assert caught.value.status == 404
        with pytest.raises(LayoutRefused):
            save_default_layout(_template().id, {"role": "client"}, None)


def test_install_keeps_the_admins_choices(app):
    with app.app_context():
        installed = install_builtin_templates()
        assert len(installed) == 9
        act = next(t for t in installed if t.builtin_key == "act-ru")
        set_active(act, False, None)
        save_default_layout(act.id, [FIXED], None)
        act.body_html = "outdated"
        db.session.commit()
        install_builtin_templates()
        db.session.expire_all()
        act = db.session.get(DocumentTemplate, act.id)
        assert act.active is False and act.default_layout == [FIXED]
        assert "Акт выполненных работ" in act.body_html
        assert db.session.scalar(db.select(db.func.count(DocumentTemplate.id))) == 9


def test_active_templates_by_kind_and_language(app):
    with app.app_context():
        install_builtin_templates()
        invoices = active_templates(kind="invoice")
        assert sorted(t.language for t in invoices) == ["en", "pt", "ru"]
        [fatura] = active_templates(kind="invoice", language="pt")
        assert fatura.name == "Fatura"
        set_active(fatura, False, None)
        assert active_templates(kind="invoice", language="pt") == []
        assert len(active_templates()) == 8


def test_service_refuses_bad_fields_and_shipped_templates(app):
    with app.app_context():
        with pytest.raises(TemplateInvalid) as caught:
            save_template({"name": " ", "kind": "poem", "language": "de",
                           "body_html": "<p/>"}, None)
        assert set(caught.value.errors) == {"name", "kind", "language"}
        with pytest.raises(TemplateInvalid) as caught:
            save_template({"name": "x", "kind": "act", "language": "en",
                           "body_html": "{{ x.__class__ }}"}, None)
        assert "Not allowed" in caught.value.errors["body_html"]
        shipped = install_builtin_templates()[0]
        with pytest.raises(TemplateLocked):
            save_template({"name": "x", "kind": "act", "language": "en",
                           "body_html": "<p/>"}, None, shipped)


def test_seed_installs_the_shipped_templates(app, monkeypatch):
    monkeypatch.setenv("SIGNET_ADMIN_PASSWORD", "a-long-demo-password")
    result = app.test_cli_runner().invoke(args=["signet", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        keys = set(db.session.execute(db.select(DocumentTemplate.builtin_key)).scalars())
    assert len(keys) == 9 and {"act-ru", "invoice-pt", "contract-en"} <= keys
