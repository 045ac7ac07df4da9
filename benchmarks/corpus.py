"""Synthetic syslog corpora shaped like a real server's logs.

The templates are the messages real daemons write (sshd, cron, systemd,
postfix, kernel firewall lines, dhcp, ntp, rsyslog, ...), in both time stamp
forms: classic `Nov 21 07:44:38` and RFC 3339 as Debian 12's rsyslog writes.
`QUIET` templates are ones Debian's logcheck-database ignores at server level;
`NOISY` ones it reports (an untuned server's daily noise); `SECURITY` ones
it reports as security events (su, sudo) and attack alerts.
"""

import argparse
import datetime
import os
import random
import re
import sys

from benchmarks import LOGHUB

# loghub's samples of real Linux and OpenSSH server logs (classic syslog
# lines), read at run time from benchmarks.LOGHUB: never copied into the
# repository.
LOGHUB_FILES = ("Linux_2k.log", "OpenSSH_2k.log")
_CLASSIC_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} \S+ ")

HOSTS = ["web1", "db-2", "mx.example.org", "gw", "backup01"]

QUIET = [
    "CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)",
    "CRON[{pid}]: pam_unix(cron:session): session closed for user root",
    "CRON[{pid}]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
    "CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "sshd[{pid}]: Accepted publickey for {user} from 10.{a}.{b}.{c} port {port} ssh2: ED25519 SHA256:{fp}",
    "sshd[{pid}]: pam_unix(sshd:session): session opened for user {user}(uid=1000) by (uid=0)",
    "sshd[{pid}]: pam_unix(sshd:session): session closed for user {user}",
    "sshd[{pid}]: Received disconnect from 10.{a}.{b}.{c} port {port}:11: disconnected by user",
    "sshd[{pid}]: Disconnected from user {user} 10.{a}.{b}.{c} port {port}",
    "systemd[1]: Starting logrotate.service - Rotate log files...",
    "systemd[1]: logrotate.service: Deactivated successfully.",
    "systemd[1]: Finished logrotate.service - Rotate log files.",
    "systemd[1]: Started session-{n}.scope - Session {n} of User {user}.",
    "systemd-logind[{pid}]: New session {n} of user {user}.",
    "systemd-logind[{pid}]: Session {n} logged out. Waiting for processes to exit.",
    "systemd-logind[{pid}]: Removed session {n}.",
    "postfix/smtpd[{pid}]: connect from unknown[10.{a}.{b}.{c}]",
    "postfix/smtpd[{pid}]: disconnect from unknown[10.{a}.{b}.{c}]",
    "postfix/qmgr[{pid}]: {qid}: removed",
    "postfix/pickup[{pid}]: {qid}: uid=0 from=<root>",
    "postfix/cleanup[{pid}]: {qid}: message-id=<{n}.{qid}@mx.example.org>",
    "dhclient[{pid}]: DHCPACK of 10.{a}.{b}.{c} from 10.{a}.{b}.1",
    "dhclient[{pid}]: bound to 10.{a}.{b}.{c} -- renewal in {n} seconds.",
    "sshd[{pid}]: Invalid user {baduser} from 203.0.{b}.{c} port {port}",
    "postfix/smtpd[{pid}]: NOQUEUE: reject: RCPT from unknown[203.0.{b}.{c}]: 554 5.7.1 <spam{n}@example.net>: "
    "Relay access denied; from=<x@example.com> to=<spam{n}@example.net> proto=ESMTP helo=<WIN-{qid}>",
    "named[{pid}]: client @0x7f{qid} 203.0.{b}.{c}#{port} (example.org): query (cache) 'example.org/A/IN' denied",
]

NOISY = [
    "kernel: [{up}.{frac}] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=203.0.{b}.{c} "
    "DST=10.0.0.{a} LEN=40 TOS=0x00 PREC=0x00 TTL={ttl} ID={n} PROTO=TCP SPT={port} DPT=23 WINDOW=1024 RES=0x00 SYN "
    "URGP=0",
    "kernel: [{up}.{frac}] [STEALTH] IN=ppp0 OUT= MAC= SRC=198.51.{b}.{c} DST=192.0.2.{a} LEN=60 TOS=0x00 PREC=0x00 "
    "TTL={ttl} ID={n} DF PROTO=TCP SPT={port} DPT=445 WINDOW=64240 RES=0x00 SYN URGP=0",
    "sshd[{pid}]: Connection closed by invalid user {baduser} 203.0.{b}.{c} port {port} [preauth]",
    "sshd[{pid}]: error: kex_exchange_identification: Connection closed by remote host",
    "postfix/smtpd[{pid}]: warning: hostname {baduser}.example.net does not resolve to address 203.0.{b}.{c}: Name or service not known",
    "systemd[1]: backup.service: Main process exited, code=exited, status=1/FAILURE",
    "myapp[{pid}]: processed batch {n} in {ms}ms",
    "myapp[{pid}]: slow query ({ms} ms): SELECT * FROM orders WHERE id={n}",
    "dovecot: imap-login: Aborted login (no auth attempts in 0 secs): user=<>, rip=203.0.{b}.{c}, lip=10.0.0.{a}, session=<{qid}>",
]

