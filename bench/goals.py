"""The goals the benches are held to, printed in one parseable form and gathered into the
README's table by bench/readme_table.py (`make bench`).

A goal line: "goal | what | measured | limit | ratio | met" — the ratio is measured / limit for
an upper bound and limit / measured for a lower one, so at most 1.00 always means met.
"""

GOAL_PREFIX = "goal | "


def at_most(what: str, measured: float, limit: float, unit: str = "") -> None:
    """`measured` must not exceed `limit`."""
    _report(what, measured, limit, measured / limit, unit)


def at_least(what: str, measured: float, limit: float, unit: str = "") -> None:
    """`measured` must reach `limit`."""
    _report(what, measured, limit, limit / measured if measured else float("inf"), unit)


def _report(what: str, measured: float, limit: float, ratio: float, unit: str) -> None:
    met = "met" if ratio <= 1 else "NOT met"
    print(f"{GOAL_PREFIX}{what} | {measured:.2f}{unit} | {limit:.2f}{unit} | {ratio:.2f} | {met}")
