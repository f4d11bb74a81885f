"""Form data and images for the parties tests."""

from io import BytesIO

from PIL import Image, ImageDraw

COMPANY_FORM = {
    "legal_name": "Signet Demo LLC",
    "short_name": "Signet Demo",
    "email": "office@signet-demo.example",
    "phone": "+7 495 123-45-67",
    "tax_id": "7707083893",
    "kpp": "770701001",
    "registration_number": "1027700132195",
    "address": "Moscow, Tverskaya st. 1, office 10",
    "bank_name": "PJSC Sberbank",
    "bank_account": "40702810900000000001",
    "correspondent_account": "30101810400000000225",
    "bank_code": "044525225",
    "signer_name": "Anna Petrova",
    "signer_position": "Director",
    "signer_email": "director@signet-demo.example",
    "signer_phone": "+7 916 123-45-67",
}


def company_form(**changes) -> dict:
    return {**COMPANY_FORM, **changes}


def counterparty_form(**changes) -> dict:
    data = {"kind": "person", "name": "Maria Silva", "email": "maria.silva@example.com",
            "phone": "", "notes": ""}
    return {**data, **changes}


def stamp_png(size=(160, 160)) -> bytes:
    """A round red stamp on a transparent background."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((4, 4, size[0] - 5, size[1] - 5), outline=(200, 20, 40, 230),
                                  width=6)
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def image_bytes(format_name: str, size=(60, 60), mode="RGB") -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, (30, 60, 200)).save(buffer, format_name)
    return buffer.getvalue()


def upload(data: bytes, filename: str):
    return (BytesIO(data), filename)
