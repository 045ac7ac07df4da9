"""Differential tests: logsieve's report must equal Debian's logcheck's, byte for
byte, for the same rules, configuration and log (`-o -t -l LOG`).

Corpora: lines shaped like real daemons' (both time stamp forms), lines
recorded from real daemons in Debian containers when available (see
tests/differential/real_daemons.py), and adversarial lines.
"""

import itertools
import os

import pytest

from benchmarks import corpus
from logsieve.levels import REPORT_LEVELS
from tests.differential.harness import assert_same_report


def realistic_log(count=6000, seed=7, unknown=0.5):
    return ("\n".join(corpus.lines(count, unknown, seed)) + "\n").encode()


def adversarial_log():
    """Lines that break naive checkers, around ones the rules know."""
    known = b"Nov 21 07:44:38 web1 CRON[123]: pam_unix(cron:session): session closed for user root"
    known_rfc = (b"2026-11-21T07:44:38.930427+00:00 web1 CRON[123]: "
                 b"pam_unix(cron:session): session closed for user root")
    lines = [
        known, known_rfc,
        known + b"   ",                      # trailing blanks: stripped, then ignored
        known + b"\t\r",                     # CR from a CRLF file and a tab
        known_rfc + b"\x0b\x0c",             # vertical tab, form feed
        b"Nov 21 07:44:38 web1 app[1]: invalid utf-8 \xff\xfe\xc3( here",
        b"Nov 21 07:44:38 web1 app[1]: latin-1 caf\xe9 and utf-8 caf\xc3\xa9",
        b"Nov 21 07:44:38 web1 app[1]: a NUL \x00 inside",
        b"Nov 21 07:44:39 web1 app[2]: " + b"x" * (1 << 20),   # a megabyte line
        b"",                                                     # empty line
        b"   ",                                                  # blanks only
        b"\t leading blanks then text",
        b"one",                                                  # fewer than 3 fields
        b"two fields",
        b"Nov  1 00:00:00 gw kernel: [   12.345678] single-digit day",
        b"Nov 21 07:44:38 web1 sshd[99]: Connection closed by 203.0.113.9 port 4242 [preauth]",
        b"Nov 21 07:44:38 web1 su[77]: FAILED SU (to root) alice on pts/1",
        b"Nov 21 07:44:38 web1 su[77]: (to root) alice on pts/1",
        b"Nov 21 07:44:38 web1 sudo[78]:    alice : TTY=pts/1 ; PWD=/root ; USER=root ; COMMAND=/bin/ls",
        b"Nov 21 07:44:38 web1 sudo[78]: pam_unix(sudo:auth): authentication failure; logname=alice",
        b"Nov 21 07:44:38 web1 kernel: Oversized packet received from 203.0.113.7",
        b"2026-11-21T07:44:38Z web1 app[3]: RFC 3339 without fraction, with Z",
        b"2026-11-21T07:44:38.5+01:00 web1 app[3]: short fraction with offset",
        # Equal sort keys (fields 1-3): stable order must be kept.
        b"Nov 21 07:44:40 web1 app[4]: zulu first in input",
        b"Nov 21 07:44:40 web1 app[4]: alpha second in input",
        b"Nov 21 07:44:40 web1 app[4]: zulu first in input",     # a duplicate
        b"Nov 21 07:44:40 web1  app[4]: two blanks change the key",
        b"Nov 21 07:44:40\tweb1 app[4]: a tab separates fields",
    ]
    return b"\r\n".join(lines[:4]) + b"\n" + b"\n".join(lines[4:]) + b"\nno final newline"


@pytest.mark.differential
@pytest.mark.parametrize("level", REPORT_LEVELS)
def test_debian_rules_realistic_log(scratch, level):
    rules = scratch.copy_rules()
    log = scratch.write("syslog", realistic_log())
    reference, candidate = scratch.compare(rules, log, REPORTLEVEL=level)
    assert_same_report(reference, candidate)
    assert b"System Events" in reference.stdout


@pytest.mark.differential
@pytest.mark.parametrize("level", REPORT_LEVELS)
def test_debian_rules_adversarial_log(scratch, level):
    rules = scratch.copy_rules()
    log = scratch.write("syslog", adversarial_log())
    reference, candidate = scratch.compare(rules, log, REPORTLEVEL=level)
    assert_same_report(reference, candidate)
    assert b"Security Events for su" in reference.stdout


