"""The template sandbox: no files, no Python internals, no unbounded output; clear errors."""

from decimal import Decimal

import pytest

from portal.doctemplates.pdf import AnchorRecorder
from portal.doctemplates.rendering import TemplateRefused, render_template_html
from portal.doctemplates.sandbox import MAX_OUTPUT_CHARS, render_html


def refusal(source: str, context: dict | None = None) -> TemplateRefused:
    with pytest.raises(TemplateRefused) as caught:
        render_html(source, context or {"language": "en"})
    return caught.value


@pytest.mark.parametrize("source", [
    '{% include "/etc/passwd" %}',
    "{% import '/etc/passwd' as secrets %}",
    "{% extends '/etc/passwd' %}",
    "{% from 'x.html' import y %}",
])
def test_templates_cannot_read_files(source):
    error = refusal(source)
    assert "include, import and extends are not available" in error.message
    assert error.line == 1
    assert "root:" not in error.message


@pytest.mark.parametrize("source, line", [
    ("first line\n{{ ''.__class__.__mro__ }}", 2),
    ("{{ self.__init__.__globals__ }}", 1),
    ("\n\n\n{{ items.__class__.__subclasses__() }}", 4),
    ("{{ (1).__class__.__base__ }}", 1),
    ("{{ company.items.__self__ }}", 1),
    ("{{ anchor.__self__.anchors }}", 1),
    ("{{ anchor.__func__.__globals__ }}", 1),
    ("{{ range.__globals__['__builtins__'] }}", 1),
    ("{{ totals.net.__class__ }}", 1),
])
def test_templates_cannot_reach_python_internals(source, line):
    context = {"language": "en", "items": [], "company": {"name": "x"},
               "anchor": AnchorRecorder().__call__, "totals": {"net": Decimal("1.00")}}
    error = refusal(source, context)
    assert error.line == line
    assert "Not allowed in a document template" in error.message
    assert f"Line {line}:" in error.message


def test_flask_and_jinja_globals_are_not_there():
    html = render_html("[{{ config }}|{{ request }}|{{ session }}|{{ g }}|{{ url_for }}|"
                       "{{ cycler }}|{{ joiner }}|{{ namespace }}]", {"language": "en"})
    assert html == "[|||||||]"
    for source in ("{{ lipsum() }}", "{{ dict(a=1) }}", "{{ url_for('x') }}",
                   "{{ config.items() }}"):
        assert "undefined" in refusal(source).message


@pytest.mark.parametrize("source", [
    "{{ 'x'.ljust(100000000) }}",
    "{{ '{:99999999}'.format(1) }}",
    "{{ '%99999999d' % 1 }}",
    "{{ 'a' * 100000000 }}",
    "{{ [1] * 100000000 }}",
    "{{ ('x' * 1000)|replace('x', 'y' * 1000) }}",
    "{{ 2 ** 100000 }}",
    "{% for i in range(10 ** 6) %}{% endfor %}",
    "{{ items.append(1) }}",
    "{{ company.update({'name': 'x'}) }}",
])
def test_unsafe_calls_and_huge_values_are_refused(source):
    context = {"language": "en", "items": [1], "company": {"name": "Acme"}}
    error = refusal(source, context)
    assert "Not allowed in a document template" in error.message


def test_output_size_is_capped():
    source = "{% for i in range(1000) %}{% for j in range(1000) %}{{ 'x' * 100 }}" \
             "{% endfor %}{% endfor %}"
    error = refusal(source)
    assert f"more than {MAX_OUTPUT_CHARS // (1024 * 1024)} MB" in error.message


def test_undefined_values_render_empty():
    html = render_html("[{{ missing }}|{{ company.nothing.deeper }}|{% for x in nothing %}x"
                       "{% endfor %}]", {"language": "en", "company": {}})
    assert html == "[||]"


def test_syntax_errors_name_their_line():
    error = refusal("<h1>Act</h1>\n<p>\n{% if document.number %}\n<b>x</b>\n")
    assert error.line in (3, 4, 5)
    assert "Syntax error" in error.message
    error = refusal("<p>\n{{ totals.gross|nonexistent }}\n</p>")
    assert error.line == 2 and "nonexistent" in error.message
    error = refusal("line\n{{ foo( }}")
    assert error.line == 2 and error.message.startswith("Line 2: Syntax error")


def test_runtime_errors_name_their_line():
    error = refusal("a\nb\n{{ 1 / 0 }}")
    assert error.line == 3 and "ZeroDivisionError" in error.message


def test_values_are_escaped():
    html = render_html("{{ name }} {{ text|nl2br }}",
                       {"language": "en", "name": "<script>x</script>",
                        "text": "line <1>\nline 2"})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "line &lt;1&gt;<br/>line 2" in html


def test_safe_string_methods_and_filters_work():
    html = render_html("{{ 'ab'.upper() }} {{ [3, 1, 2]|sort|join(',') }} {{ 'x y'|title }} "
                       "{{ 'a-b'.split('-')|length }} {% for i in range(3) %}{{ i }}{% endfor %}",
                       {"language": "en"})
    assert html == "AB 1,2,3 X Y 2 012"


def test_phone_numbers_are_spaced_for_reading_and_other_text_is_kept():
    html = render_html("{{ a|phone }} | {{ b|phone }} | {{ c|phone }} | {{ missing|phone }}",
                       {"language": "en", "a": "+74950000001", "b": "+441174960123",
                        "c": "ask <the office>"})
    assert html == "+7 495 000-00-01 | +44 117 496 0123 | ask &lt;the office&gt; | "


def test_anchor_names_are_checked():
    for bad in ("client", "client.autograph", "stranger.signature", "client.signature.BAD!"):
        with pytest.raises(TemplateRefused) as caught:
            render_template_html(f'{{{{ anchor("{bad}") }}}}', {"language": "en"})
        assert "anchor name" in caught.value.message
    with pytest.raises(TemplateRefused) as caught:
        render_template_html('{{ anchor("client.signature") }}\n{{ anchor("client.signature") }}',
                             {"language": "en"})
    assert "used twice" in caught.value.message and caught.value.line == 2
    with pytest.raises(TemplateRefused) as caught:
        render_template_html('{{ anchor("client.stamp", 5000, 10) }}', {"language": "en"})
    assert "between 1 and" in caught.value.message
    html, recorder = render_template_html(
        '{{ anchor("client.text.inn") }}{{ anchor("approver.initials", 20, 8) }}',
        {"language": "en"})
    assert set(recorder.anchors) == {"client.text.inn", "approver.initials"}
    assert html.count("<img") == 2 and "20mm" in html
