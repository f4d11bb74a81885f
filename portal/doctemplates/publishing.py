"""Where a template is published besides the documents made from it, registered from above.

Public links (`portal.links`) register how many links publish a template when the app is built
(`portal.reactions`): deleting a template would take its links with it, so the delete is
refused while it has any, yet templates never import links.
"""

from collections.abc import Callable

_counters: list[Callable[[int], int]] = []


def register(counter: Callable[[int], int]) -> None:
    """`counter(template_id)`: how many links publish that template."""
    if counter not in _counters:
        _counters.append(counter)


def links_publishing(template_id: int) -> int:
    return sum(counter(template_id) for counter in list(_counters))
