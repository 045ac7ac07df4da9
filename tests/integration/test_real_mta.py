"""A real MTA receives the report: Debian 12 in a container with systemd as
PID 1, Debian's exim4 delivering locally to /var/mail, the checker installed
from this repository as a wheel into a venv on Debian's python3, run as the
`logcheck` user by `sendmail -t -oi` (the default SENDMAIL).  The same
container has a real journal and rsyslog: the journal cursor and the rule
that keeps the default log list from reading both are checked there too.

Needs podman and the image localhost/logsieve-test:bookworm
(scripts/build-images.sh); the exim4 layer is built here once
(tests/integration/Containerfile.mta).
"""

import email
import email.policy
import mailbox
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

pytestmark = pytest.mark.integration

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_IMAGE = "localhost/logsieve-test:bookworm"
IMAGE = "localhost/logsieve-mta:bookworm"
HERE = os.path.dirname(os.path.abspath(__file__))


def sh(*command, check=True, timeout=600, **kwargs):
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               check=False, timeout=timeout, **kwargs)
    if check and completed.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed ({completed.returncode}):\n"
                             f"{completed.stdout.decode()}\n{completed.stderr.decode()}")
    return completed


def image_exists(name):
    return sh("podman", "image", "exists", name, check=False).returncode == 0


