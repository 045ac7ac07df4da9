"""A corpus of log lines written by real daemons, recorded in a Debian container.

The differential tests compare logsieve with Debian's logcheck on lines that
real programs wrote, not only on lines shaped by hand.  This module starts a
Debian 12 container with systemd as PID 1 (image built by
scripts/build-images.sh), installs openssh-server and postfix, makes the
daemons log (sshd, cron, systemd, postfix, su, sudo), injects kernel-firewall
shaped lines with logger, then copies the log files out:

    syslog, auth.log, mail.log   Debian 12's default RFC 3339 time stamps
    classic.log                  everything again, in the traditional
                                 "Nov 21 07:44:38" format

The files are cached in <repo>/.cache/corpus/real-bookworm/ and not rebuilt
while they exist and were recorded by this version of the scenario
(LOGSIEVE_REBUILD_CORPUS=1 forces a rebuild).  A build is
bounded in time and always removes its container.  All test traffic stays
inside the container (loopback); the network is used only by apt-get.

Build by hand:  python -m tests.differential.real_daemons [--rebuild]
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = "localhost/logsieve-test:bookworm"
CACHE = os.path.join(REPO, ".cache", "corpus", "real-bookworm")
HOSTNAME = "corpus-bookworm"
LOG_FILES = ("syslog", "auth.log", "mail.log", "classic.log")
MANIFEST = "manifest.json"
# apt's package lists and downloaded packages survive between builds: a rebuild
# then needs the network only for what changed in the archive.
APT_CACHE = {
    "/var/lib/apt/lists": os.path.join(REPO, ".cache", "corpus", "apt", "lists"),
    "/var/cache/apt/archives": os.path.join(REPO, ".cache", "corpus", "apt", "archives"),
}
BUILD_SECONDS = 230          # the whole build, container start to removal
CRON_WAIT_SECONDS = 90       # a job in /etc/cron.d runs within about two minutes at worst

# The scenario run inside the container, as root, from a file.
# Every step that waits is bounded; `set -e` stops at the first real failure.
SCENARIO = r"""
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
step() { echo "== $(date -u +%T) $*"; }

wait_for() {  # wait_for SECONDS FILE ERE: until a line matches, or fail
    local deadline=$((SECONDS + $1))
    until grep -Eq -- "$3" "$2" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "timed out after $1 s waiting for /$3/ in $2" >&2
            return 1
        fi
        sleep 1
    done
}

step "systemd is up"
for _ in $(seq 60); do
    state="$(systemctl is-system-running 2>/dev/null || true)"
    case "$state" in running|degraded) break ;; esac
    sleep 0.5
done
systemctl is-active --quiet rsyslog cron

step "rsyslog: a classic-format copy of everything, besides the RFC 3339 files"
cat > /etc/rsyslog.d/90-logsieve-classic.conf <<'EOF'
# logsieve corpus: every message again, with traditional "Mmm dd hh:mm:ss" stamps
*.* /var/log/classic.log;RSYSLOG_TraditionalFileFormat
EOF
rsyslogd -N1 >/dev/null 2>&1
systemctl restart rsyslog

step "cron: a job every minute (checked at the end, it runs meanwhile)"
cat > /etc/cron.d/logsieve-corpus <<'EOF'
# logsieve corpus: make cron log a job
* * * * * root echo logsieve-corpus-tick >/dev/null
EOF
chmod 0644 /etc/cron.d/logsieve-corpus
touch /etc/cron.d

step "install openssh-server and postfix (Local only)"
debconf-set-selections <<'EOF'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string corpus-bookworm.localdomain
EOF
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    openssh-server openssh-client postfix sshpass >/tmp/apt.log 2>&1 \
    || { tail -n 30 /tmp/apt.log >&2; exit 1; }
systemctl is-active --quiet ssh postfix

step "users"
useradd -m -s /bin/bash alice
useradd -m -s /bin/bash bob
echo 'alice:alice-Secret1' | chpasswd
echo 'bob:bob-Secret1' | chpasswd
echo 'root:root-Secret1' | chpasswd
usermod -aG sudo alice