@pytest.mark.differential
@pytest.mark.parametrize("settings", [
    {"SORTUNIQ": "1"},
    {"INTRO": "0"},
    {"INTRO": "no", "SORTUNIQ": "1"},
    {"ATTACKSUBJECT": "Attacks!", "SECURITYSUBJECT": "Security", "EVENTSSUBJECT": "Other stuff"},
], ids=["sortuniq", "nointro", "nointro-sortuniq", "subjects"])
def test_configuration_variants(scratch, settings):
    rules = scratch.copy_rules()
    scratch.write("rules/footer.txt", "-- \nfooter of the report\n")
    log = scratch.write("syslog", realistic_log(3000, seed=11) + adversarial_log())
    reference, candidate = scratch.compare(rules, log, REPORTLEVEL="server", **settings)
    assert_same_report(reference, candidate)


def custom_tree(scratch, cracking_ignore=True):
    """A rule tree exercising every way logcheck combines its directories."""
    prefix = r"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ "
    files = {
        "cracking.d/kernel": prefix + r"kernel: .*(ATTACK|intrusion)",
        "cracking.d/logcheck": prefix + r".*(evil|rootkit|\.\./\.\./)",
        "cracking.d/local-web": prefix + r"nginx\[[0-9]+\]: .*\.\./\.\./",
        "violations.d/su": prefix + r"su\[[0-9]+\]: .*",
        "violations.d/logcheck": prefix + r".*(denied|FAILED|refused)",
        "violations.d/sudo": prefix + r"sudo\[[0-9]+\]: .*",
        "violations.ignore.d/logcheck-su": prefix + r"su\[[0-9]+\]: \(to root\) [a-z]+ on pts/[0-9]+$",
        "violations.ignore.d/sudo": prefix + r"sudo\[[0-9]+\]: +alice : .*$",
        "violations.ignore.d/local": prefix + r"app\[[0-9]+\]: access denied for guest$",
        "violations.ignore.d/local-extra": prefix + r"app\[[0-9]+\]: refused by policy [0-9]+$",
        "ignore.d.server/app": prefix + r"app\[[0-9]+\]: (heartbeat|tick) [0-9]+$",
        "ignore.d.server/local-rules": "# comment\n\n   \n" + prefix + r"app\[[0-9]+\]: noise .*$",
        "ignore.d.paranoid/app": prefix + r"app\[[0-9]+\]: paranoid-ok$",
        "ignore.d.workstation/app": prefix + r"app\[[0-9]+\]: workstation-ok$",
        "ignore.d.workstation/desktop": prefix + r"gnome[^:]*: .*$",
        "ignore.d.server/back-ref": prefix + r"app\[[0-9]+\]: pair ([a-z]+) and \1$",
        "ignore.d.server/posix": prefix + r"app\[[[:digit:]]+\]: posix [[:alpha:]]+ [[:xdigit:]]+ [\.]+$",
        "ignore.d.server/empty": "# only comments\n#\n",
        "ignore.d.server/backup~": prefix + r".*",            # skipped: not a run-parts name
        "ignore.d.server/with.dot": prefix + r".*",           # skipped: not a run-parts name
    }
    if cracking_ignore:
        files["cracking.ignore.d/logcheck"] = prefix + r"evil twin is a test$"
        files["cracking.ignore.d/local-web"] = prefix + r"nginx\[[0-9]+\]: .*scanner-allowed"
    for name, text in files.items():
        scratch.write("tree/" + name, text + "\n")
    return os.path.join(scratch.path, "tree")


def custom_log():
    stamp = itertools.cycle([b"Nov 21 07:44:3%d" % second for second in range(10)])
    messages = [
        b"app[1]: heartbeat 42", b"app[1]: tick 7", b"app[1]: noise whatever",
        b"app[1]: paranoid-ok", b"app[1]: workstation-ok", b"gnome-shell[9]: shell noise",
        b"app[1]: pair abc and abc", b"app[1]: pair abc and abd",
        b"app[1]: posix word 0fA9 ...", b"app[1]: posix word 0fA9 \\\\",
        b"kernel: possible ATTACK from 10.0.0.1", b"kernel: normal line",
        b"app[2]: evil twin is a test", b"app[2]: evil plan", b"app[2]: rootkit found",
        b"nginx[3]: GET /../../etc/passwd", b"nginx[3]: GET /../../ scanner-allowed",
        b"su[4]: (to root) bob on pts/3", b"su[4]: FAILED SU (to root) bob on pts/3",
        b"su[4]: pam_unix(su:session): session opened for user root",
        b"sudo[5]:    alice : TTY=pts/1 ; COMMAND=/bin/ls", b"sudo[5]:    mallory : COMMAND=/bin/sh",
        b"app[6]: access denied for guest", b"app[6]: access denied for root",
        b"app[6]: refused by policy 12", b"app[6]: connection refused", b"app[7]: unknown line",
    ]
    return b"\n".join(next(stamp) + b" host " + message for message in messages * 3) + b"\n"


