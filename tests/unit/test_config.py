"""logcheck.conf's settings, parsed and typed once (config.Settings)."""

import pytest

from logsieve.config import DEFAULTS, ConfigError, Settings, read_conf


def settings(tmp_path, text):
    conf = tmp_path / "logcheck.conf"
    conf.write_text(text)
    return Settings.from_variables(read_conf(str(conf)))


def test_defaults_are_logchecks_and_typed(tmp_path):
    typed = settings(tmp_path, "")
    assert typed.report_level == "server"
    assert typed.intro is True and typed.add_tag is False and typed.sort_unique is False
    assert typed.smtp_port is None and typed.mail_as_attachment == 0   # 25, or 465 with TLS
    assert typed.max_report_size == 5 << 20 and typed.report_keep_days == 30
    assert typed.read_journal == DEFAULTS["READ_JOURNAL"] == "auto"


def test_values_are_read_as_logcheck_reads_them(tmp_path):
    typed = settings(tmp_path, 'INTRO=""\nADDTAG=1\nFQDN=yes\nSORTUNIQ=2\nSMTP_STARTTLS=1\n'
                               'MAILASATTACH=2\nRULEDIR=/srv/rules\nTMP="$RULEDIR/tmp"\n')
    assert typed.intro is True          # INTRO set to nothing is on
    assert typed.add_tag is False       # ADDTAG: only "yes"
    assert typed.fqdn is True and typed.sort_unique is True and typed.smtp_starttls is True
    assert typed.mail_as_attachment == 2
    assert typed.tmp == "/srv/rules/tmp"
    sized = settings(tmp_path, "MAX_REPORT_SIZE=500K\nREPORT_KEEP_SIZE=1g\nSMTP_PORT=2525\n")
    assert sized.max_report_size == 500 << 10 and sized.report_keep_size == 1 << 30
    assert sized.smtp_port == 2525


@pytest.mark.parametrize("text, words", [
    ("REPORTLEVEL=loud\n", "REPORTLEVEL is set to an unknown value"),
    ("SMTP_PORT=smtp\n", "SMTP_PORT must be a number"),
    ("MAILASATTACH=3\n", "MAILASATTACH must be 0, 1 or 2"),
    ("READ_JOURNAL=maybe\n", "READ_JOURNAL must be one of auto, yes, no"),
    ("DELIVERY=pigeon\n", "DELIVERY must be one of sendmail, smtp"),
    ("SYSLOGSUMMARY=on\n", "SYSLOGSUMMARY must be 0 or 1"),
    ("MAX_REPORT_SIZE=5MB\n", "MAX_REPORT_SIZE must be a size such as"),
    ("REPORT_KEEP_DAYS=-1\n", "REPORT_KEEP_DAYS must be a whole number"),
])
def test_a_value_that_cannot_be_used_names_its_variable(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words):
        settings(tmp_path, text)


def test_the_password_is_not_shown(tmp_path):
    assert "s3cret" not in repr(settings(tmp_path, "SMTP_PASSWORD=s3cret\n"))