@pytest.fixture(scope="module")
def wheels():
    """The checker and its dependencies as wheels, built on Debian's python3
    (the container's Python is the same Debian 12 python3)."""
    directory = tempfile.mkdtemp(prefix="logsieve-wheels-")
    # Build from a copy: setuptools leaves build/ behind in the tree it builds.
    source = os.path.join(directory, "source")
    os.makedirs(os.path.join(source, "plugins", "module_utils"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source)
    shutil.copytree(os.path.join(ROOT, "plugins", "module_utils", "logsieve"),
                    os.path.join(source, "plugins", "module_utils", "logsieve"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = os.path.join(directory, "venv")
    sh("/usr/bin/python3", "-m", "venv", venv)
    sh(os.path.join(venv, "bin", "pip"), "wheel", "--quiet", "--wheel-dir",
       os.path.join(directory, "wheels"), source, timeout=900)
    yield os.path.join(directory, "wheels")
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def container(wheels):
    assert shutil.which("podman"), "podman is required (scripts/setup-podman.sh)"
    assert image_exists(BASE_IMAGE), f"{BASE_IMAGE} is missing (scripts/build-images.sh)"
    if not image_exists(IMAGE):
        sh("podman", "build", "--build-arg", f"BASE={BASE_IMAGE}", "-t", IMAGE,
           "-f", os.path.join(HERE, "Containerfile.mta"), HERE, timeout=1800)
    name = f"logsieve-mta-{uuid.uuid4().hex[:8]}"
    sh("podman", "run", "-d", "--systemd=always", "--name", name, "--hostname", "mailhost",
       "-v", f"{wheels}:/wheels:ro", IMAGE, "/sbin/init")
    try:
        def run(command, check=True, user=None):
            prefix = ["runuser", "-u", user, "--"] if user else []
            return sh("podman", "exec", name, *prefix, "sh", "-c", command, check=check)

        deadline = time.monotonic() + 120
        while run("systemctl is-system-running", check=False).stdout.strip() not in \
                (b"running", b"degraded"):
            assert time.monotonic() < deadline, "systemd did not come up"
            time.sleep(1)
        run("systemctl is-active exim4 rsyslog systemd-journald")
        run("python3 -m venv /opt/logsieve && "
            "/opt/logsieve/bin/pip install --quiet --no-index --find-links /wheels logsieve")
        run("useradd --create-home reports && "
            "adduser --system --group --home /var/lib/logcheck logcheck && "
            "adduser --quiet logcheck adm && adduser --quiet logcheck systemd-journal && "
            "install -d -o logcheck -g logcheck -m 0700 /var/lib/logcheck/state && "
            "install -d -o logcheck -g logcheck -m 0755 /run/lock/logcheck && "
            "mkdir -p /etc/logcheck/ignore.d.server /etc/logcheck/logcheck.logfiles.d && "
            "install -o root -g adm -m 0640 /dev/null /var/log/app.log && "
            "install -m 0644 /dev/null /etc/logcheck/logcheck.logfiles")
        (rule,) = [line for line in open(os.path.join(ROOT, "tests", "reliability", "bed.py"))
                   if line.startswith("IGNORE_RULE")]
        rule = rule.split('r"', 1)[1].rstrip().rstrip('"')
        run(f"cat > /etc/logcheck/ignore.d.server/local-test <<'EOF'\n{rule}\nEOF")
        run("cat > /etc/logcheck/logcheck.conf <<'EOF'\n"
            "SENDMAILTO=reports\nSTATEDIR=/var/lib/logcheck/state\nINTRO=0\nEOF")
        yield run
    finally:
        sh("podman", "rm", "-f", "-t", "0", name, check=False)


def logsieve(run, *args):
    return run("/opt/logsieve/bin/logsieve " + " ".join(args), check=False, user="logcheck")


def wait_for_mail(run, count, timeout=60):
    """The messages in reports' mailbox, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while True:
        data = run("cat /var/mail/reports 2>/dev/null || true").stdout
        with tempfile.NamedTemporaryFile() as copy:
            copy.write(data)
            copy.flush()
            messages = [email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
                        for message in mailbox.mbox(copy.name)]
        if len(messages) >= count or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def line(text, second):
    return f"Nov 21 10:00:{second:02d} testhost app[42]: {text}"


def append(run, *lines):
    text = "\n".join(lines) + "\n"
    run(f"cat >> /var/log/app.log <<'EOF'\n{text}EOF")


def test_report_arrives_through_exim(container):
    run = container
    run("echo /var/log/app.log > /etc/logcheck/logcheck.logfiles.d/app.logfiles")
    long_text = "line 3 " + "x" * 1500
    append(run, line("line 1", 1), line("ignoreme 2", 2), line(long_text, 3),
           line("line 4 café ünïcödé", 4))
    first = logsieve(run, "-H", "mta-test")
    assert first.returncode == 0, first.stderr.decode()
    (message,) = wait_for_mail(run, 1)
    assert message["To"].split("@")[0] == "reports"
    subject = message["Subject"]
    assert subject.startswith("mta-test ") and subject.endswith(" System Events"), subject
    assert "Received" in message and "Exim" in message["Received"]
    body = message.get_content()
    assert body.startswith("System Events\n=-=-=-=-=-=-=\n")
    assert line("line 1", 1) in body
    assert line(long_text, 3) in body
    assert line("line 4 café ünïcödé", 4) in body
    assert "ignoreme" not in body

    # Nothing new: no mail.  New lines: only those.
    again = logsieve(run, "-H", "mta-test")
    assert again.returncode == 0, again.stderr.decode()
    append(run, line("line 5", 5))
    third = logsieve(run, "-H", "mta-test")
    assert third.returncode == 0, third.stderr.decode()
    messages = wait_for_mail(run, 2)
    assert len(messages) == 2
    assert messages[1].get_content() == f"System Events\n=-=-=-=-=-=-=\n{line('line 5', 5)}\n\n"
    run("rm /etc/logcheck/logcheck.logfiles.d/app.logfiles")


def test_real_journal_cursor_and_no_double_reading(container):
    run = container
    state = "/var/lib/logcheck/state"
    run(f"rm -f /var/mail/reports {state}/offset.*")
    run("printf 'journal\\n' > /etc/logcheck/logcheck.logfiles.d/journal.logfiles")
    run("printf '/var/log/syslog\\n' > /etc/logcheck/logcheck.logfiles.d/syslog.logfiles")
    run("chgrp adm /var/log/syslog && chmod 0640 /var/log/syslog")
    # rsyslog writes /var/log/syslog: Debian's default list (journal + syslog)
    # must not report a message twice.
    marker = f"logsieve-marker-{uuid.uuid4().hex[:8]}"
    run(f"logger -t probe {marker}-one")
    deadline = time.monotonic() + 30
    while marker.encode() not in run("cat /var/log/syslog").stdout:
        assert time.monotonic() < deadline, "rsyslog did not write the message"
        time.sleep(0.2)
    report = logsieve(run, "-o", "-d")
    assert report.returncode == 0, report.stderr.decode()
    assert b"journal not read: its messages are in /var/log/syslog" in report.stderr
    assert report.stdout.decode().count(f"{marker}-one") == 1

    # Journal only: read through journalctl with the journal's own cursor.
    run("rm /etc/logcheck/logcheck.logfiles.d/syslog.logfiles")
    first = logsieve(run, "-o")
    assert first.returncode == 0, first.stderr.decode()
    assert b"first time logcheck has checked the systemd journal" in first.stdout
    assert f"{marker}-one".encode() in first.stdout
    cursor = run(f"cat {state}/offset.journal").stdout
    assert cursor.startswith(b"s="), cursor
    run(f"logger -t probe {marker}-two")
    time.sleep(1)
    second = logsieve(run, "-o")
    assert second.returncode == 0, second.stderr.decode()
    assert f"{marker}-two".encode() in second.stdout
    assert f"{marker}-one".encode() not in second.stdout
    assert b"first time" not in second.stdout
    run("rm /etc/logcheck/logcheck.logfiles.d/journal.logfiles")