@pytest.mark.differential
@pytest.mark.parametrize("level", REPORT_LEVELS)
@pytest.mark.parametrize("cracking_ignore", ["0", "1"])
def test_custom_rule_tree(scratch, level, cracking_ignore):
    tree = custom_tree(scratch, cracking_ignore=True)
    log = scratch.write("syslog", custom_log())
    reference, candidate = scratch.compare(tree, log, REPORTLEVEL=level,
                                           SUPPORT_CRACKING_IGNORE=cracking_ignore)
    assert_same_report(reference, candidate)
    assert b"Security Alerts" in reference.stdout
    assert b"Security Events" in reference.stdout


@pytest.mark.differential
def test_utf8_locale_on_valid_utf8(scratch):
    """In C.UTF-8 (as cron runs logcheck) the reports agree on valid UTF-8."""
    rules = scratch.copy_rules()
    text = realistic_log(3000, seed=5) + "Nov 21 07:44:38 web1 app[1]: café naïve 日本\n".encode()
    log = scratch.write("syslog", text)
    reference, candidate = scratch.compare(rules, log, locale="C.UTF-8", REPORTLEVEL="server")
    assert_same_report(reference, candidate)


def locale_log():
    """Lines whose fate depends on the locale: bytes that are not UTF-8 in a
    user name and a path, Latin-1 text, letters and digits beyond ASCII,
    NUL and CR, beside the same lines in ASCII, which Debian's rules ignore."""
    stamp = b"Nov 21 07:44:38 web1 "
    lines = [
        b"sshd[812]: Disconnected from invalid user oracle 198.51.100.7 port 50022 [preauth]",
        b"sshd[812]: Disconnected from invalid user ora\xffcle 198.51.100.7 port 50022 [preauth]",
        b"sshd[812]: Disconnected from invalid user \xc3\xa9mile 198.51.100.7 port 50022 [preauth]",
        b"sshd[812]: Disconnected from invalid user \xe9mile 198.51.100.7 port 50022 [preauth]",
        b"sshd[813]: input_userauth_request: invalid user r\xc3\xb6\xff [preauth]",
        b"CRON[123]: (root) CMD (/usr/local/bin/backup /srv/caf\xe9)",
        b"CRON[123]: (root) CMD (/usr/local/bin/backup /srv/caf\xc3\xa9)",
        b"app[1]: user caf\xc3\xa9 logged in",            # [[:alpha:]] in C.UTF-8, not in C
        b"app[1]: user caf\xe9 logged in",                # Latin-1: a letter in neither
        b"app[1]: user \xc3\x9f\xe4\xb8\xad logged in",    # ß and a CJK ideograph
        b"app[1]: code \xd9\xa3\xc2\xb2 accepted",         # Arabic-Indic three, superscript two
        b"app[1]: code 42 accepted",
        b"app[1]: word \xc3\x84rger_1 seen",               # \w
        b"app[1]: word \xff_1 seen",
        b"app[1]: a NUL \x00 inside",
        b"app[1]: carriage return\r",
        b"app[1]: stray continuation \x80\x80 bytes",
    ]
    return b"".join(stamp + line + b"\n" for line in lines)


LOCAL_CLASS_RULES = "\n".join([
    r"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ app\[[0-9]+\]: user [[:alpha:]]+ logged in$",
    r"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ app\[[0-9]+\]: code [[:alnum:]]+ accepted$",
    r"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ app\[[0-9]+\]: word \w+ seen$",
    r"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ app\[[0-9]+\]: a NUL . inside$",
    r"^\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ app\[[0-9]+\]: stray continuation [^a-z]+ bytes$",
]) + "\n"


@pytest.mark.differential
@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_locale_decides_what_bytes_match(scratch, locale):
    """As cron runs logcheck (C.UTF-8 on Debian) a byte sequence that is not
    UTF-8 is matched by nothing in a rule, and classes hold the locale's
    letters; in C, bytes.  logsieve reports what logcheck reports, in both."""
    rules = scratch.copy_rules()
    scratch.write("rules/ignore.d.server/local-classes", LOCAL_CLASS_RULES)
    log = scratch.write("syslog", locale_log())
    reference, candidate = scratch.compare(rules, log, locale=locale, REPORTLEVEL="server")
    assert_same_report(reference, candidate)
    # Not vacuous: the user name with 0xff is reported in C.UTF-8 only, the
    # ASCII one never; the UTF-8 letters are ignored in C.UTF-8 only.
    assert b"user oracle " not in reference.stdout
    assert (b"user ora\xffcle" in reference.stdout) == (locale == "C.UTF-8")
    assert (b"user caf\xc3\xa9 logged" in reference.stdout) == (locale == "C")
    assert b"user caf\xe9 logged" in reference.stdout
