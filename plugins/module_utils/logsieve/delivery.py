"""Sending the report: a sendmail-compatible command, SMTP, or standard output.

A delivery either succeeds or raises DeliveryError; the caller moves cursors
only after success, so a report that did not go out is sent again next time.
Success means: the sendmail command exited 0 after reading the whole message,
or the SMTP server accepted the message for every recipient.

Settings (logcheck.conf variables; logcheck itself ignores them):
  DELIVERY=sendmail        SENDMAIL="/usr/sbin/sendmail -t -oi" (the message,
                           headers included, on its standard input)
  DELIVERY=smtp            SMTP_HOST, SMTP_PORT (25), SMTP_STARTTLS (0/1),
                           SMTP_USER, SMTP_PASSWORD or SMTP_PASSWORD_FILE,
                           SMTP_FROM
  MAILASATTACH=0|1|2       logcheck's: the report inline, attached, or gzipped
"""

import gzip
import os
import shlex
import socket
import subprocess
import tempfile
from .errors import LogsieveError

# email, smtplib and ssl are imported where a report is sent: most runs find
# nothing to report, and importing them costs more than reading a small log.

# RFC 5322's limit is 998 octets per line; below it, plain text goes as is.
LONGEST_PLAIN_LINE = 990


class DeliveryError(LogsieveError):
    pass


def _header_value(text):
    """Header text from configuration or host names: no line breaks, so no
    injected headers or recipients."""
    return " ".join(str(text).split())


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
        addresses = [address for _, address in email.utils.getaddresses([value])]
    else:
        addresses = value.split()
    if not addresses or not all(addresses):
        raise DeliveryError(f"no valid recipient in {value!r}")
    for address in addresses:
        if address.startswith("-") or any(char.isspace() or char in '<>,;:"()[]\\'
                                          for char in address):
            raise DeliveryError(f"refusing recipient {address!r} in {value!r}")
    return addresses


def _plain(report):
    """Whether the report can go as 7-bit text: ASCII, no NUL, no long line."""
    return report.isascii() and b"\0" not in report and b"\r" not in report and \
        all(len(line) <= LONGEST_PLAIN_LINE for line in report.split(b"\n"))


def build_message(report, subject, to, sender="", attach=0):
    """The report as a MIME message that any MTA accepts.

    Headers: the subject and addresses are folded onto one line (no header or
    recipient can be injected through a host name or a log line) and
    RFC 2047-encoded when not ASCII.  Body: 7-bit text when it is short-lined
    ASCII (readable as is), otherwise UTF-8 in quoted-printable, so that
    long lines and any byte survive 7-bit transports (logcheck needed its
    MIMEENCODING switch after exim rejected such mails).

    attach: logcheck's MAILASATTACH: 1 sends the report as the attachment
    logcheck_report, 2 gzip-compressed as logcheck_report.gz, with the
    text "Report attached".
    """
    import email.policy
    import email.utils
    from email.message import EmailMessage

    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = _header_value(subject)
    message["To"] = ", ".join(recipients(to))
    if sender:
        message["From"] = _header_value(sender)
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid("logsieve")
    message["Auto-Submitted"] = "auto-generated"
    if attach in (1, 2):
        message.set_content("Report attached\n", subtype="plain", charset="us-ascii", cte="7bit")
        if attach == 1:
            message.add_attachment(report, maintype="text", subtype="plain",
                                   filename="logcheck_report", cte="base64")
        else:
            message.add_attachment(gzip.compress(report), maintype="application",
                                   subtype="x-gzip", filename="logcheck_report.gz")
    elif _plain(report):
        message.set_content(report.decode("ascii"), subtype="plain", charset="us-ascii",
                            cte="7bit")
    else:
        # Log lines are bytes; invalid UTF-8 is shown escaped rather than dropped.
        text = report.decode("utf-8", "backslashreplace")
        message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return message


def send_with_command(message, command, tmpdir=None):
    """Give the whole message, headers included, to a sendmail-like command on
    its standard input.

    The message is written to an unnamed owner-only temporary file first and
    the command reads that file: if logsieve dies while sendmail runs,
    sendmail still reads a complete message (a pipe would end early, and
    `sendmail -t -oi` would send the truncated report).
    """
    argv = shlex.split(command)
    if not argv:
        raise DeliveryError("SENDMAIL is empty")
    try:
        with tempfile.TemporaryFile(dir=tmpdir if tmpdir and os.path.isdir(tmpdir) else None) \
                as spool:
            # sendmail reads a local message: Unix line ends, as a mail file has
            spool.write(message.as_bytes(policy=message.policy.clone(linesep="\n")))
            spool.flush()
            spool.seek(0)
            completed = subprocess.run(argv, stdin=spool, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, check=False, timeout=300)
    except OSError as error:
        raise DeliveryError(f"could not run {argv[0]}: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise DeliveryError(f"{argv[0]} did not finish within 300 seconds") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip()
        raise DeliveryError(f"{argv[0]} exited with status {completed.returncode}"
                            + (f": {detail}" if detail else ""))


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


def send_with_smtp(message, host, port, starttls=False, user="", password="", sender=""):
    """Hand the message to an SMTP server; success means it accepted every recipient.

    A login is refused without STARTTLS: the password would cross the network
    in clear."""
    import smtplib
    import ssl

    if user and not starttls:
        raise DeliveryError("SMTP_USER is set but SMTP_STARTTLS is not: refusing to send "
                            "the password in clear")
    try:
        with smtplib.SMTP(host, port, timeout=60) as client:
            client.ehlo()
            if starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if user:
                client.login(user, password)
            refused = client.send_message(message, from_addr=sender or None)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP delivery to {host}:{port} failed: {error}") from None
    if refused:
        raise DeliveryError(f"SMTP server refused recipients: {', '.join(refused)}")


def deliver(report, subject, settings):
    """Deliver `report` (bytes) as configured in `settings` (config.Settings:
    DELIVERY is sendmail or smtp).  With -o the command line writes the report
    itself."""
    sender = settings.smtp_from
    if settings.delivery == "smtp" and not sender:
        # sendmail adds a From of its own; an SMTP server needs one.
        sender = f"logcheck@{socket.getfqdn()}"
    message = build_message(report, subject, settings.mail_to, sender,
                            settings.mail_as_attachment)
    if settings.delivery == "sendmail":
        send_with_command(message, settings.sendmail, settings.tmp)
    else:
        send_with_smtp(message, settings.smtp_host, settings.smtp_port, settings.smtp_starttls,
                       settings.smtp_user, smtp_password(settings), sender)
