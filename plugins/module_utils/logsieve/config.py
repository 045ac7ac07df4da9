"""logcheck's configuration: logcheck.conf and the lists of log files.

logcheck sources logcheck.conf with bash.  logsieve reads the same file as
shell variable assignments (quoted or not, with $VAR expansion) and refuses
anything else with the file, the line and the reason, rather than guess.
Each setting is declared once (class Settings): its variable, its default and
how its value is read; the run reads the typed Settings, never the variables.
"""

import glob
import math
import os
from dataclasses import dataclass, field, fields
from .errors import LogsieveError
from .levels import REPORT_LEVELS

DEFAULT_CONF = "/etc/logcheck/logcheck.conf"
REPORT_FORMATS = ("text", "json")
JOURNAL = "journal"


class ConfigError(LogsieveError):
    pass


def _expand(text, variables, path, number):
    """Expand $NAME and ${NAME} in unquoted or double-quoted text."""
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "$":
            out.append(char)
            index += 1
            continue
        if text.startswith("${", index):
            close = text.find("}", index)
            if close < 0:
                raise ConfigError(f"{path}:{number}: unterminated ${{ in value")
            name = text[index + 2:close]
            index = close + 1
        else:
            end = index + 1
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            name = text[index + 1:end]
            if not name:
                out.append("$")
                index += 1
                continue
            index = end
        if not name.replace("_", "a").isalnum():
            raise ConfigError(f"{path}:{number}: unsupported expansion ${{{name}}}")
        out.append(variables.get(name, os.environ.get(name, "")))
    return "".join(out)


