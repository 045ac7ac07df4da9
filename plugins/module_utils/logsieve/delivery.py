"""Sending the report: a sendmail-compatible command or SMTP.

A delivery either succeeds or raises DeliveryError; the caller moves cursors
only after success, so a report that did not go out is sent again next time.
Success means: the sendmail command exited 0 after reading the whole message,
or the SMTP server accepted the message for every recipient.

The message is never held whole in memory: mime.py writes it from the
report's spool file into an unnamed owner-only temporary file, which
sendmail reads as its standard input and SMTP streams from, a block at a
time.

Settings (logcheck.conf variables; logcheck itself ignores them):
  DELIVERY=sendmail        SENDMAIL="/usr/sbin/sendmail -t -oi" (the message,
                           headers included, on its standard input)
  DELIVERY=smtp            SMTP_HOST, SMTP_PORT (25, or 465 with SMTP_TLS=1),
                           SMTP_STARTTLS (0/1), SMTP_TLS (0/1: implicit TLS),
                           SMTP_USER, SMTP_PASSWORD or SMTP_PASSWORD_FILE,
                           SMTP_FROM
  MAILASATTACH=0|1|2       logcheck's: the report inline, attached, or gzipped
"""

import os
import shlex
import socket
import subprocess
import tempfile

from .errors import CommandError, LogsieveError
from .mime import write_message

# email, smtplib and ssl are imported where a report is sent: most runs find
# nothing to report, and importing them costs more than reading a small log.

SENDMAIL_TIMEOUT = 300
# How much of a command's standard error is kept for the error message.
STDERR_KEPT = 64 << 10


class DeliveryError(LogsieveError):
    pass


def recipients(value):
    """SENDMAILTO: one or more addresses separated by commas or spaces
    ("root", "a@example.org, b@example.org", "Admin <a@example.org>").

    Each address is a single token without white space, quotes, brackets or
    a leading '-' (it must not be read as an option or a second header).
    """
    value = str(value)
    if any(char in value for char in "\r\n\0"):
        raise DeliveryError(f"refusing recipient list with a line break: {value!r}")
    if "<" in value or "," in value:
        import email.utils
        addresses = [address for _name, address in email.utils.getaddresses([value])]
    else:
        addresses = value.split()
    if not addresses or not all(addresses):
        raise DeliveryError(f"no valid recipient in {value!r}")
    for address in addresses:
        if address.startswith("-") or any(char.isspace() or char in '<>,;:"()[]\\'
                                          for char in address):
            raise DeliveryError(f"refusing recipient {address!r} in {value!r}")
    return addresses


def sender(settings):
    """SMTP_FROM; with SMTP a default one (sendmail adds a From of its own,
    an SMTP server needs one)."""
    if settings.delivery == "smtp" and not settings.smtp_from:
        return f"logcheck@{socket.getfqdn()}"
    return settings.smtp_from


def spool_message(report, subject, settings):
    """The message carrying `report` (an open binary file), written to an
    unnamed owner-only temporary file, returned open; `settings`: a
    config.Settings.  Recipients are checked here, before anything is sent."""
    tmpdir = settings.temporary_directory()
    spool = tempfile.TemporaryFile(dir=tmpdir)
    try:
        write_message(report, spool, subject, recipients(settings.mail_to), sender(settings),
                      settings.mail_as_attachment, tmpdir)
        spool.flush()
    except BaseException:
        spool.close()
        raise
    return spool


