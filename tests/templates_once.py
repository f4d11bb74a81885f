"""Each template compiled once per test process, not once per app.

Every app has its own Jinja environment, so each test's app parsed and compiled every template
it rendered again (a third of the CPU of a page-driving test). Compiled template code reaches
its environment only through the namespace Jinja gives it when it loads the code, so one code
object serves every app's environment; every test app sets Jinja up the same way (same
extensions, same autoescape rule, which the compiler applies per template name, part of the
key). Jinja's bytecode cache is the hook made for this; it compares a checksum of the source,
so an edited template is compiled again.
"""

from flask import Flask
from jinja2.bccache import Bucket, BytecodeCache

_create_jinja_environment = Flask.create_jinja_environment


class SharedCompiledTemplates(BytecodeCache):
    """Code objects kept in memory, shared by every environment of this process."""

    def __init__(self):
        self._code: dict[str, tuple[str, object]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        checksum, code = self._code.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        self._code.clear()


shared = SharedCompiledTemplates()


def _create_with_shared_cache(self: Flask):
    environment = _create_jinja_environment(self)
    environment.bytecode_cache = shared
    return environment


def install() -> None:
    Flask.create_jinja_environment = _create_with_shared_cache