def parse_assignment(line, variables, path="<string>", number=0):
    """Parse one line of shell: `NAME=value`, optional `export`, comments.

    Returns (name, value), or None for a blank or comment line.
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("export "):
        text = text[len("export "):].lstrip()
    name, equals, rest = text.partition("=")
    if not equals or not name or not (name[0].isalpha() or name[0] == "_") \
            or not name.replace("_", "a").isalnum():
        raise ConfigError(f"{path}:{number}: not a variable assignment: {line.strip()}")
    value = []
    index = 0
    while index < len(rest):
        char = rest[index]
        if char == "'":
            close = rest.find("'", index + 1)
            if close < 0:
                raise ConfigError(f"{path}:{number}: unterminated ' quote")
            value.append(rest[index + 1:close])
            index = close + 1
        elif char == '"':
            index += 1
            chunk = []
            while index < len(rest) and rest[index] != '"':
                if rest[index] == "\\" and index + 1 < len(rest) and rest[index + 1] in '"\\$`':
                    chunk.append(rest[index + 1])
                    index += 2
                else:
                    chunk.append(rest[index])
                    index += 1
            if index >= len(rest):
                raise ConfigError(f"{path}:{number}: unterminated \" quote")
            value.append(_expand("".join(chunk), variables, path, number))
            index += 1
        elif char == "\\" and index + 1 < len(rest):
            value.append(rest[index + 1])
            index += 2
        elif char.isspace():
            tail = rest[index:].strip()
            if tail and not tail.startswith("#"):
                raise ConfigError(f"{path}:{number}: unexpected text after the value: {tail}")
            break
        elif char in "`;|&<>()":
            raise ConfigError(f"{path}:{number}: shell syntax {char!r} is not supported")
        else:
            end = index
            while end < len(rest) and not rest[end].isspace() and rest[end] not in "'\"\\`;|&<>()":
                end += 1
            value.append(_expand(rest[index:end], variables, path, number))
            index = end
    return name, "".join(value)


def read_conf(path, variables=None):
    """Variables of a logcheck.conf, on top of `variables` (default: logcheck's)."""
    variables = dict(DEFAULTS if variables is None else variables)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the configuration: {error.strerror}") from None
    for number, line in enumerate(lines, start=1):
        parsed = parse_assignment(line, variables, path, number)
        if parsed:
            variables[parsed[0]] = parsed[1]
    return variables


def _text(value, name):
    return value


def _switch(value, name):
    """logcheck's numeric switches: 1 or yes mean on; 0, no or nothing off;
    another number is on (bash's -eq)."""
    value = value.strip()
    if value in ("1", "yes"):
        return True
    if value in ("0", "no", ""):
        return False
    try:
        return int(value) != 0
    except ValueError:
        raise ConfigError(f"{name} must be 0 or 1, not {value!r}") from None


def _switch_on_when_empty(value, name):
    """INTRO: a switch that is on when set to nothing, as logcheck reads it."""
    return value.strip() == "" or _switch(value, name)


def _yes(value, name):
    """ADDTAG: on only when exactly "yes" (logcheck's test)."""
    return value == "yes"


def _one_of(*choices, error=None):
    def read(value, name):
        if value not in choices:
            raise ConfigError(error or f"{name} must be one of {', '.join(choices)}, "
                                       f"not {value!r}")
        return value
    return read


def _summary_level(value, name):
    """SYSLOGSUMMARY: 0 (or off) logcheck's report, 1 (or on) grouped, 2
    grouped with the lines per program; a larger number is 2."""
    value = value.strip()
    return min(int(value), 2) if value.isdigit() else int(_switch(value, name))


def _port(value, name):
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None


def _port_or_none(value, name):
    """SMTP_PORT: empty means the standard port of the TLS mode."""
    return _port(value, name) if value.strip() else None


def _whole_number(value, name):
    if not value.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number, not {value!r}")
    return int(value)


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def _size(value, name):
    """A size: bytes, or a number with K, M or G (powers of 1024)."""
    value = value.strip().upper()
    number = value.rstrip("KMG")
    unit = value[len(number):]
    if not number.isdigit() or unit not in _SIZE_UNITS:
        raise ConfigError(f"{name} must be a size such as 5000000, 500K or 5M, not {value!r}")
    return int(number) * _SIZE_UNITS[unit]


def _positive(value, name):
    """A number of seconds or lines greater than 0."""
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None
    if math.isnan(number) or number <= 0:
        raise ConfigError(f"{name} must be greater than 0, not {value!r}")
    return number


def _attachment(value, name):
    """MAILASATTACH: 0 the report inline, 1 attached, 2 attached gzipped."""
    value = value.strip() or "0"
    if value not in ("0", "1", "2"):
        raise ConfigError(f"{name} must be 0, 1 or 2, not {value!r}")
    return int(value)


def _setting(variable, default, read=_text, secret=False):
    # Called in the body of Settings, a dataclass: pylint sees only this function.
    return field(repr=not secret,  # pylint: disable=invalid-field-call
                 metadata={"variable": variable, "default": default, "read": read})


@dataclass(frozen=True)
class Settings:
    """logcheck.conf's variables with the command line's on top, parsed and
    typed once.  Unknown variables are kept by read_conf() for $VAR
    expansion and otherwise ignored, as logcheck ignores them."""

    # logcheck 1.4's settings and defaults (set before it sources logcheck.conf)
    report_level: str = _setting("REPORTLEVEL", "server", _one_of(
        *REPORT_LEVELS, error="REPORTLEVEL is set to an unknown value"))
    mail_to: str = _setting("SENDMAILTO", "root")
    attack_subject: str = _setting("ATTACKSUBJECT", "Security Alerts")
    security_subject: str = _setting("SECURITYSUBJECT", "Security Events")
    events_subject: str = _setting("EVENTSSUBJECT", "System Events")
    add_tag: bool = _setting("ADDTAG", "no", _yes)             # "[logcheck] " before the subject
    rule_dir: str = _setting("RULEDIR", "/etc/logcheck")
    state_dir: str = _setting("STATEDIR", "/var/lib/logcheck")
    logfiles_list: str = _setting("LOGFILES_LIST", "/etc/logcheck/logcheck.logfiles")
    logfiles_list_d: str = _setting("LOGFILES_LIST_D", "/etc/logcheck/logcheck.logfiles.d")
    logfile_fallback: str = _setting("LOGFILE_FALLBACK", "/var/log/syslog")
    intro: bool = _setting("INTRO", "1", _switch_on_when_empty)  # header.txt and footer.txt
    mail_as_attachment: int = _setting("MAILASATTACH", "0", _attachment)
    mime_encoding: str = _setting("MIMEENCODING", "")         # accepted; mails are always MIME
    fqdn: bool = _setting("FQDN", "0", _switch)                # the host's full name in the subject
    sort_unique: bool = _setting("SORTUNIQ", "0", _switch)     # sort -u instead of sort -k 1,3 -s
    support_cracking_ignore: bool = _setting("SUPPORT_CRACKING_IGNORE", "0", _switch)
    # 0 logcheck's report, 1 grouped (-u), 2 grouped with lines per program (--overview)
    syslog_summary: int = _setting("SYSLOGSUMMARY", "0", _summary_level)
    lock_dir: str = _setting("LOCKDIR", "/run/lock/logcheck")
    tmp: str = _setting("TMP", "/tmp")
    # logsieve's own settings (logcheck ignores them)
    read_journal: str = _setting("READ_JOURNAL", "auto", _one_of("auto", "yes", "no"))
    sendmail: str = _setting("SENDMAIL", "/usr/sbin/sendmail -t -oi")
    delivery: str = _setting("DELIVERY", "sendmail", _one_of("sendmail", "smtp"))
    report_format: str = _setting("REPORT_FORMAT", "text", _one_of(*REPORT_FORMATS))
    smtp_host: str = _setting("SMTP_HOST", "localhost")
    smtp_port: int = _setting("SMTP_PORT", "", _port_or_none)  # None: 25, or 465 with SMTP_TLS
    smtp_starttls: bool = _setting("SMTP_STARTTLS", "0", _switch)
    smtp_tls: bool = _setting("SMTP_TLS", "0", _switch)       # implicit TLS ("submissions")
    smtp_user: str = _setting("SMTP_USER", "")
    smtp_password: str = _setting("SMTP_PASSWORD", "", secret=True)
    smtp_password_file: str = _setting("SMTP_PASSWORD_FILE", "")  # instead of SMTP_PASSWORD
    smtp_from: str = _setting("SMTP_FROM", "")
    # A mail larger than this carries a digest (0: no limit); the full report
    # is kept under $STATEDIR/reports, pruned by age and by total size.
    max_report_size: int = _setting("MAX_REPORT_SIZE", "5M", _size)
    report_keep_days: int = _setting("REPORT_KEEP_DAYS", "30", _whole_number)
    report_keep_size: int = _setting("REPORT_KEEP_SIZE", "200M", _size)

    def temporary_directory(self):
        """TMP when it is a directory, else None (the system's default): where
        reports, messages and sort(1)'s spill files go, as owner-only files."""
        return self.tmp if self.tmp and os.path.isdir(self.tmp) else None
    # multilog lines' time stamps: as Debian 12's rsyslog, or Nov 21 07:44:38
    multilog_stamp: str = _setting("MULTILOG_STAMP", "rfc3339", _one_of("rfc3339", "classic"))
    # logsieve watch (watch.py)
    action_command: str = _setting("ACTION_COMMAND", "")        # run without a shell
    action_window: float = _setting("ACTION_WINDOW", "60", _positive)   # seconds of one burst
    action_timeout: float = _setting("ACTION_TIMEOUT", "30", _positive)  # seconds an action may run
    action_max_lines: float = _setting("ACTION_MAX_LINES", "50", _positive)  # lines to one action
    action_max_running: float = _setting("ACTION_MAX_RUNNING", "4", _positive)  # at once
    watch_interval: float = _setting("WATCH_INTERVAL", "0.5", _positive)  # seconds between passes

    @classmethod
    def from_variables(cls, variables):
        """The typed settings of `variables` (read_conf()'s); ConfigError
        names the first variable whose value cannot be used."""
        return cls(**{setting.name: setting.metadata["read"](
            variables.get(setting.metadata["variable"], ""), setting.metadata["variable"])
            for setting in fields(cls)})


# The variables' defaults: what read_conf() starts from, as logcheck does.
DEFAULTS = {setting.metadata["variable"]: setting.metadata["default"]
            for setting in fields(Settings)}


@dataclass
class LogList:
    entries: list = field(default_factory=list)   # paths, or JOURNAL


def read_log_list(list_file, list_dir):
    """The logs named by logcheck.logfiles and logcheck.logfiles.d/*.logfiles.

    A list file that is missing or unreadable is an error, as in logcheck.
    """
    result = LogList()
    for path in [list_file] + sorted(glob.glob(os.path.join(glob.escape(list_dir), "*.logfiles"))):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise ConfigError(f"{path} does not exist or could not be read: {error.strerror}") from None
        for raw in data.split(b"\n"):
            if not raw.strip() or raw.startswith(b"#"):
                continue
            result.entries.append(os.fsdecode(raw))
    return result
