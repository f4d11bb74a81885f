"""Property: a mutated copy of an issued, sealed PDF is never called authentic.

A few hundred seeded (reproducible) mutations: flipped bytes anywhere, in the signature and in
its zero padding (which no signature covers), truncations, insertions, deletions, appended
bytes and duplicated ranges. Whatever the checker makes of each, only the exact issued bytes may
be "authentic".
"""

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal.sandbox import SLOTS
from portal.verify.report import build_report
from portal.verify.verdicts import AUTHENTIC, MODIFIED, VERDICTS
from tests.fixtures import fixture_bytes
from tests.verify.support import register_final, sealed_by_portal, signature_hole

SEED = 20_251_123
MUTATIONS = 300


def flip_anywhere(pdf, rng, _hole):
    at = rng.randrange(len(pdf))
    return pdf[:at] + bytes([pdf[at] ^ rng.randrange(1, 256)]) + pdf[at + 1:]


def flip_in_signature(pdf, rng, hole):
    at = rng.randrange(*hole)
    digit = rng.choice([d for d in b"0123456789abcdef" if d != pdf[at]])
    return pdf[:at] + bytes([digit]) + pdf[at + 1:]


def flip_in_padding(pdf, rng, hole):
    # The hex zeros after the DER signature: still a valid seal to a reader, not our bytes.
    padding_start = hole[0] + len(pdf[hole[0]:hole[1]].rstrip(b"0"))
    at = rng.randrange(padding_start + 2, hole[1])
    return pdf[:at] + bytes([rng.choice(b"123456789abcdef")]) + pdf[at + 1:]


def truncate(pdf, rng, _hole):
    return pdf[:rng.randrange(len(pdf))]


def insert(pdf, rng, _hole):
    at = rng.randrange(len(pdf) + 1)
    return pdf[:at] + rng.randbytes(rng.randrange(1, 64)) + pdf[at:]


def delete(pdf, rng, _hole):
    at = rng.randrange(len(pdf))
    return pdf[:at] + pdf[at + rng.randrange(1, 64):]


def append(pdf, rng, _hole):
    return pdf + rng.choice([b"\n", b" ", b"%%EOF\n", rng.randbytes(rng.randrange(1, 512))])


def duplicate_range(pdf, rng, _hole):
    start = rng.randrange(len(pdf))
    piece = pdf[start:start + rng.randrange(1, 256)]
    at = rng.randrange(len(pdf) + 1)
    return pdf[:at] + piece + pdf[at:]


MUTATORS = [flip_anywhere, flip_in_signature, flip_in_padding, truncate, insert, delete,
            append, duplicate_range]


def mutations(pdf: bytes) -> list[tuple[str, bytes]]:
    rng = random.Random(SEED)
    hole = signature_hole(pdf)
    produced = []
    while len(produced) < MUTATIONS:
        mutator = MUTATORS[len(produced) % len(MUTATORS)]
        mutated = mutator(pdf, rng, hole)
        if mutated != pdf:
            produced.append((mutator.__name__, mutated))
    return produced


@pytest.fixture(scope="module")
def issued(sqlite_only_app):
    from tests.factories import make_user

    with sqlite_only_app.app_context():
        pdf = sealed_by_portal(fixture_bytes("three-pages.pdf"))
        user = make_user(email="fuzz@example.com")
        register_final(user.id, pdf)
        return pdf


def test_no_mutation_of_an_issued_pdf_is_authentic(sqlite_only_app, issued):
    def verdict_of(case):
        name, data = case
        with sqlite_only_app.app_context():
            return name, data, build_report(data).verdict

    with sqlite_only_app.app_context():
        assert build_report(issued).verdict == AUTHENTIC  # the property is not vacuous

    with ThreadPoolExecutor(max_workers=SLOTS) as pool:
        results = list(pool.map(verdict_of, mutations(issued)))

    wrongly_authentic = [(name, len(data)) for name, data, verdict in results
                         if verdict == AUTHENTIC and data != issued]
    assert wrongly_authentic == []
    assert all(verdict in VERDICTS for _name, _data, verdict in results)
    by_mutator = Counter((name, verdict) for name, _data, verdict in results)
    # Padding changes keep the seal valid: only the registry tells them apart.
    assert by_mutator[("flip_in_padding", MODIFIED)] == MUTATIONS // len(MUTATORS) + (
        1 if MUTATIONS % len(MUTATORS) > MUTATORS.index(flip_in_padding) else 0)
