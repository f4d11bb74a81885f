"""The board's filter, read from and written back to the URL (so a filtered board can be shared)."""

from dataclasses import dataclass, field, replace
from datetime import date

from flask_babel import lazy_gettext as _l

from portal.auth.permissions import scope_of

SEARCH_MAX = 100
# A list cursor holds one sort value (a title is at most 300 characters) and an id.
CURSOR_MAX = 400
# Which "whose documents" choices a documents.view scope allows, widest last.
WHOSE_FOR_SCOPE = {
    "none": (),
    "own": ("mine",),
    "department": ("mine", "department", "all"),
    "subtree": ("mine", "department", "all"),
    "all": ("mine", "department", "all"),
}
WHOSE_LABELS = {"mine": _l("Mine"), "department": _l("My department"), "all": _l("All")}
# List view sort keys; a leading "-" sorts descending.
SORTS = ("-updated", "updated", "number", "-number", "title", "-title", "deadline", "-deadline",
         "-created", "created", "stage", "-stage")
VIEWS = ("board", "list")
# What needs attention (the dashboard's counts, each a link to the board narrowed to it).
FOCUSES = ("waiting_for_me", "waiting_for_client", "stuck", "due_soon", "completed_this_week")
FOCUS_LABELS = {
    "waiting_for_me": _l("Waiting for me"),
    "waiting_for_client": _l("Waiting for the client"),
    "stuck": _l("Stuck"),
    "due_soon": _l("Deadline within a day"),
    "completed_this_week": _l("Completed this week"),
}


@dataclass(frozen=True)
class BoardFilter:
    whose: str = "all"
    company: int | None = None
    responsible: int | None = None
    counterparty: str = ""
    created_from: date | None = None
    created_to: date | None = None
    q: str = ""
    focus: str = ""
    view: str = "board"
    sort: str = "-updated"
    page: int = 1
    # Keyset cursors of the list (pipeline/keyset.py): the row before or after the page.
    after: str = ""
    before: str = ""
    errors: dict = field(default_factory=dict, compare=False)

    def args(self, **changes) -> dict:
        """Query-string arguments for this filter (defaults left out), with `changes` applied."""
        values = replace(self, **changes) if changes else self
        args = {
            "whose": values.whose, "company": values.company,
            "responsible": values.responsible, "counterparty": values.counterparty or None,
            "from": values.created_from.isoformat() if values.created_from else None,
            "to": values.created_to.isoformat() if values.created_to else None,
            "q": values.q or None,
            "focus": values.focus or None,
            "view": values.view if values.view != "board" else None,
            "sort": values.sort if values.view == "list" and values.sort != "-updated" else None,
            "page": values.page if values.view == "list" and values.page > 1 else None,
            "after": values.after if values.view == "list" and values.after else None,
            "before": values.before if values.view == "list" and values.before else None,
        }
        return {key: value for key, value in args.items() if value is not None}

    @property
    def active(self) -> bool:
        """Anything narrower than "everything I may see" is chosen."""
        return any((self.company, self.responsible, self.counterparty, self.created_from,
                    self.created_to, self.q, self.focus))


def whose_choices(user) -> tuple[str, ...]:
    """What the user may narrow the board to; "my department" needs a department."""
    choices = WHOSE_FOR_SCOPE[scope_of(user, "view", "documents")]
    if user.department_id is None:
        choices = tuple(choice for choice in choices if choice != "department")
    return choices


def _positive_int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _date(value, name: str, errors: dict) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        errors[name] = _l("Enter a date like 2025-01-31.")
        return None


def _text(value) -> str:
    return " ".join(str(value or "").split())[:SEARCH_MAX]


def parse_filter(args, user) -> BoardFilter:
    """The filter in `args`; values that make no sense are dropped (and explained), never fatal."""
    errors: dict = {}
    choices = whose_choices(user)
    whose = args.get("whose") if args.get("whose") in choices else (choices[-1] if choices
                                                                      else "mine")
    created_from = _date(args.get("from"), "from", errors)
    created_to = _date(args.get("to"), "to", errors)
    if created_from and created_to and created_to < created_from:
        errors["to"] = _l("The end of the period is before its start.")
        created_to = None
    sort = args.get("sort") if args.get("sort") in SORTS else "-updated"
    return BoardFilter(
        whose=whose,
        company=_positive_int(args.get("company")),
        responsible=_positive_int(args.get("responsible")),
        counterparty=_text(args.get("counterparty")),
        created_from=created_from,
        created_to=created_to,
        q=_text(args.get("q")),
        focus=args.get("focus") if args.get("focus") in FOCUSES else "",
        view=args.get("view") if args.get("view") in VIEWS else "board",
        sort=sort,
        page=_positive_int(args.get("page")) or 1,
        after=str(args.get("after") or "")[:CURSOR_MAX],
        before=str(args.get("before") or "")[:CURSOR_MAX],
        errors=errors,
    )
