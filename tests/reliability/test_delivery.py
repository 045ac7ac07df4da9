"""Delivery through a sendmail-compatible command and through SMTP, run by the
real checker: subjects, encodings, no header injection, failures."""

import email
import email.policy
import gzip
import os
import re
import subprocess

import pytest

from logsieve.config import DEFAULTS, Settings
from logsieve.delivery import smtp_port

from .bed import Bed, reported_numbers
from .smtp_server import SMTPServer


@pytest.fixture
def bed(tmp_path):
    return Bed(str(tmp_path))


def numbered(bed, first, last):
    bed.append(bed.logs[0], [f"line {number}" for number in range(first, last + 1)])


def deliver(bed, *args, **env):
    completed = bed.run(*args, **env)
    assert completed.returncode == 0, completed.stderr.decode()
    messages = bed.messages()
    assert len(messages) == 1
    bed.clear_mail()
    return messages[0]


def test_report_by_sendmail(bed):
    numbered(bed, 1, 3)
    bed.append(bed.logs[0], ["ignoreme 4"])
    message = deliver(bed, "-H", "web1")
    assert message["X-Argv"] == "-t -oi"
    assert message["To"] == "logcheck-reports@example.org"
    assert re.fullmatch(r"web1 \d{4}-\d\d-\d\d \d\d:\d\d [+-]\d{4} System Events",
                        message["Subject"])
    assert message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert body.startswith("System Events\n=-=-=-=-=-=-=\n")
    assert reported_numbers(body) == [1, 2, 3]
    assert "ignoreme" not in body
    # short ASCII lines go as plain 7-bit text, readable as is
    assert message["Content-Transfer-Encoding"] == "7bit"


def test_nothing_to_report_sends_nothing(bed):
    bed.append(bed.logs[0], ["ignoreme 1"])
    completed = bed.run()
    assert completed.returncode == 0
    assert bed.messages() == []


def test_subject_markers(bed):
    bed.write("rules/cracking.d/local-test", "attackme\n")
    bed.append(bed.logs[0], ["attackme now"])
    with open(bed.conf, "a") as conf:
        conf.write("ADDTAG=yes\n")
    message = deliver(bed, "-R", "-H", "gw")
    assert message["Subject"].startswith("[logcheck] Reboot: gw ")
    assert message["Subject"].endswith(" Security Alerts")


def test_host_name_cannot_inject_headers(bed):
    numbered(bed, 1, 1)
    message = deliver(bed, "-H", "evil\nBcc: attacker@example.com\r\nX-Injected: 1")
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "\n" not in message["Subject"]
    assert message["Subject"].startswith("evil Bcc: attacker@example.com X-Injected: 1 ")
    assert message["To"] == "logcheck-reports@example.org"


def test_recipient_list_cannot_inject(bed):
    numbered(bed, 1, 1)
    for evil in ("root\nBcc: attacker@example.com", "-oQ/tmp root", "root Bcc: x@example.com"):
        completed = bed.run("-m" + evil)
        assert completed.returncode == 1
        assert b"refusing recipient" in completed.stderr
    assert bed.messages() == []
    # and the lines are still there for the next run
    message = deliver(bed, "-m", "a@example.org, b@example.org")
    assert message["To"] == "a@example.org, b@example.org"
    assert reported_numbers(message.get_content()) == [1]


def test_log_content_cannot_inject(bed):
    """Log lines are body text: a line that looks like a header or like the
    end of an SMTP message stays a line of the body."""
    bed.append(bed.logs[0], ["Bcc: attacker@example.com", "."])
    with open(bed.logs[0], "ab") as log:
        log.write(b"Bcc: attacker@example.com\n\nTo: x@example.com\n.\n")
    message = deliver(bed)
    assert message["Bcc"] is None
    assert message.get_all("To") == ["logcheck-reports@example.org"]
    assert "Bcc: attacker@example.com" in message.get_content()


