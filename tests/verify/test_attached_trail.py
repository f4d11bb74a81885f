"""Finding the attached audit trail in an uploaded PDF: only audit-trail.json reached from the
catalog, bounded in size and walk, whatever the file claims (runs as /verify's sandbox does)."""

import io
import json
import zlib
from datetime import UTC, datetime, timedelta

import pikepdf
import pytest

from portal.audit.chain import TRAIL_FILENAME, event_hash, trail_payload
from portal.audit.models import AuditEvent
from portal.verify.attached_trail import MAX_TRAIL_BYTES
from tests.fixtures import fixture_bytes
from tests.verify.support import inspected, with_attached

START = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)


def chained_events(count: int = 4) -> list[AuditEvent]:
    events, previous = [], ""
    for number in range(count):
        event = AuditEvent(document_id=7, created_at=START + timedelta(minutes=number),
                           type="party.signed", actor_type="party", actor_id=number,
                           actor_label="Maria Silva", ip="203.0.113.9", user_agent="Firefox",
                           details={"step": number}, prev_hash=previous)
        event.hash = previous = event_hash(event)
        events.append(event)
    return events


def good_trail() -> bytes:
    return trail_payload({"id": 7, "number": "ACT-7", "verification_code": "ABCD-EFGH-JKMN"},
                         chained_events(), "Europe/Moscow")


def trail_in(pdf: bytes):
    return inspected(pdf, []).trail


def edited(pdf: bytes, edit, **saving) -> bytes:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        edit(document)
        output = io.BytesIO()
        document.save(output, **saving)
        return output.getvalue()


def test_a_trail_listed_in_the_attachments_is_found_and_recomputed():
    check = trail_in(with_attached(fixture_bytes("plain.pdf"), good_trail(), associated=False))

    assert check.readable and check.holds and check.events == 4
    assert check.document_id == 7 and check.verification_code == "ABCD-EFGH-JKMN"
    assert check.head == chained_events()[-1].hash


def test_a_trail_listed_only_as_an_associated_file_is_found():
    def associate_only(document):
        spec = pikepdf.AttachedFileSpec(document, good_trail(), filename=TRAIL_FILENAME)
        document.Root.AF = pikepdf.Array([document.make_indirect(spec.obj)])

    check = trail_in(edited(fixture_bytes("plain.pdf"), associate_only))

    assert check.readable and check.holds


def test_other_attachments_are_not_a_trail():
    pdf = with_attached(fixture_bytes("plain.pdf"), good_trail(), name="notes.json")

    assert trail_in(pdf) is None
    assert trail_in(fixture_bytes("plain.pdf")) is None


def test_an_event_edited_in_the_json_breaks_the_chain_at_that_event():
    trail = json.loads(good_trail())
    trail["events"][2]["ip"] = "198.51.100.66"

    check = trail_in(with_attached(fixture_bytes("plain.pdf"), json.dumps(trail).encode()))

    assert check.readable and not check.holds and check.first_broken == 2


@pytest.mark.parametrize("payload", [
    b"not json at all",
    json.dumps({"format": "someone-elses/1", "events": []}).encode(),
])
def test_a_file_of_that_name_that_is_not_a_trail_is_unreadable(payload):
    check = trail_in(with_attached(fixture_bytes("plain.pdf"), payload))

    assert check is not None and not check.readable


def test_a_trail_that_inflates_past_the_limit_is_refused_unread():
    """A few KB in the file, megabytes once inflated: inflating stops at the limit."""
    huge = b'{"format": "signet-audit-trail/1", "events": []' + b" " * (MAX_TRAIL_BYTES + 10) + b"}"
    pdf = with_attached(fixture_bytes("plain.pdf"), b"{}")

    def inflate_bomb(document):
        stream = document.attachments[TRAIL_FILENAME].obj.EF.F
        stream.write(zlib.compress(huge, 9), filter=pikepdf.Name.FlateDecode)
        stream.Params.Size = 10  # a lie about the size: never believed

    bomb = edited(pdf, inflate_bomb)

    assert len(bomb) < 100_000
    assert trail_in(bomb).readable is False
    # The same trail small enough is read.
    assert trail_in(with_attached(fixture_bytes("plain.pdf"), good_trail())).holds


def test_an_encoding_the_portal_never_writes_is_refused():
    def hex_encoded(document):
        stream = document.attachments[TRAIL_FILENAME].obj.EF.F
        stream.write(good_trail().hex().encode() + b">", filter=pikepdf.Name.ASCIIHexDecode)

    # As written: qpdf would otherwise decode the stream and deflate it again.
    pdf = edited(with_attached(fixture_bytes("plain.pdf"), b"{}"), hex_encoded,
                 compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)

    assert trail_in(pdf).readable is False


def test_two_different_trails_in_one_file_say_nothing():
    trail = json.loads(good_trail())
    trail["events"].pop()
    trail["chain_head"] = trail["events"][-1]["hash"]
    shorter = json.dumps(trail).encode()

    def second_copy(document):
        spec = pikepdf.AttachedFileSpec(document, shorter, filename=TRAIL_FILENAME)
        document.Root.AF = pikepdf.Array([document.make_indirect(spec.obj)])

    pdf = edited(with_attached(fixture_bytes("plain.pdf"), good_trail(), associated=False),
                 second_copy)

    assert trail_in(pdf).readable is False


def test_a_name_tree_that_loops_on_itself_ends():
    def looping_tree(document):
        node = document.make_indirect(pikepdf.Dictionary())
        node.Kids = pikepdf.Array([node, node])
        document.Root.Names = pikepdf.Dictionary(EmbeddedFiles=node)

    check = trail_in(edited(fixture_bytes("plain.pdf"), looping_tree))

    assert check is None