step "sshd: key login to the container itself"
# ssh always gets </dev/null (-n): it must not read this script's input
SSH=(ssh -n -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
     -o ConnectTimeout=10)
install -d -m 0700 /root/.ssh
ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519
install -d -m 0700 -o alice -g alice /home/alice/.ssh
install -m 0600 -o alice -g alice /root/.ssh/id_ed25519.pub /home/alice/.ssh/authorized_keys
timeout 30 "${SSH[@]}" -o BatchMode=yes alice@127.0.0.1 true
timeout 30 "${SSH[@]}" -o BatchMode=yes -tt alice@127.0.0.1 'tty >/dev/null'

step "sshd: password logins, good and bad, and an invalid user"
PW=(-o PubkeyAuthentication=no -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1)
timeout 30 sshpass -p 'alice-Secret1' "${SSH[@]}" "${PW[@]}" alice@127.0.0.1 true
for attempt in 1 2 3; do
    timeout 30 sshpass -p "wrong-$attempt" "${SSH[@]}" "${PW[@]}" alice@127.0.0.1 true && exit 1 || true
done
timeout 30 sshpass -p 'guess' "${SSH[@]}" "${PW[@]}" nosuchuser@127.0.0.1 true && exit 1 || true
timeout 30 sshpass -p 'guess' "${SSH[@]}" "${PW[@]}" root@127.0.0.1 true && exit 1 || true

step "sshd: connections closed before authentication"
# the client gives up: no key, no password allowed
timeout 30 "${SSH[@]}" -o BatchMode=yes -o PubkeyAuthentication=no bob@127.0.0.1 true && exit 1 || true
# a TCP connection closed right after the server's banner
timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/22; head -c 4 <&3 >/dev/null; exec 3<&-' || true
# something that is not ssh at all
timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/22; printf "GET / HTTP/1.0\r\n\r\n" >&3; cat <&3 >/dev/null' || true

step "su and sudo on a terminal (script(1) gives them a pty; input waits for the prompt)"
on_tty() {  # on_tty USER PASSWORD COMMAND
    (sleep 1; echo "$2"; sleep 2) | timeout 20 runuser -u "$1" -- script -qec "$3" /dev/null
}
on_tty alice wrong-password 'su -c true root' >/dev/null && exit 1 || true
on_tty alice root-Secret1 'su -c true root' >/dev/null
on_tty alice alice-Secret1 'sudo -k -p "Password: " /usr/bin/uptime' >/dev/null

step "su and sudo without a terminal"
echo wrong-password | runuser -u alice -- su -c true root && exit 1 || true
echo root-Secret1 | runuser -u alice -- su -c true root
echo alice-Secret1 | runuser -u alice -- sudo -S -k -p '' /usr/bin/id >/dev/null
printf 'wrong1\nwrong2\nwrong3\n' | runuser -u alice -- sudo -S -k -p '' /usr/bin/true && exit 1 || true
echo bob-Secret1 | runuser -u bob -- sudo -S -k -p '' /usr/bin/true && exit 1 || true
sudo -u alice /usr/bin/true

step "systemd: a restart, transient units that succeed and fail"
systemctl restart ssh.service
systemd-run --quiet --wait --unit=logsieve-corpus-ok /bin/true
systemd-run --quiet --wait --unit=logsieve-corpus-fail /bin/false && exit 1 || true
systemd-run --quiet --wait --unit=logsieve-corpus-sh /bin/sh -c 'echo hello from a transient unit'

step "postfix: local mails, one bouncing"
printf 'Subject: logsieve corpus 1\n\nhello root\n' | /usr/sbin/sendmail root
printf 'Subject: logsieve corpus 2\n\nhello alice\n' | /usr/sbin/sendmail alice
printf 'Subject: logsieve corpus 3\n\nnobody reads this\n' | /usr/sbin/sendmail nosuchuser
printf 'Subject: logsieve corpus 4\n\nfrom alice\n' | runuser -u alice -- /usr/sbin/sendmail root
wait_for 60 /var/log/mail.log 'status=bounced'
wait_for 60 /var/log/mail.log 'to=<alice@.*status=sent'

