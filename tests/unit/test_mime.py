"""The message is written from the report file a block at a time; read back
by the email package it must give the report, whatever its bytes and line
lengths, and wherever the blocks are cut."""

import email
import email.policy
import gzip
import io

import pytest

from logsieve import mime

REPORTS = [
    b"System Events\n=-=-=-=-=-=-=\nplain ascii line\n\n",
    b"System Events\n=-=-=-=-=-=-=\nutf-8 \xc3\xa9 and invalid \xff, trailing blanks  \n\n",
    b"x" * 3000 + b"\n\n",                                  # longer than a block
    "é".encode() * 2500 + b"\nno final newline",             # a character at every cut
    b".leading dot\nFrom the start\n\0 nul\r cr\n",
]


@pytest.mark.parametrize("report", REPORTS)
@pytest.mark.parametrize("attach", [0, 1, 2])
def test_message_gives_back_the_report(report, attach, monkeypatch):
    monkeypatch.setattr(mime, "BLOCK_SIZE", 1000)
    out = io.BytesIO()
    mime.write_message(io.BytesIO(report), out, "host 2026-12-03 System Events",
                       ["reports@example.org"], "logcheck@example.org", attach)
    raw = out.getvalue()
    assert raw.isascii() and max(len(line) for line in raw.split(b"\n")) <= 78
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "reports@example.org"
    if attach == 0:
        expected = report.decode("utf-8", "backslashreplace")
        assert message.get_content() in (expected, expected + "\n")
    else:
        (attachment,) = list(message.iter_attachments())
        data = attachment.get_payload(decode=True)
        assert (gzip.decompress(data) if attach == 2 else data) == report
