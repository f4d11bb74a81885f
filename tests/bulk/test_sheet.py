"""Spreadsheets of clients: what is read becomes rows of text; what is refused says why."""

import csv
import datetime
import struct
import zipfile
import zlib
from io import BytesIO, StringIO

import openpyxl
import pytest
from flask_babel import force_locale

from portal.bulk.sheet import SheetRefused, read_sheet
from tests.pdfs.support import configured, light_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return light_app(tmp_path_factory.mktemp("sheet"))


def read(app, data: bytes, filename: str, **config):
    with configured(app, **config):
        return read_sheet(data, filename)


def refusal(app, data: bytes, filename: str, **config) -> str:
    with pytest.raises(SheetRefused) as caught, configured(app, **config):
        read_sheet(data, filename)
    assert caught.value.status == 422
    return caught.value.message


def csv_bytes(rows, delimiter=",", encoding="utf-8") -> bytes:
    text = StringIO(newline="")
    csv.writer(text, delimiter=delimiter).writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


CLIENTS = [["Name", "Email", "Amount"],
           ["Ada Lovelace", "ada@example.com", "1200"],
           ["Grace Hopper", "grace@example.com", "950.50"]]


def test_utf8_commas_with_and_without_bom(app):
    for data, label in ((csv_bytes(CLIENTS), "plain"),
                        (b"\xef\xbb\xbf" + csv_bytes(CLIENTS), "bom")):
        sheet = read(app, data, "clients.csv")
        assert sheet.headers == ["Name", "Email", "Amount"], label
        assert sheet.rows == CLIENTS[1:], label
        assert sheet.row_numbers == [2, 3], label
        assert (sheet.encoding, sheet.delimiter) == ("utf-8", ","), label


def test_russian_excel_cp1251_with_semicolons(app):
    rows = [["ФИО", "Почта", "Сумма, руб."],
            ["Иванов Иван", "ivanov@example.ru", "1 500,00"],
            ["Петрова Анна", "", "700"]]
    sheet = read(app, csv_bytes(rows, delimiter=";", encoding="cp1251"), "Клиенты.CSV")
    assert (sheet.encoding, sheet.delimiter) == ("cp1251", ";")
    assert sheet.headers == rows[0]
    assert sheet.rows == rows[1:]


def test_quoted_newlines_blank_rows_padding_and_stripping(app):
    data = (b'Name,Address,Note\r\n'
            b'"Ada", "12 Main St\r\nFlat 3" ,x,extra\r\n'
            b'\r\n ,  , \r\n'
            b'Grace\r\n'
            b'\r\n\r\n')
    sheet = read(app, data, "clients.csv")
    assert sheet.rows == [["Ada", "12 Main St\r\nFlat 3", "x"], ["Grace", "", ""]]
    # Rows as a spreadsheet program numbers them: a quoted line break stays in its cell.
    assert sheet.row_numbers == [2, 5]


def test_tab_separated(app):
    sheet = read(app, csv_bytes(CLIENTS, delimiter="\t"), "clients.tsv")
    assert sheet.delimiter == "\t"
    assert sheet.rows[1] == ["Grace Hopper", "grace@example.com", "950.50"]


def test_a_comma_inside_a_semicolon_header_does_not_fool_the_delimiter(app):
    data = "Имя;Сумма, руб.;Почта\nАда;1,5;ada@example.com\n".encode()
    sheet = read(app, data, "clients.csv")
    assert sheet.delimiter == ";"
    assert sheet.headers == ["Имя", "Сумма, руб.", "Почта"]


def test_xlsx_numbers_dates_formula_and_empty_rows(app):
    rows = [["Name", "Phone", "Amount", "Rate", "Signed on", "At", "Total", "Paid"],
            ["Ada", 79161234567, 1200.0, 0.1 + 0.2, datetime.date(2026, 12, 3),
             datetime.datetime(2026, 12, 3, 14, 30), "=C2*2", True],
            [None, None, None],
            ["Grace", 1, 2.5, None, None, None, None, False],
            [], [], [None, "  "]]
    sheet = read(app, xlsx_bytes(rows), "clients.xlsx")
    assert sheet.headers == rows[0]
    assert (sheet.encoding, sheet.delimiter) == (None, None)
    assert sheet.rows == [
        # openpyxl saves no value with a formula: not evaluated, the cell reads empty.
        ["Ada", "79161234567", "1200", "0.3", "2026-12-03", "2026-12-03 14:30", "", "TRUE"],
        ["Grace", "1", "2.5", "", "", "", "", "FALSE"],
    ]
    assert sheet.row_numbers == [2, 4]


def test_limits_in_the_message(app):
    many = [["Name", "Email"]] + [[f"Client {i}", f"c{i}@example.com"] for i in range(6)]
    assert "more than 5 clients" in refusal(app, csv_bytes(many), "c.csv",
                                            SIGNET_BULK_MAX_ROWS=5)
    assert len(read(app, csv_bytes(many), "c.csv", SIGNET_BULK_MAX_ROWS=6).rows) == 6
    assert "more than 5 clients" in refusal(app, xlsx_bytes(many), "c.xlsx",
                                            SIGNET_BULK_MAX_ROWS=5)
    assert "larger than 1 MB" in refusal(app, b"Name,Email\n" + b"a,b\n" * 300_000, "c.csv",
                                         SIGNET_BULK_MAX_BYTES=1024 * 1024)
    wide = [[f"Column {i}" for i in range(11)], ["x"] * 11]
    for data, name in ((csv_bytes(wide), "w.csv"), (xlsx_bytes(wide), "w.xlsx")):
        assert "more than 10 columns" in refusal(app, data, name, SIGNET_BULK_MAX_COLUMNS=10)
    long_cell = [["Name", "Note"], ["Ada", "ok"], ["Grace", "x" * 2001]]
    for data, name in ((csv_bytes(long_cell), "l.csv"), (xlsx_bytes(long_cell), "l.xlsx")):
        assert "row 3, column B is longer than 2000 characters" in refusal(app, data, name)


