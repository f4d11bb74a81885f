"""Small helpers for answering htmx requests."""

import json

from flask import Response, redirect, request


def is_htmx() -> bool:
    """A request that wants a fragment: from htmx, not boosted, not a history restore."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def vary_on_htmx(response: Response) -> Response:
    """The same URL serves a page and a fragment: caches must keep them apart."""
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, event: str, detail=None) -> Response:
    """Fire a client-side event after the swap (HX-Trigger)."""
    response.headers["HX-Trigger"] = json.dumps({event: detail if detail is not None else {}})
    return response


def redirect_to(url: str) -> Response:
    """A full-page redirect that also works for htmx (HX-Redirect)."""
    if is_htmx():
        response = Response(status=204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)
