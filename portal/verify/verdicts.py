"""What a verification says: one verdict and the findings behind it (shared by page, JSON, CLI)."""

from dataclasses import asdict, dataclass, field
from datetime import datetime

from portal.sealing.pades import SealCheck
from portal.verify.registry import RegistryMatch

AUTHENTIC = "authentic"  # this exact file is one the portal issued, and its seal holds
MODIFIED = "modified"  # our seal is in it, but the file is not what we issued / changed after
FOREIGN = "foreign"  # signed, but no signature chains to this portal's certificates
# Our seal, made with a certificate this portal's CA had revoked before the seal's time.
REVOKED = "revoked"
UNSIGNED = "unsigned"  # a readable PDF without any signature
INVALID = "invalid"  # not a PDF, unreadable, encrypted, too big, too complex
VERDICTS = (AUTHENTIC, MODIFIED, REVOKED, FOREIGN, UNSIGNED, INVALID)

# Kinds of change made after the seal, as the diff of revisions shows them.
CHANGE_PAGES = "pages"  # pages added (or removed)
CHANGE_ANNOTATIONS = "annotations"  # comments, drawings, stamps added in a reader
CHANGE_FORM = "form"  # form fields filled in
CHANGE_OTHER = "other"  # anything else, including bytes appended after the end of the file
CHANGE_KINDS = (CHANGE_PAGES, CHANGE_ANNOTATIONS, CHANGE_FORM, CHANGE_OTHER)

# Why a file could not be checked (`problem_code`; `problem` says it in words).
PROBLEM_NO_FILE = "no_file"  # only a code was given: the verdict needs the file
PROBLEM_EMPTY = "empty"
PROBLEM_TOO_LARGE = "too_large"
PROBLEM_NOT_PDF = "not_pdf"
PROBLEM_DAMAGED = "damaged"  # truncated, broken cross-reference table, unreadable structure
PROBLEM_ENCRYPTED = "encrypted"
PROBLEM_TOO_COMPLEX = "too_complex"  # the check ran out of time or memory, or crashed
PROBLEM_BUSY = "busy"  # every checker slot of this server process stayed taken: try again
PROBLEMS = (PROBLEM_NO_FILE, PROBLEM_EMPTY, PROBLEM_TOO_LARGE, PROBLEM_NOT_PDF,
            PROBLEM_DAMAGED, PROBLEM_ENCRYPTED, PROBLEM_TOO_COMPLEX, PROBLEM_BUSY)

# What a typed verification code says about the uploaded file (`code_status`).
CODE_NONE = ""  # no code was typed
CODE_UNKNOWN = "unknown"  # no document has this code
CODE_NOT_FINAL = "not_final"  # the document exists but has no final PDF yet (nothing shown)
CODE_NO_FILE = "no_file"  # the document is shown; no file was uploaded to compare
CODE_MATCHES = "matches"  # the file is exactly that document's final PDF
CODE_OTHER_DOCUMENT = "other_document"  # the file is the final PDF of another document
CODE_DIFFERS = "differs"  # the file is not that document's final PDF (nor any other's)
CODE_STATUSES = (CODE_NONE, CODE_UNKNOWN, CODE_NOT_FINAL, CODE_NO_FILE, CODE_MATCHES,
                 CODE_OTHER_DOCUMENT, CODE_DIFFERS)

# What the audit trail attached to the file (audit-trail.json) says (`trail.status`).
TRAIL_NONE = "none"  # no trail inside: sealed before final PDFs carried one, or not ours
TRAIL_HOLDS = "holds"  # every event's hash and link holds (and it is the register's, if known)
TRAIL_CHANGED = "changed"  # an event, a link or the stated head was altered
TRAIL_UNREADABLE = "unreadable"  # an audit-trail.json that is not a trail: replaced, damaged
TRAIL_OTHER = "other"  # it holds, but it is not the trail the register keeps for the document
TRAIL_STATUSES = (TRAIL_NONE, TRAIL_HOLDS, TRAIL_CHANGED, TRAIL_UNREADABLE, TRAIL_OTHER)
# These make a file "modified", whatever its seal and even when its bytes are registered.
TRAIL_FAILURES = (TRAIL_CHANGED, TRAIL_UNREADABLE, TRAIL_OTHER)


@dataclass(frozen=True)
class TrailFinding:
    """The attached audit trail, recomputed offline, and compared with the register."""

    status: str  # one of TRAIL_STATUSES
    events: int = 0
    head: str = ""  # the chain head the trail states
    # Position (0-based) of the first event whose hash or link does not hold.
    first_broken: int | None = None
    document_id: int | None = None  # as the trail names its document
    verification_code: str = ""
    # Compared with the register's document (the file's, else the typed code's): whether its
    # head is the one the certificate printed (None: the register keeps none to compare) and
    # whether the trail names that document.
    compared_with: str = ""  # the register's document number, "" when not compared
    head_matches: bool | None = None
    document_matches: bool | None = None
    problem: str = ""  # for TRAIL_FAILURES: why, in words for a reader (translated)

    @property
    def failed(self) -> bool:
        return self.status in TRAIL_FAILURES


@dataclass(frozen=True)
class VerifyReport:
    """Everything the verify page, its JSON and `flask signet verify` print."""

    verdict: str  # one of VERDICTS
    sha256: str = ""  # of the uploaded bytes ("" when nothing was uploaded)
    size: int = 0
    # For INVALID: why, in words for a reader (translated). Also set on an AUTHENTIC file whose
    # signatures could not be checked (seal is None then); the registry alone decides that verdict.
    problem: str = ""
    registry: RegistryMatch | None = None  # the issued document this exact file is
    # The document a typed verification code names (may differ from `registry`, or exist alone).
    code_document: RegistryMatch | None = None
    # Embedded signatures (None when unreadable or not checked). `seal.signature_count` counts
    # them all; `seal.signatures` holds the validated ones only, in signing order: at most
    # 20, the portal's own chosen first, then the latest others.
    seal: SealCheck | None = None
    changes: tuple[str, ...] = field(default_factory=tuple)  # CHANGE_KINDS after the seal
    added_pages: int = 0
    checked_at: datetime | None = None
    problem_code: str = ""  # one of PROBLEMS when `problem` is set
    # No file was given (a code alone): the verdict is INVALID with PROBLEM_NO_FILE until one is.
    needs_file: bool = False
    code_status: str = CODE_NONE  # one of CODE_STATUSES
    # What in the file can run, open or hide something: [{"kind", "detail", "count"}] with
    # the kinds of portal.pdfs.active; None when the file could not be examined for it.
    active_content: list[dict] | None = field(default_factory=list)
    # The audit trail inside the file; None when the file could not be examined.
    trail: TrailFinding | None = None

    def as_json(self) -> dict:
        """Plain JSON types (datetimes as ISO 8601 with offset)."""
        return _plain(asdict(self))


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