def send_with_command(message, command, tmpdir=None):
    """Give the whole message (an open file), headers included, to a
    sendmail-like command on its standard input.

    The command reads the spool file itself: if logsieve dies while sendmail
    runs, sendmail still reads a complete message (a pipe would end early,
    and `sendmail -t -oi` would send the truncated report).
    """
    argv = shlex.split(command)
    if not argv:
        raise DeliveryError("SENDMAIL is empty")
    message.seek(0)
    try:
        with tempfile.TemporaryFile(dir=tmpdir) as errors:
            try:
                completed = subprocess.run(argv, stdin=message, stdout=subprocess.DEVNULL,
                                           stderr=errors, check=False,
                                           timeout=SENDMAIL_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise DeliveryError(f"{command} did not finish within {SENDMAIL_TIMEOUT} "
                                    f"seconds") from None
            errors.seek(0)
            detail = errors.read(STDERR_KEPT)
    except OSError as error:
        raise DeliveryError(f"could not run {argv[0]}: {error.strerror}") from None
    if completed.returncode != 0:
        raise CommandError(argv, completed.returncode, detail)


def smtp_password(settings):
    """SMTP_PASSWORD, or the first line of SMTP_PASSWORD_FILE (so that the
    secret need not sit in logcheck.conf); the file must not be world-readable."""
    path = settings.smtp_password_file
    if not path:
        return settings.smtp_password
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_mode & 0o004:
                raise DeliveryError(f"SMTP_PASSWORD_FILE {path} is readable by everyone; "
                                    f"chmod o-r it")
            return handle.read().split(b"\n")[0].decode("utf-8")
    except OSError as error:
        raise DeliveryError(f"cannot read SMTP_PASSWORD_FILE {path}: {error.strerror}") from None


def _lines_for_smtp(message):
    """The spooled message (Unix line ends) as SMTP's DATA wants it: CRLF line
    ends, a leading dot doubled, ending in CRLF; in blocks."""
    pending = b""
    for block in iter(lambda: message.read(1 << 20), b""):
        data = pending + block
        end = data.rfind(b"\n") + 1
        pending = data[end:]
        if end:
            lines = data[:end - 1].split(b"\n")
            yield b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n"
                           for line in lines)
    if pending:
        yield (b"." if pending.startswith(b".") else b"") + pending + b"\r\n"


def send_with_smtp(message, host, port, starttls=False, user="", password="", sender="",
                   recipient_list=(), implicit_tls=False):
    """Hand the spooled message (an open file) to an SMTP server, streaming it;
    success means the server accepted it for every recipient.

    implicit_tls: TLS from the first byte (port 465, "submissions"); starttls:
    STARTTLS before anything else.  Both verify the server's certificate and
    name.  A login is refused without either: the password would cross the
    network in clear."""
    import smtplib
    import ssl

    if user and not (starttls or implicit_tls):
        raise DeliveryError("SMTP_USER is set but neither SMTP_STARTTLS nor SMTP_TLS is: "
                            "refusing to send the password in clear")
    where = f"SMTP delivery to {host}:{port} failed"
    message.seek(0, os.SEEK_END)
    size = message.tell()
    message.seek(0)
    try:
        if implicit_tls:
            client = smtplib.SMTP_SSL(host, port, timeout=60,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=60)
        with client:
            client.ehlo()
            if starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if user:
                client.login(user, password)
            options = [f"SIZE={size}"] if client.has_extn("size") else []
            code, reply = client.mail(sender, options)
            if code != 250:
                raise DeliveryError(f"{where}: MAIL FROM refused: {code} {_text(reply)}")
            refused = []
            for address in recipient_list:
                code, reply = client.rcpt(address)
                if code not in (250, 251):
                    refused.append(f"{address} ({code} {_text(reply)})")
            if refused:
                client.rset()
                raise DeliveryError(f"SMTP server {host}:{port} refused recipients: "
                                    + ", ".join(refused))
            code, reply = client.docmd("DATA")
            if code != 354:
                raise DeliveryError(f"{where}: DATA refused: {code} {_text(reply)}")
            for chunk in _lines_for_smtp(message):
                client.send(chunk)
            client.send(b".\r\n")
            code, reply = client.getreply()
            if code != 250:
                raise DeliveryError(f"{where}: the server refused the message "
                                    f"({size} bytes): {code} {_text(reply)}")
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"{where}: {error}") from None


def _text(reply):
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def smtp_port(settings):
    """SMTP_PORT, or the standard port: 465 with implicit TLS, else 25."""
    if settings.smtp_port is not None:
        return settings.smtp_port
    return 465 if settings.smtp_tls else 25


def deliver(message, settings):
    """Deliver the spooled message (see spool_message) as configured in
    `settings` (config.Settings).  With -o the command line writes the report
    itself."""
    if settings.delivery == "sendmail":
        send_with_command(message, settings.sendmail, settings.temporary_directory())
        return
    if settings.smtp_tls and settings.smtp_starttls:
        raise DeliveryError("SMTP_TLS and SMTP_STARTTLS are both set: choose one "
                            "(SMTP_TLS=1 for port 465, SMTP_STARTTLS=1 for 25 or 587)")
    send_with_smtp(message, settings.smtp_host, smtp_port(settings), settings.smtp_starttls,
                   settings.smtp_user, smtp_password(settings), sender(settings),
                   recipients(settings.mail_to), implicit_tls=settings.smtp_tls)
