"""`flask signet verify FILE [--code] [--json]`: the report; exit 0 only if authentic."""

import json

import pytest

from tests.fixtures import fixture_bytes
from tests.verify.support import register_final, sealed_by_portal, with_added_page


@pytest.fixture
def issued_file(app, admin, tmp_path):
    with app.app_context():
        pdf = sealed_by_portal()
        register_final(admin["id"], pdf)
    path = tmp_path / "ACT-2025-00007.pdf"
    path.write_bytes(pdf)
    return path


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["signet", "verify", *map(str, args)])


def test_an_authentic_file_exits_0_and_names_its_document(app, issued_file):
    result = verify(app, issued_file)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Verdict: authentic")
    assert "ACT-2025-00007" in result.output
    assert "Anna Director" in result.output and "a***a@acme.example" in result.output
    assert "covers the whole file" in result.output


def test_a_changed_copy_exits_1_and_says_what_changed(app, issued_file, tmp_path):
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(with_added_page(issued_file.read_bytes()))

    result = verify(app, changed, "--code", "abcd-efgh-jkmn")

    assert result.exit_code == 1
    assert result.output.startswith("Verdict: modified")
    assert "Changed after the seal: pages (+1)" in result.output
    assert "Code: the file is not the final PDF of the document this code names" in result.output
    assert "The code names:" in result.output


def test_json_is_the_same_report(app, issued_file):
    result = verify(app, issued_file, "--json", "--code", "ABCD-EFGH-JKMN")

    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["verdict"] == "authentic"
    assert report["code_status"] == "matches"
    assert report["registry"]["number"] == "ACT-2025-00007"
    assert report["seal"]["trusted"] is True


@pytest.mark.parametrize(("content", "verdict"), [
    (fixture_bytes("plain.pdf"), "unsigned"),
    (fixture_bytes("text-file.pdf"), "invalid"),
    (b"", "invalid"),
])
def test_anything_else_exits_1(app, tmp_path, content, verdict):
    path = tmp_path / "file.pdf"
    path.write_bytes(content)

    result = verify(app, path)

    assert result.exit_code == 1
    assert result.output.startswith(f"Verdict: {verdict}")
    if verdict == "invalid":
        assert "Problem: " in result.output


def test_a_missing_file_is_a_usage_error(app, tmp_path):
    result = verify(app, tmp_path / "nowhere.pdf")

    assert result.exit_code == 2
    assert "does not exist" in result.output
