"""The report as a MIME message, written from one file into another.

A report can be hundreds of megabytes (a log flood, a first run on an untuned
server).  Building it as an `email.message.EmailMessage` holds the report
several times over in memory (the text, its encoded form, the serialized
message); here the report is read from its spool file in blocks and each
block is encoded and written to the message's spool file at once, so memory
stays the size of a block whatever the size of the report.  Only the headers
go through the `email` package (folding, RFC 2047 encoding).

Body: 7-bit text when the report is short-lined ASCII (readable as is),
otherwise UTF-8 in quoted-printable, so that long lines and any byte survive
7-bit transports (bytes that are not UTF-8 are shown as `\\xff`).  With
logcheck's MAILASATTACH, 1 attaches the report as `logcheck_report`
(base64), 2 gzip-compressed as `logcheck_report.gz`.

The message is written with Unix line ends, as a local mail file has them
(sendmail reads it so); SMTP converts them on the wire (delivery.py).
"""

import base64
import binascii
import functools
import gzip
import secrets
import tempfile

# RFC 5322's limit is 998 octets per line; below it, plain text goes as is.
LONGEST_PLAIN_LINE = 990
BLOCK_SIZE = 1 << 20
# base64 turns 57 bytes into one line of 76 characters.
BASE64_BLOCK = 57 * 16384


def header_value(text):
    """Header text from configuration or host names: no line breaks, so no
    injected headers or recipients."""
    return " ".join(str(text).split())


def _blocks(handle, size=BLOCK_SIZE):
    handle.seek(0)
    while True:
        block = handle.read(size)
        if not block:
            return
        yield block


def is_plain(report):
    """Whether the report file can go as 7-bit text: ASCII, no NUL or CR, no
    line longer than LONGEST_PLAIN_LINE; read once, a block at a time."""
    line_length = 0  # of the line still open at the end of the previous block
    for block in _blocks(report):
        if not block.isascii() or b"\0" in block or b"\r" in block:
            return False
        lines = block.split(b"\n")
        if len(lines) == 1:
            line_length += len(block)
        else:
            line_length += len(lines[0])
            if max([line_length, *map(len, lines[1:-1])]) > LONGEST_PLAIN_LINE:
                return False
            line_length = len(lines[-1])
        if line_length > LONGEST_PLAIN_LINE:
            return False
    return True


def _whole_line_pieces(report):
    """The report in pieces that end at a line end where possible: (bytes,
    whether the piece ends inside a line).  A line longer than a block is cut
    before a UTF-8 continuation byte so that no character is split."""
    pending = b""
    for block in _blocks(report):
        data = pending + block if pending else block
        end = data.rfind(b"\n") + 1
        if end == 0 and len(data) >= BLOCK_SIZE:
            end = len(data)
            while end > len(data) - 4 and 0x80 <= data[end - 1] < 0xC0:
                end -= 1
            yield data[:end], True
        elif end:
            yield data[:end], False
        pending = data[end:]
    if pending:
        yield pending, False


def _write_quoted_printable(report, out):
    """Quoted-printable, line by line (binascii's encoder, in C): every byte
    but a line's newline is kept, a bare CR or a NUL too (=0D, =00)."""
    encode = functools.partial(binascii.b2a_qp, istext=False)
    ends_in_newline = True
    for piece, cut in _whole_line_pieces(report):
        # Invalid UTF-8 is shown escaped (\\xff), as in the report's text.
        piece = piece.decode("utf-8", "backslashreplace").encode("utf-8")
        out.write(b"\n".join(map(encode, piece.split(b"\n"))))
        if cut:
            out.write(b"=\n")  # a soft line break: the line goes on
        ends_in_newline = cut or piece.endswith(b"\n")
    if not ends_in_newline:
        out.write(b"\n")


def _write_base64(source, out):
    for block in _blocks(source, BASE64_BLOCK):
        out.write(base64.encodebytes(block))


def _write_plain(report, out):
    for block in _blocks(report):
        out.write(block)


def _headers(subject, to, sender, content):
    """The header block (with the blank line after it) as bytes."""
    import email.policy
    import email.utils
    from email.message import EmailMessage

    policy = email.policy.SMTP.clone(linesep="\n")
    message = EmailMessage(policy=policy)
    message["Subject"] = header_value(subject)
    message["To"] = ", ".join(to)
    if sender:
        message["From"] = header_value(sender)
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid("logsieve")
    message["Auto-Submitted"] = "auto-generated"
    message["MIME-Version"] = "1.0"
    for name, value in content:
        message[name] = value
    return b"".join(policy.fold_binary(name, value) for name, value in message.items()) + b"\n"


def _plain_part(charset, encoding):
    return [("Content-Type", f'text/plain; charset="{charset}"'),
            ("Content-Transfer-Encoding", encoding)]


def write_message(report, out, subject, to, sender="", attach=0, tmpdir=None):
    """Write the report held in the binary file `report` as a message into the
    binary file `out`.  `to`: the list of recipient addresses (checked by the
    caller); `attach`: MAILASATTACH (0, 1 or 2)."""
    if attach not in (1, 2):
        plain = is_plain(report)
        out.write(_headers(subject, to, sender, _plain_part(*(
            ("us-ascii", "7bit") if plain else ("utf-8", "quoted-printable")))))
        (_write_plain if plain else _write_quoted_printable)(report, out)
        return
    boundary = "=_logsieve_" + secrets.token_hex(16)
    out.write(_headers(subject, to, sender, [
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"')]))
    out.write(f"--{boundary}\n".encode())
    for name, value in _plain_part("us-ascii", "7bit"):
        out.write(f"{name}: {value}\n".encode())
    out.write(b"\nReport attached\n\n")
    out.write(f"--{boundary}\n".encode())
    if attach == 1:
        out.write(b'Content-Type: text/plain\nContent-Transfer-Encoding: base64\n'
                  b'Content-Disposition: attachment; filename="logcheck_report"\n\n')
        _write_base64(report, out)
    else:
        out.write(b'Content-Type: application/x-gzip\nContent-Transfer-Encoding: base64\n'
                  b'Content-Disposition: attachment; filename="logcheck_report.gz"\n\n')
        with tempfile.TemporaryFile(dir=tmpdir) as compressed:
            with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as packer:
                for block in _blocks(report):
                    packer.write(block)
            _write_base64(compressed, out)
    out.write(f"--{boundary}--\n".encode())