step "kernel firewall lines"
# INJECTED, not real: a container cannot write kernel messages, so these lines
# are logged with logger under the tag "kernel", in the shapes that iptables
# and nftables LOG targets (and ufw) produce, with and without the printk time.
MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00
logger -t kernel -p kern.warning "[UFW BLOCK] IN=eth0 OUT= MAC=$MAC SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0"
logger -t kernel -p kern.warning "[12345.678901] [UFW BLOCK] IN=eth0 OUT= MAC=$MAC SRC=198.51.100.23 DST=192.0.2.10 LEN=40 TOS=0x00 PREC=0x00 TTL=241 ID=4321 PROTO=TCP SPT=40000 DPT=3389 WINDOW=1024 RES=0x00 SYN URGP=0"
logger -t kernel -p kern.info "[UFW AUDIT] IN= OUT=eth0 SRC=192.0.2.10 DST=192.0.2.1 LEN=76 TOS=0x00 PREC=0x00 TTL=64 ID=9 DF PROTO=UDP SPT=123 DPT=123 LEN=56"
logger -t kernel -p kern.warning "[UFW ALLOW] IN=eth0 OUT= MAC=$MAC SRC=192.0.2.55 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=777 DF PROTO=TCP SPT=50022 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0"
logger -t kernel -p kern.warning "IN=eth0 OUT= MAC=$MAC SRC=203.0.113.99 DST=192.0.2.10 LEN=52 TOS=0x00 PREC=0x00 TTL=117 ID=2024 PROTO=UDP SPT=53 DPT=5353 LEN=32"
logger -t kernel -p kern.warning "[  873.104322] IN=eth1 OUT=eth0 MAC=$MAC SRC=10.0.0.5 DST=198.51.100.1 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=0 DF PROTO=ICMP TYPE=8 CODE=0 ID=17 SEQ=1"
logger -t kernel -p kern.warning "nft-drop: IN=eth0 OUT= MAC=$MAC SRC=203.0.113.8 DST=192.0.2.10 LEN=44 TOS=0x00 PREC=0x00 TTL=49 ID=1 PROTO=TCP SPT=6000 DPT=23 WINDOW=29200 RES=0x00 SYN URGP=0"

step "cron has run the job"
wait_for __CRON_WAIT__ /var/log/syslog 'CRON\[[0-9]+\]: \(root\) CMD \(echo logsieve-corpus-tick'

step "flush: stop rsyslog so every line is on disk"
sleep 1
systemctl stop rsyslog.service syslog.socket 2>/dev/null || systemctl stop rsyslog.service
for file in __LOG_FILES__; do
    test -s "/var/log/$file" || { echo "/var/log/$file is missing or empty" >&2; exit 1; }