def test_headers_are_required_named_and_distinct(app):
    assert "Column B has no name in the first row (row 1)" in refusal(
        app, csv_bytes([["Name", "", "Email"], ["a", "b", "c"]]), "h.csv")
    assert "Two columns are named “email” (columns B and D)" in refusal(
        app, xlsx_bytes([["Name", "Email", "Phone", "email"], ["a", "b", "c", "d"]]), "h.xlsx")
    assert "no clients below it" in refusal(app, csv_bytes([["Name", "Email"], ["", ""]]),
                                            "h.csv")
    assert "single column" in refusal(app, b"Name|Email\nAda|ada@example.com\n", "h.csv")


def test_unreadable_text_is_refused(app):
    assert "zero bytes" in refusal(app, "Name,Email\n".encode("utf-16"), "u.csv")
    # Not UTF-8, and cp1251 would make control characters of it: not a text we read.
    assert "neither UTF-8 nor Windows Cyrillic" in refusal(
        app, b"Name,Email\n\x81\x01\x02\x98,\x03\n", "u.csv")
    for empty in (b"", b"  \r\n\r\n", b"\xef\xbb\xbf\r\n"):
        assert "The file is empty" in refusal(app, empty, "e.csv")


def test_other_formats_are_refused(app):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
    ods = BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    for data, name in ((ole, "old.xls"), (ole, "old.csv"), (pdf, "clients.csv"),
                       (pdf, "clients.pdf"), (csv_bytes(CLIENTS), "clients.ods"),
                       (ods.getvalue(), "clients.xlsx"), (xlsx_bytes(CLIENTS), "clients.csv")):
        assert "is not a CSV or XLSX spreadsheet" in refusal(app, data, name), name


def test_damaged_xlsx_is_refused(app):
    whole = xlsx_bytes(CLIENTS)
    for data in (whole[: len(whole) // 2], csv_bytes(CLIENTS), b"PK\x03\x04" + bytes(100)):
        assert "damaged or is not really an Excel workbook" in refusal(app, data, "c.xlsx")
    # A valid zip whose workbook XML is garbage.
    broken = BytesIO()
    with zipfile.ZipFile(BytesIO(whole)) as source, zipfile.ZipFile(broken, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            target.writestr(entry, b"<not xml" if entry.filename == "xl/workbook.xml" else content)
    assert "damaged" in refusal(app, broken.getvalue(), "c.xlsx")


def test_zip_bomb_is_refused_before_it_is_inflated(app):
    bomb = zip_with_bomb(xlsx_bytes(CLIENTS), "xl/sharedStrings.xml", 2 * 1024 ** 3)
    assert len(bomb) < 5 * 1024 * 1024
    assert "unpacks to far more data" in refusal(app, bomb, "bomb.xlsx")


def test_a_file_beyond_the_sandbox_bounds_is_refused(app):
    # One line splitting into 300,000 cells: a megabyte that needs tens of megabytes to parse.
    data = b"Name,Email\n" + b"ab," * 300_000 + b"\n"
    assert read(app, data, "c.csv").rows == [["ab", "ab"]]
    assert "needs more time or memory to open" in refusal(app, data, "c.csv",
                                                          SIGNET_FILE_MEMORY_MB=16)


def test_messages_are_translated(app):
    data = csv_bytes([["Name", "Name"], ["a", "b"]])
    for language, words in (("ru", "Два столбца"), ("pt", "Duas colunas")):
        with pytest.raises(SheetRefused) as caught, configured(app), force_locale(language):
            read_sheet(data, "c.csv")
        assert words in caught.value.message, language


def zip_with_bomb(xlsx: bytes, name: str, size: int) -> bytes:
    """The workbook's entries with `name` replaced by `size` zero bytes deflated (~1/1000).

    Written by hand: zipfile would have to deflate the gigabytes. One full-flushed block of
    zeros repeated is a valid raw deflate stream; the CRC is left wrong, as nothing may read it.
    """
    block_size = 16 * 1024 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(block_size)) + compressor.flush(zlib.Z_FULL_FLUSH)
    entries = []
    with zipfile.ZipFile(BytesIO(xlsx)) as source:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == name:
                continue
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            entries.append((info.filename, packer.compress(content) + packer.flush(),
                            zlib.crc32(content), len(content)))
    stream = block * (size // block_size) + compressor.flush(zlib.Z_FINISH)
    entries.append((name, stream, 0, size))
    out, directory = BytesIO(), BytesIO()
    for filename, data, crc, length in entries:
        encoded = filename.encode()
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data),
                              length, len(encoded), 0) + encoded + data)
        directory.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0,
                                    crc, len(data), length, len(encoded), 0, 0, 0, 0, 0,
                                    offset) + encoded)
    start = out.tell()
    out.write(directory.getvalue())
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                          len(directory.getvalue()), start, 0))
    return out.getvalue()
