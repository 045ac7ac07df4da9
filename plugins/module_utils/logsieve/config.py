"""logcheck's configuration: logcheck.conf and the lists of log files.

logcheck sources logcheck.conf with bash.  logsieve reads the same file as
shell variable assignments (quoted or not, with $VAR expansion) and refuses
anything else with the file, the line and the reason, rather than guess.
"""

import glob
import os
from dataclasses import dataclass, field
from .errors import LogsieveError

# logcheck 1.4's defaults (set in the script before it sources logcheck.conf).
DEFAULTS = {
    "REPORTLEVEL": "server",
    "SENDMAILTO": "root",
    "ATTACKSUBJECT": "Security Alerts",
    "SECURITYSUBJECT": "Security Events",
    "EVENTSSUBJECT": "System Events",
    "ADDTAG": "no",
    "RULEDIR": "/etc/logcheck",
    "STATEDIR": "/var/lib/logcheck",
    "LOGFILES_LIST": "/etc/logcheck/logcheck.logfiles",
    "LOGFILES_LIST_D": "/etc/logcheck/logcheck.logfiles.d",
    "LOGFILE_FALLBACK": "/var/log/syslog",
    "INTRO": "1",
    "MAILASATTACH": "0",
    "MIMEENCODING": "",
    "FQDN": "0",
    "SORTUNIQ": "0",
    "SUPPORT_CRACKING_IGNORE": "0",
    "SYSLOGSUMMARY": "0",
    "LOCKDIR": "/run/lock/logcheck",
    "TMP": "/tmp",
    # logsieve's own settings (logcheck ignores them)
    "SENDMAIL": "/usr/sbin/sendmail -t -oi",
    "DELIVERY": "sendmail",
    "REPORT_FORMAT": "text",
    "SMTP_HOST": "localhost",
    "SMTP_PORT": "25",
    "SMTP_STARTTLS": "0",
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_FROM": "",
}

DEFAULT_CONF = "/etc/logcheck/logcheck.conf"
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


def flag(variables, name):
    """logcheck's numeric switches: 1 (and for INTRO/ADDTAG 'yes') mean on."""
    value = variables.get(name, "").strip()
    if value in ("1", "yes"):
        return True
    if value in ("0", "no", ""):
        return name == "INTRO" and value == ""
    try:
        return int(value) != 0
    except ValueError:
        raise ConfigError(f"{name} must be 0 or 1, not {value!r}") from None


@dataclass
class LogList:
    entries: list = field(default_factory=list)   # paths, or JOURNAL
    lists: list = field(default_factory=list)     # the list files read


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
        result.lists.append(path)
        for raw in data.split(b"\n"):
            if not raw.strip() or raw.startswith(b"#"):
                continue
            result.entries.append(os.fsdecode(raw))
    return result
