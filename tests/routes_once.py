"""Each route's URL builder compiled once per test process, not once per app.

Werkzeug compiles every rule's builder from an AST when an app registers its routes (about half
of `create_app`), and the tests build an app per test. The builder depends only on the rule's
text, its parts and defaults, and reaches the rule's converters through its `self` argument at
call time, so one compiled builder serves every app's copy of the same rule.
"""

from werkzeug.routing import rules

_compile = rules.Rule._compile_builder
_built: dict = {}


def _builder_key(rule: rules.Rule, append_unknown: bool) -> tuple:
    return (rule.rule, rule.host, rule.subdomain, rule.merge_slashes, tuple(rule._trace),
            tuple(sorted((name, repr(value)) for name, value in (rule.defaults or {}).items())),
            tuple(sorted((name, type(converter).__qualname__)
                         for name, converter in rule._converters.items())),
            append_unknown)


def _compile_once(self: rules.Rule, append_unknown: bool = True):
    key = _builder_key(self, append_unknown)
    builder = _built.get(key)
    if builder is None:
        builder = _built[key] = _compile(self, append_unknown)
    return builder


def install() -> None:
    rules.Rule._compile_builder = _compile_once