SECURITY = [
    "sudo[{pid}]:    {user} : TTY=pts/{a} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx",
    "su[{pid}]: FAILED SU (to root) {user} on pts/{a}",
    "kernel: Oversized packet received from 203.0.{b}.{c}",
]

USERS = ["alice", "bob", "deploy", "backup"]

BAD_USERS = ["admin", "test", "oracle", "ubnt", "pi", "user1"]


def _fields(rng):
    return {
        "pid": rng.randint(100, 4194304), "a": rng.randint(1, 254), "b": rng.randint(0, 255),
        "c": rng.randint(1, 254), "port": rng.randint(1024, 65535), "n": rng.randint(1, 999999),
        "user": rng.choice(USERS), "baduser": rng.choice(BAD_USERS), "ttl": rng.randint(30, 128),
        "up": rng.randint(100, 9999999), "frac": "%06d" % rng.randint(0, 999999),
        "ms": rng.randint(1, 30000), "qid": "%010X" % rng.randint(0, 16 ** 10 - 1),
        "fp": "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                      for _character in range(43)),
    }


def loghub_messages():
    """The messages of loghub's real server logs (`prog[pid]: text`, time
    stamp and host removed, trailing blanks kept), or [] where they are not
    available."""
    messages = []
    for name in LOGHUB_FILES:
        try:
            with open(os.path.join(LOGHUB, name), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    line = line.rstrip("\n")
                    prefix = _CLASSIC_PREFIX.match(line)
                    if prefix and line[prefix.end():].strip():
                        messages.append(line[prefix.end():])
        except OSError:
            continue
    return messages


def stamp(moment, classic):
    """A time stamp as rsyslog writes it: classic (`Nov  1 07:44:38`) or RFC 3339."""
    if classic:
        text = moment.strftime("%b %d %H:%M:%S")
        return text[:4] + " " + text[5:] if text[4] == "0" else text
    return moment.isoformat(timespec="microseconds")


def messages(rng, unknown_fraction, loghub=(), loghub_fraction=0.0):
    """Messages (`prog[pid]: text`): about `unknown_fraction` from NOISY and
    SECURITY templates, `loghub_fraction` of them loghub's real ones."""
    while True:
        if loghub and rng.random() < loghub_fraction:
            yield rng.choice(loghub)
        elif rng.random() < unknown_fraction:
            # su, sudo and attack lines are rarer than the daily noise
            yield rng.choice(SECURITY if rng.random() < 0.02 else NOISY).format(**_fields(rng))
        else:
            yield rng.choice(QUIET).format(**_fields(rng))


def lines(count, unknown_fraction=0.5, seed=1, classic_fraction=0.5, start=None,
          hosts=None, loghub=(), loghub_fraction=0.0, ordered=True, seconds=86_400):
    """`count` syslog lines over `seconds`, about `unknown_fraction` of them
    from NOISY templates, `classic_fraction` of them with classic time
    stamps; in time order, or (`ordered` false) each at a random moment, as
    lines of many sources gathered in no order.  `hosts`: the host names
    drawn from (HOSTS by default)."""
    hosts = HOSTS if hosts is None else hosts
    rng = random.Random(seed)
    moment = start or datetime.datetime(2026, 11, 21, 0, 0, 0, tzinfo=datetime.timezone.utc)
    step = datetime.timedelta(microseconds=seconds * 1_000_000 // max(count, 1))
    day = moment
    texts = messages(rng, unknown_fraction, loghub, loghub_fraction)
    for _line in range(count):
        if ordered:
            moment += step
        else:
            moment = day + datetime.timedelta(microseconds=rng.randrange(seconds * 1_000_000))
        host = rng.choice(hosts)
        written = stamp(moment, rng.random() < classic_fraction)
        text = next(texts, None)  # messages() never ends
        if text is None:
            return
        yield f"{written} {host} {text}"


def fleet(host_count, count, unknown_fraction=0.5, loghub=(), loghub_fraction=0.0,
          seconds=3600):
    """{host name: its `count` lines} for a central log server's per-host
    files, as an hourly check finds them: each in time order, the first half
    of the hosts with RFC 3339 stamps (Debian 12 and later), the others
    classic ones (older releases).  Classic stamps have whole seconds, so
    lines of one second are in time order but not in sort(1)'s: the files
    are nearly sorted, with local disorder."""
    return {
        f"host{number:02d}": lines(count, unknown_fraction, seed=100 + number,
                                   classic_fraction=0.0 if number < host_count // 2 else 1.0,
                                   hosts=[f"host{number:02d}"], loghub=loghub,
                                   loghub_fraction=loghub_fraction, seconds=seconds)
        for number in range(host_count)
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--unknown", type=float, default=0.5, help="fraction of NOISY lines")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    out = sys.stdout
    for line in lines(options.count, options.unknown, options.seed):
        out.write(line + "\n")


if __name__ == "__main__":
    main()