def test_long_lines_and_non_ascii_are_encoded(bed):
    long_line = "line 1 " + "é" * 3000
    with open(bed.logs[0], "ab") as log:
        log.write(bed.line(long_line).encode())
        log.write(bed.line("bytes \xff\xfe").encode("latin-1"))
        log.write(bed.line("日本語のログ").encode())
    completed = bed.run("-H", "hôte")
    assert completed.returncode == 0, completed.stderr.decode()
    (name,) = os.listdir(bed.maildir)
    raw = open(os.path.join(bed.maildir, name), "rb").read()
    assert raw.isascii(), "the message must be 7-bit"
    assert b"\r" not in raw, "sendmail gets Unix line ends"
    assert max(len(line) for line in raw.split(b"\n")) <= 78
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert message["Subject"].startswith("hôte ")
    body = message.get_content()
    assert long_line in body
    assert "日本語のログ" in body
    assert "bytes \\xff\\xfe" in body          # invalid UTF-8 shown escaped, not dropped


def test_failed_sendmail_exits_non_zero_and_keeps_lines(bed):
    numbered(bed, 1, 2)
    open(os.path.join(bed.path, "fail"), "w").close()
    failed = bed.run()
    assert failed.returncode == 1
    assert b"exited with status 75: stand-in: temporary failure" in failed.stderr
    os.unlink(os.path.join(bed.path, "fail"))
    assert reported_numbers(deliver(bed).get_content()) == [1, 2]


def test_missing_sendmail_command(bed):
    numbered(bed, 1, 1)
    with open(bed.conf, "a") as conf:
        conf.write('SENDMAIL="/nonexistent/sendmail -t -oi"\n')
    failed = bed.run()
    assert failed.returncode == 1
    assert b"could not run /nonexistent/sendmail" in failed.stderr


def test_stdout_delivery_sends_no_mail(bed):
    numbered(bed, 1, 1)
    completed = bed.run("-o")
    assert completed.returncode == 0
    assert reported_numbers(completed.stdout.decode()) == [1]
    assert bed.messages() == []


def smtp_conf(bed, port, extra=""):
    with open(bed.conf, "a") as conf:
        conf.write(f"DELIVERY=smtp\nSMTP_HOST=127.0.0.1\nSMTP_PORT={port}\n"
                   f"SMTP_FROM=logcheck@web1.example.org\n{extra}")


def test_smtp_delivery(bed):
    server = SMTPServer()
    try:
        smtp_conf(bed, server.port)
        numbered(bed, 1, 2)
        with open(bed.logs[0], "ab") as log:
            log.write(b".\n..leading dots\n")
        completed = bed.run("-H", "web1")
        assert completed.returncode == 0, completed.stderr.decode()
        ((sender, recipients, data),) = server.received
        assert sender == "<logcheck@web1.example.org>"
        assert recipients == ["<logcheck-reports@example.org>"]
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert message["Subject"].endswith(" System Events")
        body = message.get_content()
        assert reported_numbers(body) == [1, 2]
        assert "\n.\n..leading dots\n" in body.replace("\r\n", "\n")
    finally:
        server.stop()


def test_smtp_refusal_keeps_lines(bed):
    server = SMTPServer(reply="451 try again later")
    try:
        smtp_conf(bed, server.port)
        numbered(bed, 1, 2)
        completed = bed.run()
        assert completed.returncode == 1
        assert b"SMTP delivery to 127.0.0.1" in completed.stderr
        assert b"try again later" in completed.stderr
        server.reply = None
        completed = bed.run()
        assert completed.returncode == 0, completed.stderr.decode()
        (received,) = server.received
        assert reported_numbers(email.message_from_bytes(
            received[2], policy=email.policy.default).get_content()) == [1, 2]
    finally:
        server.stop()


def test_smtp_unreachable(bed):
    server = SMTPServer()
    port = server.port
    server.stop()
    smtp_conf(bed, port)
    numbered(bed, 1, 1)
    completed = bed.run()
    assert completed.returncode == 1
    assert b"Connection refused" in completed.stderr


