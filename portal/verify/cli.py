"""`flask signet verify FILE`: the verify page's report in a terminal; exit 0 only if authentic."""

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from portal.verify.report import build_report
from portal.verify.verdicts import AUTHENTIC

VERDICT_LINES = {
    "authentic": "authentic and unchanged: this exact file was issued by this portal",
    "modified": "changed after signing: the portal's seal is in it, but the file differs",
    "revoked": "sealed with a certificate this portal had revoked before the seal's time",
    "foreign": "signed, but not by this portal",
    "unsigned": "not signed",
    "invalid": "not a PDF / unreadable",
}

CODE_LINES = {
    "unknown": "no document has this verification code",
    "not_final": "the document with this code is not completed yet",
    "no_file": "names the document below; give the file to compare",
    "matches": "the file is exactly the document this code names",
    "other_document": "the file is another document than the one this code names",
    "differs": "the file is not the final PDF of the document this code names",
}


@click.command("verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--code", default=None, help="The verification code printed on the document.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def verify_command(path: Path, code: str | None, as_json: bool):
    """Check a PDF as the public verify page does; exit 0 only when it is authentic."""

    report = build_report(path.read_bytes(), code=code)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        for line in report_lines(report, path.name):
            click.echo(line)
    raise SystemExit(0 if report.verdict == AUTHENTIC else 1)


def report_lines(report, name: str) -> list[str]:
    """The report as readable lines."""
    lines = [f"Verdict: {report.verdict} ({VERDICT_LINES[report.verdict]})",
             f"File: {name}, {report.size} bytes, sha256 {report.sha256}"]
    if report.problem:
        lines.append(f"Problem: {report.problem}")
    if report.registry is not None:
        lines += ["Issued by this portal as:", *_document_lines(report.registry)]
        if report.registry.current_sha256:
            lines.append(f"  an earlier copy: the current one, with a later archive time stamp, "
                         f"has sha256 {report.registry.current_sha256}")
    else:
        lines.append("Registry: no document issued by this portal has exactly these bytes.")
    if report.code_status:
        lines.append(f"Code: {CODE_LINES[report.code_status]}")
        if report.code_document is not None and report.code_document != report.registry:
            lines += ["The code names:", *_document_lines(report.code_document)]
    lines += _seal_lines(report.seal)
    if report.changes:
        changes = ", ".join(
            f"pages (+{report.added_pages})" if kind == "pages" and report.added_pages else kind
            for kind in report.changes)
        lines.append(f"Changed after the seal: {changes}")
    lines += _trail_lines(report.trail)
    lines.append(_active_content_line(report.active_content))
    lines.append(f"Checked at: {report.checked_at.isoformat()}")
    return lines


def _trail_lines(trail) -> list[str]:
    if trail is None:
        return ["Audit trail: not checked"]
    if trail.status == "none":
        return ["Audit trail: none inside (documents sealed before final PDFs carried one)"]
    if trail.status == "unreadable":
        return ["Audit trail: unreadable: the attached audit-trail.json was changed or damaged"]
    if trail.status == "changed":
        broken = f" from event {trail.first_broken + 1}" if trail.first_broken is not None else ""
        first = f"Audit trail: changed: the chain of {trail.events} events does not hold{broken}"
    elif trail.status == "other":
        first = (f"Audit trail: not the trail the register keeps for document "
                 f"{trail.compared_with} (head or document differ)")
    else:
        first = f"Audit trail: holds, {trail.events} events"
    lines = [first, f"  chain head {trail.head or 'not stated'}"]
    if trail.status != "holds":
        return lines
    if not trail.compared_with:
        lines.append("  not in the register: compare the head with the one printed on the "
                     "certificate page")
    elif trail.head_matches:
        lines.append(f"  the head printed on the certificate of document "
                     f"{trail.compared_with}, as the register keeps it")
    elif trail.head_matches is None:
        lines.append(f"  the register keeps no printed head for document {trail.compared_with}")
    return lines


def _active_content_line(records) -> str:
    if records is None:
        return "Active content: could not be examined"
    if not records:
        return "Active content: none (no scripts, actions, attached files or media)"
    found = ", ".join(f"{record['kind']} ({record['detail']})" if record["detail"]
                      else record["kind"] for record in records)
    return f"Active content: {found}"


def _document_lines(match) -> list[str]:
    completed = match.completed_at.isoformat() if match.completed_at else "not recorded"
    lines = [f"  document {match.number} \"{match.title}\" (id {match.document_id}), "
             f"{match.company_name}, completed {completed}",
             f"  verification code {match.verification_code}"]
    if match.files_purged_at is not None:
        lines.append(f"  the portal no longer stores this file: deleted on "
                     f"{match.files_purged_at.isoformat()} under the issuer's retention period "
                     f"(a kept copy still verifies)")
    for party in match.parties:
        signed = party.signed_at.isoformat() if party.signed_at else "not signed"
        who = f"{party.name} ({party.organization})" if party.organization else party.name
        lines.append(f"  {party.role}: {who}, {party.masked_contact} via {party.channel}, "
                     f"{signed}")
    return lines


def _seal_lines(seal) -> list[str]:
    if seal is None:
        return ["Signatures: not checked"]
    if not seal.signed:
        return ["Signatures: none"]
    lines = [f"Signatures: {seal.signature_count}"]
    if seal.signature_count > len(seal.signatures):
        lines[0] += (f" ({len(seal.signatures)} validated: the portal's seals first, "
                     f"then the latest others)")
    for number, check in enumerate(seal.signatures, start=1):
        flags = [name for name, value in (("intact", check.intact), ("valid", check.valid),
                                          ("trusted", check.trusted),
                                          ("covers the whole file", check.covers_whole_file))
                 if value]
        signed = check.signed_at.isoformat() if check.signed_at else "time unknown"
        lines.append(f"  {number}. {check.signer_subject or 'unreadable signer'}, {signed}: "
                     f"{', '.join(flags) or 'broken'}; later changes: "
                     f"{check.modification_level}")
        if check.timestamp:
            trust = "trusted" if check.timestamp_trusted else "not trusted"
            lines.append(f"     timestamp {check.timestamp.isoformat()} ({trust})")
        if check.level:
            lines.append(f"     PAdES level {check.level}, {check.document_timestamps} document "
                         f"time stamp(s) after it")
        if check.revoked_at:
            lines.append(f"     REVOKED: its certificate was revoked at "
                         f"{check.revoked_at.isoformat()}, before the seal's time")
    return lines
