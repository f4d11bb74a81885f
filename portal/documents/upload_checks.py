"""Checks an uploaded PDF must pass besides its own (`portal.pdfs`), registered from above.

Sealing registers its dry-run seal here when the app is built (`portal.reactions`): what could
never be sealed is refused at upload, yet documents never import sealing.
"""

from collections.abc import Callable

_checks: list[Callable[[bytes], None]] = []


def register(check: Callable[[bytes], None]) -> None:
    """`check(pdf_bytes)` raises the refusal it finds (a PdfRejected with its message)."""
    if check not in _checks:
        _checks.append(check)


def run_checks(pdf_bytes: bytes) -> None:
    for check in list(_checks):
        check(pdf_bytes)