def test_smtp_login_needs_starttls(bed):
    smtp_conf(bed, 25, "SMTP_USER=reports\nSMTP_PASSWORD=secret\n")
    numbered(bed, 1, 1)
    completed = bed.run()
    assert completed.returncode == 1
    assert b"refusing to send the password in clear" in completed.stderr


def test_smtp_password_file_must_not_be_world_readable(bed):
    secret = bed.write("smtp-password", "secret\n", mode=0o644)
    smtp_conf(bed, 25, f"SMTP_USER=reports\nSMTP_STARTTLS=1\nSMTP_PASSWORD_FILE={secret}\n")
    numbered(bed, 1, 1)
    completed = bed.run()
    assert completed.returncode == 1
    assert b"is readable by everyone" in completed.stderr


@pytest.mark.parametrize("attach", ["1", "2"])
def test_report_as_attachment(bed, attach):
    """logcheck's MAILASATTACH: 1 attaches the report, 2 attaches it gzipped."""
    with open(bed.conf, "a") as conf:
        conf.write(f"MAILASATTACH={attach}\n")
    numbered(bed, 1, 2)
    message = deliver(bed)
    parts = list(message.iter_parts())
    assert parts[0].get_content() == "Report attached\n"
    (attachment,) = list(message.iter_attachments())
    data = attachment.get_content()
    if attach == "2":
        assert attachment.get_filename() == "logcheck_report.gz"
        data = gzip.decompress(data)
    else:
        assert attachment.get_filename() == "logcheck_report"
    text = data.decode() if isinstance(data, bytes) else data
    assert reported_numbers(text) == [1, 2]


def test_killed_after_delivery_before_cursors_means_at_least_once(bed):
    """The one way to get a report twice: the checker dies after sendmail
    accepted the report and before the cursors were saved.  The next run
    sends the same lines again (at least once); once a run has exited 0,
    its lines never come again."""
    numbered(bed, 1, 2)
    killed = bed.run(FAKE_SENDMAIL_KILL_CALLER=1)
    assert killed.returncode == -9
    numbered(bed, 3, 3)
    completed = bed.run()
    assert completed.returncode == 0, completed.stderr.decode()
    numbered(bed, 4, 4)
    completed = bed.run()
    assert completed.returncode == 0, completed.stderr.decode()
    assert [reported_numbers(body) for body in bed.bodies()] == [[1, 2], [1, 2, 3], [4]]


def certificate(directory, name):
    """A self-signed certificate for 127.0.0.1 (openssl, as an admin makes one)."""
    cert, key = os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def test_smtp_starttls_and_login_with_password_file(bed):
    cert, key = certificate(bed.path, "server")
    server = SMTPServer(certificate=cert, key=key)
    try:
        secret = bed.write("smtp-password", "s3cret pass\n", mode=0o600)
        smtp_conf(bed, server.port, f"SMTP_STARTTLS=1\nSMTP_USER=reports\n"
                                    f"SMTP_PASSWORD_FILE={secret}\n")
        numbered(bed, 1, 1)
        completed = bed.run(SSL_CERT_FILE=cert)        # the checker trusts this server
        assert completed.returncode == 0, completed.stderr.decode()
        assert server.logins == [("reports", "s3cret pass")]
        (received,) = server.received
        assert reported_numbers(email.message_from_bytes(
            received[2], policy=email.policy.default).get_content()) == [1]
    finally:
        server.stop()


def test_smtp_starttls_verifies_the_certificate(bed):
    cert, key = certificate(bed.path, "server")
    other = certificate(bed.path, "other")[0]
    server = SMTPServer(certificate=cert, key=key)
    try:
        smtp_conf(bed, server.port, "SMTP_STARTTLS=1\n")
        numbered(bed, 1, 1)
        completed = bed.run(SSL_CERT_FILE=other)       # trusts another certificate only
        assert completed.returncode == 1
        assert b"CERTIFICATE_VERIFY_FAILED" in completed.stderr
        assert server.received == []
    finally:
        server.stop()


SORT_STAND_IN = """#!/bin/sh
cat >/dev/null
echo "sort: cannot create temporary file in '/var/tmp': No space left on device" >&2
exit 2
"""


