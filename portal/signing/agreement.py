"""The e-signature agreement a signer accepts: the company's own text or a built-in one."""

import hashlib

# Legal texts in the signer's language (the document's unless the signer picked another): one
# accepts only what one can read. Deliberately short; a company replaces it with its own text.
DEFAULT_AGREEMENTS = {
    "en": (
        "By continuing, I agree to sign this document electronically.\n"
        "I confirm that my electronic signature, made after confirming a one-time code sent to "
        "me, has the same legal force as my handwritten signature, as far as the applicable "
        "law allows.\n"
        "I agree that a record of the signing (my IP address, browser, the time of each step "
        "and the confirmation of the code) is kept with the document as evidence.\n"
        "I may decline to sign instead, giving a reason."
    ),
    "ru": (
        "Продолжая, я соглашаюсь подписать этот документ в электронной форме.\n"
        "Я подтверждаю, что моя электронная подпись, поставленная после ввода одноразового "
        "кода, направленного мне, равнозначна собственноручной подписи в той мере, в какой "
        "это допускает применимое право.\n"
        "Я согласен(на), что сведения о подписании (мой IP-адрес, браузер, время каждого шага "
        "и подтверждение кода) хранятся вместе с документом как доказательство.\n"
        "Вместо подписания я могу отказаться, указав причину."
    ),
    "pt": (
        "Ao continuar, aceito assinar este documento eletronicamente.\n"
        "Confirmo que a minha assinatura eletrónica, feita depois de confirmar um código "
        "único que me foi enviado, tem o mesmo valor jurídico que a minha assinatura "
        "manuscrita, na medida permitida pela lei aplicável.\n"
        "Aceito que o registo da assinatura (o meu endereço IP, o navegador, a hora de cada "
        "passo e a confirmação do código) seja guardado com o documento como prova.\n"
        "Em vez de assinar, posso recusar, indicando o motivo."
    ),
}


def agreement_text(party) -> str:
    """The company's agreement text, else the built-in one in the signer's language."""
    return company_agreement_text(party.document.company, party.speaks)


def company_agreement_text(company, language: str) -> str:
    """As `agreement_text`, for a signer who signs for a company outside a document (a public
    link's pre-signature)."""
    own = (getattr(company, "signing_agreement", "") or "").strip()
    if own:
        return own
    return DEFAULT_AGREEMENTS.get(language, DEFAULT_AGREEMENTS["en"])


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def agreement_paragraphs(party) -> list[str]:
    return paragraphs(agreement_text(party))


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def agreement_sha256(party) -> str:
    """Kept in the audit trail: which exact text the signer accepted."""
    return text_sha256(agreement_text(party))
