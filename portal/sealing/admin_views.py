"""Admin sealing page: documents completed but not sealed yet, and the seal certificate."""

from cryptography.hazmat.primitives import hashes
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import PasswordField, SelectChoice, SelectField

from portal import unit
from portal.audit.catalogue import SEAL_CERTIFICATE_REPLACED, SEAL_CERTIFICATE_REVOKED
from portal.audit.service import record, request_meta
from portal.auth.permissions import require, visible
from portal.documents.models import Document
from portal.sealing.finalize import seal_again, seal_failure_text, seal_state, unsealed_documents
from portal.sealing.store import (
    TIME_EXTERNAL,
    TIME_OWN,
    crl_url,
    portal_certificates,
    replace_with_pkcs12,
    revocations,
    revoke_seal,
    seal_level,
)

bp = Blueprint("sealing_admin", __name__, url_prefix="/admin/sealing")

PKCS12_MAX_BYTES = 256 * 1024


class Pkcs12Form(FlaskForm):
    certificate = FileField(_l("PKCS#12 file (.p12, .pfx)"),
                            render_kw={"accept": ".p12,.pfx,application/x-pkcs12"})
    password = PasswordField(_l("Password of the file"),
                             render_kw={"autocomplete": "off"})

    def uploaded_bytes(self) -> bytes | None:
        upload = self.certificate.data
        if upload is None or not getattr(upload, "filename", ""):
            self.certificate.errors.append(_("Choose the PKCS#12 file to upload."))
            return None
        data = upload.read(PKCS12_MAX_BYTES + 1)
        if len(data) > PKCS12_MAX_BYTES:
            self.certificate.errors.append(_("A PKCS#12 file is a few kilobytes; this one is "
                                             "too large."))
            return None
        return data


REVOCATION_LABELS = {
    "key_compromise": _l("The key may have leaked"),
    "superseded": _l("Replaced by a new certificate"),
    "cessation_of_operation": _l("No longer used"),
    "unspecified": _l("Other reason"),
}


class RevokeForm(FlaskForm):
    reason = SelectField(_l("Reason"), default="key_compromise", choices=[
        SelectChoice(value, label) for value, label in REVOCATION_LABELS.items()])


def readable_name(name) -> str:
    """"Signet document seal, Acme LLC": the common name first, as people read it."""
    return ", ".join(str(attribute.value) for attribute in name)


def _certificate_facts(certificate) -> dict:
    return {
        "subject": readable_name(certificate.subject),
        "issuer": readable_name(certificate.issuer),
        "not_before": certificate.not_valid_before_utc,
        "not_after": certificate.not_valid_after_utc,
        "fingerprint": certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
    }


def _page(form: Pkcs12Form, status: int = 200, revoke_form: RevokeForm | None = None):
    certificates = portal_certificates()
    level, time_source = seal_level()
    return render_template(
        "sealing/admin.html",
        form=form,
        revoke_form=revoke_form or RevokeForm(),
        level=level,
        time_source=time_source,
        time_own=TIME_OWN,
        time_external=TIME_EXTERNAL,
        own_ca=certificates.own_ca,
        crl_url=crl_url() if certificates.own_ca else "",
        revoked=list(reversed(revocations())),
        revocation_labels=REVOCATION_LABELS,
        # Someone who keeps the seal running still sees only the documents they may see.
        documents=unsealed_documents(visible(current_user, "documents", Document)),
        seal=_certificate_facts(certificates.seal_cert),
        ca=_certificate_facts(certificates.ca_cert),
        tsa_urls=current_app.config["SIGNET_TSA_URLS"],
        queued=bool(current_app.config.get("REDIS_URL")),
        failure_text=seal_failure_text,
        seal_state=seal_state,
    ), status


@bp.get("")
@require("edit", "settings")
def index():
    """Unsealed documents with their last error; the certificate in use; PKCS#12 upload."""
    return _page(Pkcs12Form())


@bp.post("/retry")
@require("edit", "settings")
def retry():
    """Queue sealing again for every completed document still without its final PDF."""
    count = seal_again(None)
    unit.commit()
    if count:
        flash(_("Sealing was started again for %(count)d document(s).", count=count), "success")
    else:
        flash(_("Every completed document is sealed."), "success")
    return redirect(url_for(".index"))


@bp.post("/certificate")
@require("edit", "settings")
def upload_certificate():
    """Seal from now on with an uploaded PKCS#12; documents sealed before stay verifiable."""
    form = Pkcs12Form()
    if not form.validate_on_submit():
        return _page(form, 400)
    data = form.uploaded_bytes()
    if data is None:
        return _page(form, 400)
    try:
        installed = replace_with_pkcs12(data, form.password.data or None)
    except ValueError as error:
        form.certificate.errors.append(str(error))
        return _page(form, 400)
    facts = _certificate_facts(installed.seal_cert)
    record(SEAL_CERTIFICATE_REPLACED, None, current_user, request_meta(),
           subject=facts["subject"], fingerprint=facts["fingerprint"])
    unit.commit()
    flash(_("Documents are sealed with %(subject)s from now on.", subject=facts["subject"]),
          "success")
    return redirect(url_for(".index"))



@bp.post("/revoke")
@require("edit", "settings")
def revoke():
    """Revoke the seal certificate, seal with a fresh one from the same CA, publish the CRL."""
    form = RevokeForm()
    if not form.validate_on_submit():
        return _page(Pkcs12Form(), 400, revoke_form=form)
    try:
        revocation, fresh = revoke_seal(form.reason.data)
    except ValueError as error:
        flash(str(error), "error")
        return redirect(url_for(".index"))
    fingerprint = _certificate_facts(fresh)["fingerprint"]
    record(SEAL_CERTIFICATE_REVOKED, None, current_user, request_meta(),
           serial=str(revocation.serial), reason=revocation.reason,
           subject=revocation.subject, new_fingerprint=fingerprint)
    unit.commit()
    flash(_("The seal certificate was revoked. Documents are sealed with a new certificate "
            "from now on."), "success")
    return redirect(url_for(".index"))