done
echo "== done"
"""


class CorpusError(RuntimeError):
    """The corpus could not be found or built; the message says why."""


def require_podman(image=IMAGE):
    """Podman and the test image must be there: missing ones are failures."""
    if shutil.which("podman") is None:
        raise CorpusError(
            "podman is not installed: the real-daemon corpus is recorded in a Debian "
            "container. Run scripts/setup-podman.sh, then scripts/build-images.sh bookworm.")
    probe = subprocess.run(["podman", "image", "exists", image], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, check=False)
    if probe.returncode != 0:
        raise CorpusError(
            f"podman image {image} is missing (podman image exists: rc={probe.returncode} "
            f"{probe.stderr.decode(errors='replace').strip()}). "
            "Build it with scripts/build-images.sh bookworm.")


def cached_files(directory=CACHE):
    """The cached corpus as {name: path}, or None when it is absent or incomplete."""
    try:
        with open(os.path.join(directory, MANIFEST)) as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    if manifest.get("scenario") != scenario_digest():
        return None          # recorded by another version of the scenario
    paths = {name: os.path.join(directory, name) for name in manifest.get("files", [])}
    if set(paths) != set(LOG_FILES) or not all(os.path.isfile(p) for p in paths.values()):
        return None
    return paths


def corpus(directory=CACHE, image=IMAGE, rebuild=None, log=None):
    """The corpus files as {name: path}; builds them when they are not cached."""
    if rebuild is None:
        rebuild = os.environ.get("LOGSIEVE_REBUILD_CORPUS", "") == "1"
    if not rebuild:
        files = cached_files(directory)
        if files is not None:
            return files
    build(directory, image, log=log)
    files = cached_files(directory)
    if files is None:
        raise CorpusError(f"the corpus build finished but {directory} is incomplete")
    return files


class _Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self):
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise CorpusError(f"building the corpus took longer than {self.seconds} s")
        return remaining


def _podman(args, deadline, stdin=None, limit=None):
    timeout = deadline.left() if limit is None else min(limit, deadline.left())
    try:
        return subprocess.run(["podman"] + args, input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"").decode(errors="replace")[-3000:]
        raise CorpusError(f"podman {' '.join(args[:3])} timed out after {timeout:.0f} s; "
                          f"output so far:\n{output}") from None


def _checked(result, what):
    if result.returncode != 0:
        raise CorpusError(
            f"{what} failed (rc={result.returncode})\n"
            f"--- stdout (end) ---\n{result.stdout.decode(errors='replace')[-3000:]}\n"
            f"--- stderr (end) ---\n{result.stderr.decode(errors='replace')[-3000:]}")
    return result


def scenario_script():
    return (SCENARIO.replace("__CRON_WAIT__", str(CRON_WAIT_SECONDS))
                    .replace("__LOG_FILES__", " ".join(LOG_FILES)))


def scenario_digest():
    return hashlib.sha256(scenario_script().encode()).hexdigest()


def build(directory=CACHE, image=IMAGE, seconds=BUILD_SECONDS, log=None):
    """Record the corpus in a fresh container and store it in `directory`.

    The new files replace the old ones only when the whole build succeeded.
    The container is removed whatever happens.
    """
    require_podman(image)
    deadline = _Deadline(seconds)
    name = f"logsieve-corpus-{uuid.uuid4().hex[:10]}"
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".real-staging-", dir=parent)
    try:
        volumes = []
        for inside, outside in APT_CACHE.items():
            os.makedirs(outside, exist_ok=True)
            volumes += ["-v", f"{outside}:{inside}"]
        _checked(_podman(["run", "-d", "--name", name, "--hostname", HOSTNAME,
                          "--systemd=always"] + volumes + [image, "/sbin/init"],
                         deadline, limit=60),
                 f"starting container {name} from {image}")
        _checked(_podman(["exec", "-i", name, "sh", "-c", "cat > /root/logsieve-corpus.sh"],
                         deadline, stdin=scenario_script().encode(), limit=60),
                 "copying the scenario into the container")
        result = _checked(_podman(["exec", name, "bash", "/root/logsieve-corpus.sh"], deadline),
                          "the daemon scenario in the container")
        if log is not None:
            log.write(result.stdout.decode(errors="replace"))
        for file in LOG_FILES:
            _checked(_podman(["cp", f"{name}:/var/log/{file}", os.path.join(staging, file)],
                             deadline, limit=60), f"copying /var/log/{file} out")
            os.chmod(os.path.join(staging, file), 0o644)
        with open(os.path.join(staging, MANIFEST), "w") as handle:
            json.dump({"image": image, "hostname": HOSTNAME, "files": list(LOG_FILES),
                       "scenario": scenario_digest(),
                       "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                      handle, indent=1)
            handle.write("\n")
        os.chmod(staging, 0o755)
        if os.path.isdir(directory):
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        try:
            subprocess.run(["podman", "rm", "-f", "-t", "0", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            print(f"warning: podman rm {name} timed out; remove it by hand", file=sys.stderr)
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    rebuild = "--rebuild" in argv
    started = time.monotonic()
    try:
        files = corpus(rebuild=rebuild or None, log=sys.stdout)
    except CorpusError as error:
        print(f"real-daemon corpus: {error}", file=sys.stderr)
        return 1
    for name, path in files.items():
        with open(path, "rb") as handle:
            count = sum(1 for _line in handle)
        print(f"{path}: {count} lines")
    print(f"{time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
