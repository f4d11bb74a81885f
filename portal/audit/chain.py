"""A document's hash chain as plain data: the hash of one event, the trail as a JSON file
(attached to the final PDF), and the offline check of such a file.

Nothing here needs the app or a database: the sandbox that inspects an uploaded PDF runs
check_trail on the JSON it finds inside, and the service records events with event_hash.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TRAIL_FORMAT = "signet-audit-trail/1"
TRAIL_FILENAME = "audit-trail.json"
TRAIL_MIME = "application/json"
# What the hash covers, in the form the service hashes it; the file carries exactly these.
HASHED_FIELDS = ("prev_hash", "document_id", "created_at", "type", "actor_type", "actor_id",
                 "actor_label", "ip", "user_agent", "details")
# A trail longer than this is not one the portal wrote (a document has dozens of events).
MAX_TRAIL_EVENTS = 100_000


def utc_iso(moment: datetime) -> str:
    """The stored UTC time as hashed: naive ISO with microseconds (SQLite hands back naive
    datetimes; everything we store is UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def content_hash(content: dict) -> str:
    """sha256 over one event's hashed fields (HASHED_FIELDS), in canonical JSON."""
    canonical = json.dumps({name: content.get(name) for name in HASHED_FIELDS},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_content(event) -> dict:
    """The hashed fields of an AuditEvent (or anything with the same attributes)."""
    return {
        "prev_hash": event.prev_hash,
        "document_id": event.document_id,
        "created_at": utc_iso(event.created_at),
        "type": event.type,
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "details": event.details or {},
    }


def event_hash(event) -> str:
    """sha256 over the event's content and the previous hash: any later edit breaks the chain."""
    return content_hash(event_content(event))


def zone_or_utc(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_iso(moment: datetime, zone: ZoneInfo) -> str:
    """The moment in `zone` with its UTC offset ("2026-12-03T22:15:04+03:00")."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).isoformat(timespec="seconds")


def trail_payload(document: dict, events: list, zone_name: str) -> bytes:
    """The trail as the JSON file attached to the final PDF.

    `document`: what identifies it (id, number, title, verification_code, language,
    source_sha256); `events`: AuditEvents oldest first; `zone_name`: the IANA zone the
    document's times are shown in, portal.parties.zones.document_time_zone(document) (its
    company's, else the portal's default), as the certificate pages print them.
    """
    zone = zone_or_utc(zone_name)
    listed = []
    for event in events:
        content = event_content(event)
        listed.append({**content, "hash": event.hash,
                       "time": local_iso(event.created_at, zone)})
    payload = {
        "format": TRAIL_FORMAT,
        "document": document,
        "time_zone": zone.key,
        "chain_head": events[-1].hash if events else "",
        "events": listed,
    }
    return json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True).encode()


@dataclass(frozen=True)
class TrailCheck:
    """What an attached trail file says: whether its chain holds, and its head."""

    readable: bool
    holds: bool = False
    head: str = ""
    events: int = 0
    # Position (0-based) of the first event whose hash or link does not hold, else None.
    first_broken: int | None = None
    document_id: int | None = None
    verification_code: str = ""


def check_trail(data: bytes) -> TrailCheck:
    """Recompute the chain of a trail file; unreadable when it is not one of ours."""
    try:
        payload = json.loads(data)
        events = payload["events"]
        if payload.get("format") != TRAIL_FORMAT or not isinstance(events, list) \
                or len(events) > MAX_TRAIL_EVENTS:
            return TrailCheck(readable=False)
        document = payload.get("document") or {}
        first_broken, previous = None, ""
        for position, event in enumerate(events):
            if event.get("prev_hash") != previous or event.get("hash") != content_hash(event):
                first_broken = position
                break
            previous = event["hash"]
        head = events[-1].get("hash", "") if events else ""
        stated_head = payload.get("chain_head", "")
        holds = first_broken is None and head == stated_head
        return TrailCheck(readable=True, holds=holds, head=str(stated_head or ""),
                          events=len(events), first_broken=first_broken,
                          document_id=document.get("id"),
                          verification_code=str(document.get("verification_code") or ""))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return TrailCheck(readable=False)
