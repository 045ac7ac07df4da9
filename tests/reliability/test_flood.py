"""A log flood: the report is larger than the MTA takes.  Without a cap the
delivery fails on every run and the checker is wedged; with MAX_REPORT_SIZE a
digest goes out, the full report is kept on the host, and the cursors move.
Real checker, real sendmail stand-in and SMTP server that refuse big mail."""

import email
import email.policy
import gzip
import os
import re
import stat
import time

import pytest

from logsieve.archive import prune

from .bed import Bed, reported_numbers
from .smtp_server import SMTPServer

FLOOD = 20000            # about 1 MB of report
MTA_LIMIT = 200 * 1024   # what the MTA takes
CAP = 100 * 1024         # MAX_REPORT_SIZE


@pytest.fixture
def bed(tmp_path):
    bed = Bed(str(tmp_path), extra_conf=f"MAX_REPORT_SIZE={CAP // 1024}K\n")
    bed.write("rules/cracking.d/local-test", "attackme\n")
    bed.write("rules/violations.d/local-test", "violation\n")
    return bed


def flood(bed, first=1):
    texts = [f"line {number}" for number in range(first, first + FLOOD)]
    texts[FLOOD // 2:FLOOD // 2] = [f"attackme {number}" for number in range(1, 31)]
    texts[FLOOD // 3:FLOOD // 3] = [f"violation {number}" for number in range(1, 31)]
    bed.append(bed.logs[0], texts)


def kept_report(body):
    (path,) = re.findall(r"^    (/\S+\.gz)$", body, re.MULTILINE)
    return path


def check_digest(bed, body, size):
    assert size <= CAP
    assert "This report is too large to mail" in body
    assert re.search(rf"^ +{FLOOD}  System Events$", body, re.MULTILINE)
    assert re.search(r"^ +30  Security Alerts for local-test$", body, re.MULTILINE)
    assert re.search(r"^ +30  Security Events for local-test$", body, re.MULTILINE)
    # attack and security sections whole, before the cut system events
    assert reported_numbers(body, "attackme") == list(range(1, 31))
    assert reported_numbers(body, "violation") == list(range(1, 31))
    # the system events do not fit: their grouped summary does
    assert f"({FLOOD} lines, grouped into 1 templates with their counts; the lines are in " \
        "the full report)" in body
    assert re.search(rf"^ +{FLOOD}  app: line <NUM>$", body, re.MULTILINE)
    assert reported_numbers(body) == []
    titles = ("Security Alerts for local-test\n", "Security Events for local-test\n",
              "System Events\n=")
    assert [body.index(title) for title in titles] == sorted(body.index(title) for title in titles)
    # the full report: on the host, whole, owner-only
    path = kept_report(body)
    assert path.startswith(os.path.join(bed.statedir, "reports") + "/")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    full = gzip.decompress(open(path, "rb").read()).decode()
    assert reported_numbers(full) == list(range(1, FLOOD + 1))
    assert reported_numbers(full, "attackme") == list(range(1, 31))
    return path


def test_sendmail_refusing_big_mail_gets_a_digest(bed):
    flood(bed)
    uncapped = bed.write("uncapped.conf", open(bed.conf).read() + "MAX_REPORT_SIZE=0\n")
    wedged = bed.run("-c", uncapped, FAKE_SENDMAIL_MAX_SIZE=MTA_LIMIT)
    assert wedged.returncode == 1
    assert re.search(rb"sendmail -t -oi exited with status 73: stand-in: message too big",
                     wedged.stderr)
    assert bed.messages() == []

    completed = bed.run(FAKE_SENDMAIL_MAX_SIZE=MTA_LIMIT)
    assert completed.returncode == 0, completed.stderr.decode()
    (name,) = [name for name in os.listdir(bed.maildir) if not name.startswith(".")]
    size = os.path.getsize(os.path.join(bed.maildir, name))
    (message,) = bed.messages()
    assert message["Subject"].endswith(" Security Alerts")
    check_digest(bed, message.get_content(), size)

    bed.clear_mail()
    again = bed.run(FAKE_SENDMAIL_MAX_SIZE=MTA_LIMIT)
    assert again.returncode == 0, again.stderr.decode()
    assert bed.messages() == []           # nothing new: the cursors moved


def test_smtp_server_refusing_big_mail_gets_a_digest(bed):
    server = SMTPServer(max_size=MTA_LIMIT)
    try:
        with open(bed.conf, "a") as conf:
            conf.write(f"DELIVERY=smtp\nSMTP_HOST=127.0.0.1\nSMTP_PORT={server.port}\n")
        flood(bed)
        uncapped = bed.write("uncapped.conf", open(bed.conf).read() + "MAX_REPORT_SIZE=0\n")
        wedged = bed.run("-c", uncapped)
        assert wedged.returncode == 1
        assert b"552 5.3.4 Message size exceeds fixed limit" in wedged.stderr
        assert server.refused == 1 and server.received == []

        completed = bed.run()
        assert completed.returncode == 0, completed.stderr.decode()
        ((_sender, _recipients, data),) = server.received
        message = email.message_from_bytes(data, policy=email.policy.default)
        check_digest(bed, message.get_content().replace("\r\n", "\n"), server.sizes[0])

        again = bed.run()
        assert again.returncode == 0, again.stderr.decode()
        assert len(server.received) == 1   # nothing new
    finally:
        server.stop()


def test_failed_digest_delivery_keeps_nothing_and_moves_nothing(bed):
    flood(bed)
    open(os.path.join(bed.path, "fail"), "w").close()
    failed = bed.run()
    assert failed.returncode == 1
    assert os.listdir(os.path.join(bed.statedir, "reports")) == []
    os.unlink(os.path.join(bed.path, "fail"))
    completed = bed.run()
    assert completed.returncode == 0, completed.stderr.decode()
    (body,) = bed.bodies()
    assert reported_numbers(gzip.decompress(open(kept_report(body), "rb").read()).decode()) \
        == list(range(1, FLOOD + 1))


def test_grouped_flood_goes_whole_and_gzipped(bed):
    """-u folds the flood into a few templates: the report is small and goes
    whole, attached gzipped as MAILASATTACH=2 asks."""
    with open(bed.conf, "a") as conf:
        conf.write("MAILASATTACH=2\nMAX_REPORT_SIZE=20K\n")
    flood(bed)
    completed = bed.run("-u")
    assert completed.returncode == 0, completed.stderr.decode()
    (message,) = bed.messages()
    (attachment,) = list(message.iter_attachments())
    body = gzip.decompress(attachment.get_content()).decode()
    assert "too large" not in body
    assert re.search(rf"^ +{FLOOD}  app: line <NUM>$", body, re.MULTILINE)
    assert re.search(r"^ +30  app: attackme <NUM>$", body, re.MULTILINE)


def test_small_reports_are_not_touched(bed):
    bed.append(bed.logs[0], ["line 1", "attackme 1"])
    completed = bed.run()
    assert completed.returncode == 0, completed.stderr.decode()
    (body,) = bed.bodies()
    assert "too large" not in body and reported_numbers(body) == [1]
    assert not os.path.exists(os.path.join(bed.statedir, "reports"))


def test_prune_by_age_then_total_size(tmp_path):
    now = time.time()
    paths = []
    for age_days, size in ((40, 10), (20, 300), (10, 300), (1, 300), (0, 500)):
        path = tmp_path / f"report-{age_days:03d}.gz"
        path.write_bytes(b"x" * size)
        os.utime(path, (now - age_days * 86400, now - age_days * 86400))
        paths.append(str(path))
    (tmp_path / "unrelated").write_bytes(b"y" * 5000)
    removed = prune(str(tmp_path), keep_days=30, keep_bytes=900, spare=paths[-1], now=now)
    # 40 days: too old; then the oldest until 900 bytes are left
    assert removed == paths[:3]
    assert sorted(os.listdir(tmp_path)) == ["report-000.gz", "report-001.gz", "unrelated"]
    # the report just kept stays, even alone over the limit
    assert prune(str(tmp_path), keep_days=30, keep_bytes=100, spare=paths[-1], now=now) \
        == [paths[3]]
    assert os.path.exists(paths[-1])
