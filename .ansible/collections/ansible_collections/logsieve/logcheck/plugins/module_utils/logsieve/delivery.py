"""Sending the report: a sendmail-compatible command, SMTP, or standard output.

A delivery either succeeds or raises DeliveryError; the caller moves cursors
only after success, so a report that did not go out is sent again next time.
"""

import email.policy
import email.utils
import shlex
import smtplib
import ssl
import subprocess
import sys
from email.message import EmailMessage


class DeliveryError(Exception):
    pass


def _header_value(text):
    """Header text from configuration or host names: no line breaks, so no
    injected headers or recipients."""
    return " ".join(str(text).split())


def recipients(value):
    """SENDMAILTO: one or more addresses separated by commas or spaces."""
    addresses = [address for _, address in email.utils.getaddresses([_header_value(value)])
                 if address]
    if not addresses:
        raise DeliveryError(f"no valid recipient in {value!r}")
    for address in addresses:
        if any(char in address for char in "\r\n\0") or address.startswith("-"):
            raise DeliveryError(f"refusing recipient {address!r}")
    return addresses


def build_message(report, subject, to, sender=""):
    """The report as a MIME message that any MTA accepts: UTF-8 text, quoted-
    printable (long lines and any byte survive 7-bit transports)."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = _header_value(subject)
    message["To"] = ", ".join(recipients(to))
    if sender:
        message["From"] = _header_value(sender)
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Auto-Submitted"] = "auto-generated"
    # Log lines are bytes; invalid UTF-8 is shown escaped rather than dropped.
    text = report.decode("utf-8", "backslashreplace")
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    return message


def send_with_command(message, command):
    """Pipe the whole message, headers included, to a sendmail-like command."""
    argv = shlex.split(command)
    if not argv:
        raise DeliveryError("SENDMAIL is empty")
    try:
        completed = subprocess.run(argv, input=message.as_bytes(), stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, check=False, timeout=300)
    except OSError as error:
        raise DeliveryError(f"could not run {argv[0]}: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise DeliveryError(f"{argv[0]} did not finish within 300 seconds") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode("utf-8", "replace").strip()
        raise DeliveryError(f"{argv[0]} exited with status {completed.returncode}"
                            + (f": {detail}" if detail else ""))


def send_with_smtp(message, host, port, starttls=False, user="", password="", sender=""):
    """Hand the message to an SMTP server; success means it accepted every recipient."""
    try:
        with smtplib.SMTP(host, int(port), timeout=60) as client:
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


def deliver(report, subject, settings, to_stdout=False):
    """Deliver `report` (bytes) as configured in `settings` (logcheck.conf variables)."""
    if to_stdout:
        try:
            sys.stdout.buffer.write(report)
            sys.stdout.buffer.flush()
        except OSError as error:
            raise DeliveryError(f"could not write the report: {error.strerror}") from None
        return
    message = build_message(report, subject, settings["SENDMAILTO"], settings.get("SMTP_FROM", ""))
    method = settings.get("DELIVERY", "sendmail")
    if method == "sendmail":
        send_with_command(message, settings["SENDMAIL"])
    elif method == "smtp":
        send_with_smtp(message, settings["SMTP_HOST"], settings["SMTP_PORT"],
                       settings.get("SMTP_STARTTLS", "0") in ("1", "yes"),
                       settings.get("SMTP_USER", ""), settings.get("SMTP_PASSWORD", ""),
                       settings.get("SMTP_FROM", ""))
    else:
        raise DeliveryError(f"DELIVERY must be 'sendmail' or 'smtp', not {method!r}")
