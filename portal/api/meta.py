"""Who and where an API call came from, for the audit trail: every API module records with it."""

from dataclasses import dataclass

from portal.audit.service import RequestMeta, request_meta


@dataclass(frozen=True)
class ApiRequestMeta(RequestMeta):
    """Request meta that marks the action as coming through the API (for the audit trail)."""

    via_api: bool = True


def api_meta() -> ApiRequestMeta:
    """The current request's IP and browser, marked as an API call."""
    base = request_meta()
    return ApiRequestMeta(ip=base.ip, user_agent=base.user_agent)
