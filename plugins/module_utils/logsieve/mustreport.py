"""The must-report corpus: lines a suggested rule must never hide.

`logsieve suggest` writes rules that make lines disappear from the report; a
rule that is a little too wide would hide the one line that mattered.  Every
suggestion is matched against these lines before it is printed, and a group
whose rule matches one of them is left out (it stays in the report).

The lines are written for this project, shaped like the messages of today's
Debian daemons (OpenSSH 9.x including `sshd-session`, shadow's user tools, sudo,
su, the kernel's oops, segfault, OOM and I/O error lines, systemd's failed
units, ...), in both time stamp forms (classic `Nov 21 07:44:38` and RFC 3339
as Debian 12's rsyslog writes).  Users add their own with `--must-report FILE`
(same format: one line each, `#` comments and blank lines skipped).
"""

from .errors import LogsieveError

# A line too long for the page is continued after a backslash (no new line).
CORPUS = """\
# Logins of any user, by password or key, by ssh and on a console
Nov 21 07:44:38 web1 sshd[18231]: Accepted password for root from 203.0.113.7 port 40022 ssh2
2026-11-21T07:44:38.930427+00:00 web1 sshd[18232]: Accepted publickey for alice from 198.51.100.23 port 51234 ssh2: ED25519 \
SHA256:q2Zr8Xw7m1v0pYfE3kLx9bTnR5cU4sJh6dGa0oNiW2A
2026-11-21T07:45:02.100200+00:00 db1 sshd-session[2291]: Accepted publickey for root from 2001:db8::5 port 51000 ssh2: RSA \
SHA256:Vt3c9mW0xQ1rL8kPz5yHn2fJb7sD4gAe6uRo0iTqX1E
Nov 21 07:45:10 db1 sshd-session[2301]: Accepted keyboard-interactive/pam for deploy from 192.0.2.44 port 60111 ssh2
Nov 21 07:46:00 gw1 sshd[912]: Accepted password for backup from 10.20.30.40 port 2222 ssh2
2026-11-21T08:01:13+00:00 gw1 login[1022]: ROOT LOGIN  on '/dev/tty1'
Nov 21 08:01:20 gw1 login[1023]: FAILED LOGIN (1) on '/dev/tty1' FOR 'root', Authentication failure
# su and sudo to root, sudo denials
Nov 21 09:10:01 web1 su[4410]: (to root) alice on pts/0
2026-11-21T09:10:01.221100+00:00 web1 su[4410]: pam_unix(su-l:session): session opened for user root(uid=0) by alice(uid=1000)
Nov 21 09:11:30 web1 sudo[4420]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt full-upgrade
2026-11-21T09:11:31.500000+01:00 web1 sudo[4421]:      bob : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash
Nov 21 09:12:02 web1 sudo[4430]:      bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/su -
2026-11-21T09:12:02.000400+00:00 web1 sudo[4430]: pam_unix(sudo:auth): authentication failure; logname=bob uid=1001 euid=0 tty=/dev/pts/1 \
ruser=bob rhost=  user=bob
Nov 21 09:13:40 db1 pkexec[5501]: alice: Executing command [USER=root] [TTY=/dev/pts/2] [CWD=/home/alice] [COMMAND=/usr/bin/bash]
2026-11-21T09:14:00.100000+00:00 db1 su[5510]: FAILED SU (to root) bob on pts/3
# New users and groups, membership and password changes
Nov 21 10:00:01 web1 groupadd[6001]: group added to /etc/group: name=mallory, GID=1002
2026-11-21T10:00:01.300000+00:00 web1 groupadd[6001]: new group: name=mallory, GID=1002
Nov 21 10:00:01 web1 useradd[6002]: new user: name=mallory, UID=1002, GID=1002, home=/home/mallory, shell=/bin/bash, from=/dev/pts/0
2026-11-21T10:00:02.000000+00:00 web1 usermod[6003]: add 'mallory' to group 'sudo'
Nov 21 10:00:02 web1 usermod[6003]: add 'mallory' to shadow group 'sudo'
2026-11-21T10:00:05.000000+00:00 web1 passwd[6010]: pam_unix(passwd:chauthtok): password changed for root
Nov 21 10:00:06 web1 chpasswd[6011]: pam_unix(chpasswd:chauthtok): password changed for mallory
2026-11-21T10:00:07.000000+00:00 web1 gpasswd[6012]: user mallory added by root to group adm
Nov 21 10:00:08 web1 userdel[6013]: delete user 'olduser'
2026-11-21T10:00:09.000000+00:00 web1 chage[6014]: changed password expiry for mallory
# Kernel oops, panics, lockups, segfaults, hardware errors
Nov 21 11:00:00 db1 kernel: [ 8123.456789] BUG: unable to handle page fault for address: ffff9b3a40000000
2026-11-21T11:00:00.000100+00:00 db1 kernel: Oops: 0000 [#1] PREEMPT SMP NOPTI
Nov 21 11:00:00 db1 kernel: [ 8123.456800] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] \
PREEMPT SMP NOPTI
2026-11-21T11:00:01.000000+00:00 db1 kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [kworker/1:2:123]
Nov 21 11:00:02 db1 kernel: Kernel panic - not syncing: Fatal exception in interrupt
2026-11-21T11:00:03.000000+00:00 web2 kernel: nginx[2345]: segfault at 0 ip 000055d5c1a2b3c4 sp 00007ffd1b2c3d40 error 4 in \
nginx[55d5c1a00000+100000] likely on CPU 1 (core 1, socket 0)
Nov 21 11:00:04 web2 kernel: [ 9001.000001] python3[7788]: segfault at 8 ip 00007f1c2d3e4f50 sp 00007ffc9a8b7c60 error 4 in \
libc.so.6[7f1c2d380000+155000]
2026-11-21T11:00:05.000000+00:00 web2 kernel: traps: php-fpm8.2[9911] general protection fault ip:55e0c1d2e3f4 sp:7ffe1a2b3c40 error:0 in \
php-fpm8.2[55e0c1a00000+400000]
Nov 21 11:00:06 gw1 kernel: mce: [Hardware Error]: Machine check events logged
2026-11-21T11:00:07.000000+00:00 gw1 kernel: EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 \
page:0x12345 offset:0x0 grain:32 syndrome:0x0)
Nov 21 11:00:08 gw1 kernel: thermal thermal_zone0: critical temperature reached (105 C), shutting down
# Out of memory
2026-11-21T12:00:00.000000+00:00 db1 kernel: postgres invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
Nov 21 12:00:00 db1 kernel: Out of memory: Killed process 4321 (java) total-vm:8123456kB, anon-rss:4123456kB, file-rss:0kB, shmem-rss:0kB, \
UID:1000 pgtables:9000kB oom_score_adj:0
2026-11-21T12:00:01.000000+00:00 db1 kernel: oom_reaper: reaped process 4321 (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB
Nov 21 12:00:02 db1 systemd[1]: postgresql@15-main.service: A process of this unit has been killed by the OOM killer.
2026-11-21T12:00:03.000000+00:00 db1 systemd-oomd[611]: Killed /system.slice/mariadb.service due to memory pressure for /system.slice being \
82.11% > 80.00% for > 20s with reclaim activity
# File system and disk I/O errors
Nov 21 13:00:00 db1 kernel: EXT4-fs error (device sda1): ext4_find_entry:1683: inode #2: comm ls: reading directory lblock 0
2026-11-21T13:00:01.000000+00:00 db1 kernel: EXT4-fs (sda1): Remounting filesystem read-only
Nov 21 13:00:02 db1 kernel: [ 7001.000001] I/O error, dev sdb, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2
2026-11-21T13:00:03.000000+00:00 db1 kernel: blk_update_request: I/O error, dev sda, sector 123456 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0
Nov 21 13:00:04 db1 kernel: Buffer I/O error on dev sdb1, logical block 0, async page read
2026-11-21T13:00:05.000000+00:00 db1 kernel: ata1.00: failed command: READ FPDMA QUEUED
Nov 21 13:00:06 db1 kernel: XFS (dm-0): Corruption detected. Unmount and run xfs_repair
2026-11-21T13:00:07.000000+00:00 db1 kernel: BTRFS error (device sdc1): bdev /dev/sdc1 errs: wr 1, rd 0, flush 0, corrupt 0, gen 0
Nov 21 13:00:08 db1 smartd[812]: Device: /dev/sda [SAT], 8 Currently unreadable (pending) sectors
2026-11-21T13:00:09.000000+00:00 db1 mdadm[900]: Fail event detected on md device /dev/md0, component device /dev/sdb1
Nov 21 13:00:10 db1 kernel: md/raid1:md0: Disk failure on sdb1, disabling device.
2026-11-21T13:00:11.000000+00:00 db1 kernel: nvme nvme0: I/O 123 QID 4 timeout, aborting
# Units that fail to start or die
Nov 21 14:00:00 web1 systemd[1]: nginx.service: Failed with result 'exit-code'.
2026-11-21T14:00:00.000000+00:00 web1 systemd[1]: Failed to start nginx.service - A high performance web server and a reverse proxy server.
Nov 21 14:00:01 web1 systemd[1]: Failed to start ssh.service - OpenBSD Secure Shell server.
2026-11-21T14:00:02.000000+00:00 web1 systemd[1]: cron.service: Main process exited, code=killed, status=9/KILL
Nov 21 14:00:03 web1 systemd[1]: rsyslog.service: Start request repeated too quickly.
2026-11-21T14:00:04.000000+00:00 web1 systemd[1]: Dependency failed for postfix.service - Postfix Mail Transport Agent.
# A daemon listening on a new port; interfaces in promiscuous mode; new devices
Nov 21 15:00:00 gw1 sshd[1001]: Server listening on 0.0.0.0 port 2222.
2026-11-21T15:00:00.000000+00:00 gw1 sshd[1001]: Server listening on :: port 2222.
Nov 21 15:00:01 gw1 kernel: device eth0 entered promiscuous mode
2026-11-21T15:00:02.000000+00:00 gw1 kernel: br-lan: port 2(veth3) entered promiscuous mode
Nov 21 15:00:03 gw1 kernel: usb 1-1: new high-speed USB device number 5 using xhci_hcd
2026-11-21T15:00:04.000000+00:00 gw1 kernel: usb-storage 1-1:1.0: USB Mass Storage device detected
# Access denied, floods and tables full
Nov 21 16:00:00 web2 kernel: audit: type=1400 audit(1763712000.123:456): apparmor="DENIED" operation="open" profile="/usr/sbin/nginx" \
name="/etc/shadow" pid=2345 comm="nginx" requested_mask="r" denied_mask="r" fsuid=33 ouid=0
2026-11-21T16:00:01.000000+00:00 web2 kernel: TCP: request_sock_TCP: Possible SYN flooding on port 80. Sending cookies.  Check SNMP counters.
Nov 21 16:00:02 web2 kernel: nf_conntrack: nf_conntrack: table full, dropping packet
2026-11-21T16:00:03.000000+00:00 mx1 postfix/smtpd[7001]: warning: unknown[203.0.113.50]: SASL LOGIN authentication failed: UGFzc3dvcmQ6
Nov 21 16:00:04 mx1 dovecot: auth: passwd-file(admin,203.0.113.51): Password mismatch
2026-11-21T16:00:05.000000+00:00 web1 crontab[7101]: (root) REPLACE (root)
Nov 21 16:00:06 web1 chronyd[650]: System clock wrong by 3600.001204 seconds
"""


class MustReportError(LogsieveError):
    """A must-report file that cannot be read."""


def parse_lines(text):
    """The log lines of a corpus text (bytes): blank lines and `#` comments
    dropped, trailing white space stripped as the checker strips it."""
    lines = []
    for raw in text.split(b"\n"):
        line = raw.rstrip(b" \t\r\v\f")
        if line and not line.startswith(b"#"):
            lines.append(line)
    return lines


def shipped():
    """The corpus shipped with logsieve, as a list of lines (bytes)."""
    return parse_lines(CORPUS.encode("utf-8"))


def read_file(path):
    """The lines of a user's must-report file; a clear error when unreadable."""
    try:
        with open(path, "rb") as handle:
            return parse_lines(handle.read())
    except OSError as error:
        raise MustReportError(f"{path}: cannot read the must-report file: "
                              f"{error.strerror}") from None


def load(paths=()):
    """The shipped corpus and the lines of each file in `paths`."""
    lines = shipped()
    for path in paths:
        lines.extend(read_file(path))
    return lines
