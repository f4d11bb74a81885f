"""Imported only by the sandbox's forkserver (portal/sandbox.py preloads it): children start lean.

multiprocessing sends every child the path of the parent's main script, and each child runs
that script again before it runs its target (CPython 3.11 never preloads it in the forkserver:
it passes `main_path`, a key the preparation data does not have). Under pytest, flask or
gunicorn that is a fresh import of the whole command: ~0.3 s per child instead of ~10 ms.
Sandbox targets live in importable modules, so children need no main script at all.
"""

from multiprocessing import spawn


def _no_main_script(_main_path: str) -> None:
    return None


spawn._fixup_main_from_path = _no_main_script
