"""What every page addressed by a secret link shares (a party's signing link, the company
signer's batch link, a public link): the same rate limits, the holder's language with a switch
for that link, and no copy in any cache."""

from collections.abc import Callable

from flask import Blueprint, current_app, g, request, url_for


def page_limit() -> str:
    # Links carry a secret: limit guessing and hammering per address.
    return current_app.config.get("SIGNET_SIGNING_LIMIT", "60 per minute")


def image_limit() -> str:
    return current_app.config.get("SIGNET_SIGNING_IMAGE_LIMIT", "300 per minute")


def serve_link_pages(bp: Blueprint, speaks: Callable[[str], str | None] | None = None,
                     language_endpoint: str = "") -> None:
    """Register on `bp`: pages in the language `speaks(token)` gives (None: the link finds
    nothing, the browser's language then), the language switch at `language_endpoint`, and
    no caching."""
    if speaks is not None:
        @bp.before_request
        def speak_the_holders_language():
            token = (request.view_args or {}).get("token")
            locale = speaks(token) if token else None
            if locale is not None:
                g.page_locale = locale

    if language_endpoint:
        @bp.context_processor
        def language_for_this_link():
            token = (request.view_args or {}).get("token")
            if not token or g.get("page_locale") is None:
                return {}
            return {"language_action": url_for(language_endpoint, token=token)}

    @bp.after_request
    def keep_out_of_caches(response):
        # Addressed by a secret: no shared cache or back-button copy should keep the pages.
        response.headers.setdefault("Cache-Control", "no-store")
        return response