def test_failing_sort_is_named_with_its_status_and_message(bed):
    """Lines out of order go through sort(1) on the pure path (the native
    module sorts them itself and merges runs); when it fails, the error names
    the command, its exit status and its own message, and nothing moves."""
    bed.clock = 5
    bed.append(bed.logs[0], ["line 2"])
    bed.clock = 0
    bed.append(bed.logs[0], ["line 1"])
    bed.write("bin/sort", SORT_STAND_IN, mode=0o755)
    failed = bed.run(PATH=os.path.join(bed.path, "bin") + ":" + os.environ["PATH"],
                     LOGSIEVE_BLOCKMATCH="0")
    assert failed.returncode == 1
    assert re.search(rb"^Error: sort -S 16M -T \S+ -k 1,3 -s exited with status 2: sort: cannot "
                     rb"create temporary file in '/var/tmp': No space left on device$",
                     failed.stderr, re.MULTILINE), failed.stderr
    assert bed.messages() == []
    assert reported_numbers(deliver(bed).get_content()) == [1, 2]


def certificate_authority(directory, name):
    """A private CA (self-signed, as a site's own) and a server certificate for
    127.0.0.1 signed by it: (CA certificate, server certificate, server key)."""
    def path(suffix):
        return os.path.join(directory, f"{name}-{suffix}")

    def openssl(*arguments):
        subprocess.run(["openssl", *arguments], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", path("ca.key"), "-out", path("ca.pem"), "-subj", f"/CN={name} test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"),
            "-out", path("server.csr"), "-subj", "/CN=127.0.0.1")
    with open(path("ext"), "w") as extensions:
        extensions.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"),
            "-CAkey", path("ca.key"), "-CAcreateserial", "-days", "1",
            "-extfile", path("ext"), "-out", path("server.pem"))
    return path("ca.pem"), path("server.pem"), path("server.key")


def test_smtp_implicit_tls_with_login(bed):
    """SMTP_TLS=1: TLS from the first byte (port 465), the server's certificate
    verified against the CA the checker trusts; login allowed."""
    ca, cert, key = certificate_authority(bed.path, "site")
    server = SMTPServer(certificate=cert, key=key, implicit_tls=True)
    try:
        secret = bed.write("smtp-password", "s3cret\n", mode=0o600)
        smtp_conf(bed, server.port, f"SMTP_TLS=1\nSMTP_USER=reports\n"
                                    f"SMTP_PASSWORD_FILE={secret}\n")
        numbered(bed, 1, 2)
        completed = bed.run(SSL_CERT_FILE=ca)
        assert completed.returncode == 0, completed.stderr.decode()
        assert server.logins == [("reports", "s3cret")]
        (received,) = server.received
        assert reported_numbers(email.message_from_bytes(
            received[2], policy=email.policy.default).get_content()) == [1, 2]
    finally:
        server.stop()


def test_smtp_implicit_tls_verifies_the_certificate(bed):
    cert, key = certificate_authority(bed.path, "site")[1:]
    other_ca = certificate_authority(bed.path, "other")[0]
    server = SMTPServer(certificate=cert, key=key, implicit_tls=True)
    try:
        smtp_conf(bed, server.port, "SMTP_TLS=1\n")
        numbered(bed, 1, 1)
        completed = bed.run(SSL_CERT_FILE=other_ca)
        assert completed.returncode == 1
        assert b"CERTIFICATE_VERIFY_FAILED" in completed.stderr
        assert server.received == []
        both = bed.run("-c", bed.write("both.conf", open(bed.conf).read() + "SMTP_STARTTLS=1\n"))
        assert both.returncode == 1
        assert b"SMTP_TLS and SMTP_STARTTLS are both set" in both.stderr
    finally:
        server.stop()


def test_smtp_port_follows_the_tls_mode():
    def port(**variables):
        return smtp_port(Settings.from_variables(dict(DEFAULTS, **variables)))
    assert port(SMTP_TLS="1") == 465
    assert port() == 25
    assert port(SMTP_TLS="1", SMTP_PORT="2465") == 2465
