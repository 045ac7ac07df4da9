"""A test bed for the checker as cron runs it: a rule tree, a logcheck.conf,
log files, a state directory, and a sendmail stand-in that records what it
is given (or fails on demand).  The checker always runs as a real process.
"""

import email
import email.policy
import os
import subprocess
import sys
import tempfile
import time


# The delivery boundary: an MTA stand-in.  It records each message it accepts
# into $MAILDIR (write, fsync, rename: a recorded message is a whole one) and
# exits 0; with probability $FAKE_SENDMAIL_FAIL (or when $MAILDIR/../fail
# exists) it refuses the message and exits 75 (EX_TEMPFAIL) without
# recording.  While $MAILDIR/../hold exists it waits before deciding.  With
# $FAKE_SENDMAIL_KILL_CALLER it SIGKILLs the checker once the message is recorded.
# A message larger than $FAKE_SENDMAIL_MAX_SIZE bytes is refused (exit 73),
# as an MTA with a message size limit refuses it.
SENDMAIL_STAND_IN = r'''#!{python}
import os, random, sys, time
maildir = {maildir!r}
if True:
    data = sys.stdin.buffer.read()
    limit = int(os.environ.get("FAKE_SENDMAIL_MAX_SIZE", "0"))
    if limit and len(data) > limit:
        sys.stderr.write("stand-in: message too big (%d bytes, limit %d)\n" % (len(data), limit))
        sys.exit(73)
    while os.path.exists(os.path.join(os.path.dirname(maildir), "hold")):
        time.sleep(0.01)
    delay = float(os.environ.get("FAKE_SENDMAIL_DELAY", "0"))
    if delay:
        time.sleep(random.uniform(0, delay))
    fail = float(os.environ.get("FAKE_SENDMAIL_FAIL", "0"))
    if os.path.exists(os.path.join(os.path.dirname(maildir), "fail")) or random.random() < fail:
        sys.stderr.write("stand-in: temporary failure\n")
        sys.exit(75)
    name = "%020d-%d.eml" % (time.time_ns(), os.getpid())
    temporary = os.path.join(maildir, "." + name)
    with open(temporary, "wb") as handle:
        handle.write(b"X-Argv: " + " ".join(sys.argv[1:]).encode() + b"\n" + data)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, os.path.join(maildir, name))
    if os.environ.get("FAKE_SENDMAIL_KILL_CALLER"):
        os.kill(os.getppid(), 9)     # the checker dies after delivery, before its cursors move
'''

# One ignore rule: lines saying "ignoreme" are never reported.
IGNORE_RULE = r"^[A-Z][a-z]{2} [ [:digit:]]{2} [[:digit:]:]{8} testhost app\[[[:digit:]]+\]: ignoreme [[:digit:]]+$"


class Bed:
    def __init__(self, directory=None, logs=("syslog",), extra_conf=""):
        self.path = directory or tempfile.mkdtemp(prefix="logsieve-bed-")
        os.chmod(self.path, 0o755)
        for name in ("rules", "rules/ignore.d.server", "rules/ignore.d.paranoid",
                     "rules/ignore.d.workstation", "rules/violations.d",
                     "rules/violations.ignore.d", "rules/cracking.d", "rules/cracking.ignore.d",
                     "state", "lock", "mail", "log", "tmp"):
            os.makedirs(os.path.join(self.path, name), exist_ok=True)
        self.write("rules/ignore.d.server/local-test", IGNORE_RULE + "\n")
        self.maildir = os.path.join(self.path, "mail")
        self.statedir = os.path.join(self.path, "state")
        self.sendmail = os.path.join(self.path, "sendmail")
        self.write("sendmail", SENDMAIL_STAND_IN.format(python=sys.executable,
                                                        maildir=self.maildir))
        os.chmod(self.sendmail, 0o755)
        self.logs = [os.path.join(self.path, "log", name) for name in logs]
        for log in self.logs:
            open(log, "ab").close()
        self.write("logfiles", "".join(log + "\n" for log in self.logs))
        self.write("logfiles.d/.keep", "")
        self.conf = self.write("logcheck.conf", (
            f'RULEDIR="{self.path}/rules"\n'
            f'STATEDIR="{self.statedir}"\n'
            f'LOCKDIR="{self.path}/lock"\n'
            f'TMP="{self.path}/tmp"\n'
            f'LOGFILES_LIST="{self.path}/logfiles"\n'
            f'LOGFILES_LIST_D="{self.path}/logfiles.d"\n'
            f'SENDMAIL="{self.sendmail} -t -oi"\n'
            f'SENDMAILTO="logcheck-reports@example.org"\n'
            'INTRO=0\n' + extra_conf))
        self.clock = 0

    def write(self, name, text, mode=0o644):
        path = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(text.encode() if isinstance(text, str) else text)
        os.chmod(path, mode)
        return path

    def line(self, text):
        """A syslog line in the classic format, seconds ticking per line."""
        self.clock += 1
        minutes, seconds = divmod(self.clock, 60)
        hours, minutes = divmod(minutes, 60)
        return f"Nov 21 {hours % 24:02d}:{minutes:02d}:{seconds:02d} testhost app[42]: {text}\n"

    def append(self, log, texts):
        with open(log, "ab") as handle:
            handle.write("".join(self.line(text) for text in texts).encode())

    def command(self, *args):
        return [sys.executable, "-m", "logsieve.cli", "--allow-root", "-c", self.conf, *args]

    def environment(self, **extra):
        environment = dict(os.environ, LC_ALL="C")
        environment.update({name: str(value) for name, value in extra.items()})
        return environment

    def run(self, *args, **extra_env):
        return subprocess.run(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=self.environment(**extra_env), check=False, timeout=120)

    def start(self, *args, **extra_env):
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.environment(**extra_env))

    def messages(self):
        """The recorded messages, oldest first, parsed."""
        found = []
        for name in sorted(os.listdir(self.maildir)):
            if name.startswith("."):
                continue
            with open(os.path.join(self.maildir, name), "rb") as handle:
                found.append(email.message_from_binary_file(handle, policy=email.policy.default))
        return found

    def bodies(self):
        return [message.get_content() for message in self.messages()]

    def clear_mail(self):
        for name in os.listdir(self.maildir):
            os.unlink(os.path.join(self.maildir, name))

    def stand_ins_running(self):
        """Process ids of sendmail stand-ins of this bed still running."""
        found = []
        target = self.sendmail.encode()
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as handle:
                    arguments = handle.read().split(b"\0")
            except OSError:
                continue
            if target in arguments:
                found.append(int(name))
        return found

    def wait_for_stand_ins(self, timeout=30):
        """Wait until no sendmail stand-in runs (one started by a killed
        checker goes on alone and may record its message later)."""
        deadline = time.monotonic() + timeout
        while self.stand_ins_running():
            if time.monotonic() > deadline:
                raise AssertionError("sendmail stand-in still running")
            time.sleep(0.01)


def reported_numbers(body, word="line"):
    """The numbers of the test lines `... app[42]: <word> <number>` in a report."""
    numbers = []
    for line in body.splitlines():
        marker = f" testhost app[42]: {word} "
        position = line.find(marker)
        if position >= 0:
            numbers.append(int(line[position + len(marker):]))
    return numbers
