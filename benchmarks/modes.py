"""Peak memory of logsieve in every mode, on the same log.

    python -m benchmarks.modes [--lines 1000000]

A report is as large as the log is unknown: on the benchmark's log (about
half its lines unknown to Debian's rules) it is tens of megabytes.  Whatever
the mode, logsieve must stay under MEMORY_LIMIT_MB: the report is spooled to
a file and the mail written and sent from it a block at a time.  Each mode
runs once with -t (the cursors stay, every run reads the whole log), its
whole process tree sampled (workers, sort(1), the sendmail stand-in):

  -o, -o -u, `logsieve test`; mail through a sendmail stand-in (which counts
  the bytes it is given) inline, attached (MAILASATTACH=1) and gzipped (2),
  with no size limit (MAX_REPORT_SIZE=0: the whole report goes out) and with
  the default limit (a digest goes out, the full report is compressed into
  the state directory); mail through SMTP to a loopback server, both ways.

Prints one line per mode: peak memory, time, and the size of what went out.
"""

import argparse
import os
import shutil
import sys
import tempfile

from benchmarks.run import MEMORY_LIMIT_MB, timed, verdict, write_log
from tests.reliability.smtp_server import SMTPServer

COUNTING_SENDMAIL = "#!/bin/sh\nexec wc -c > {out}\n"


def measure(work, log, rules, lines):
    """Run every mode on `log`; print and return [(mode, peak MiB)]."""
    state = os.path.join(work, "modes-state")
    os.makedirs(state, exist_ok=True)
    counted = os.path.join(work, "sendmail.bytes")
    sendmail = os.path.join(work, "sendmail")
    with open(sendmail, "w") as handle:
        handle.write(COUNTING_SENDMAIL.format(out=counted))
    os.chmod(sendmail, 0o755)
    server = SMTPServer(keep=False)
    base = (f'REPORTLEVEL="server"\nLOCKDIR="{work}/modes-lock"\nSTATEDIR="{state}"\n'
            f'TMP="{work}"\nSENDMAILTO=reports@example.org\nSENDMAIL="{sendmail}"\n')
    smtp = f"DELIVERY=smtp\nSMTP_HOST=127.0.0.1\nSMTP_PORT={server.port}\n"
    checker = [sys.executable, "-m", "logsieve.cli", "--allow-root", "-r", rules, "-t",
               "-l", log]
    modes = [
        ("-o", "", ["-o"]),
        ("-o -u", "", ["-o", "-u"]),
        ("sendmail, inline, no size limit", "MAX_REPORT_SIZE=0\n", []),
        ("sendmail, attached, no size limit", "MAX_REPORT_SIZE=0\nMAILASATTACH=1\n", []),
        ("sendmail, gzipped, no size limit", "MAX_REPORT_SIZE=0\nMAILASATTACH=2\n", []),
        ("sendmail, inline, default limit", "", []),
        ("sendmail, -u, default limit", "", ["-u"]),
        ("SMTP, inline, no size limit", smtp + "MAX_REPORT_SIZE=0\n", []),
        ("SMTP, inline, default limit", smtp, []),
    ]
    results = []
    print(f"memory by mode ({lines} lines, limit {MEMORY_LIMIT_MB} MiB):", flush=True)
    try:
        for name, extra, flags in modes:
            conf = os.path.join(work, "modes.conf")
            with open(conf, "w") as handle:
                handle.write(base + extra)
            if os.path.exists(counted):
                os.unlink(counted)
            sent_before = sum(server.sizes)
            seconds, _cpu, peak, out, _err = timed(checker[:3] + ["-c", conf] + checker[3:] + flags,
                                                   sample_memory=True)
            if os.path.exists(counted):
                sent = f"message {int(open(counted).read()):,} bytes"
            elif sum(server.sizes) > sent_before:
                sent = f"message {sum(server.sizes) - sent_before:,} bytes"
            else:
                sent = f"report {len(out):,} bytes on standard output"
            results.append((name, peak))
            print(f"  {name:36s} peak {peak:6.1f} MiB  {seconds:6.2f} s  {sent}", flush=True)
        seconds, _cpu, peak, out, _err = timed(
            [sys.executable, "-m", "logsieve.cli", "test", "-q", "-i", "-l", log,
             "-r", os.path.join(rules, "ignore.d.server")], sample_memory=True)
        results.append(("logsieve test -i", peak))
        print(f"  {'logsieve test -i':36s} peak {peak:6.1f} MiB  {seconds:6.2f} s  "
              f"{len(out):,} bytes printed", flush=True)
    finally:
        server.stop()
    return results


def over_limit(results):
    return [f"peak memory above the limit with {name}"
            for name, peak in results if peak > MEMORY_LIMIT_MB]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--unknown", type=float, default=0.53)
    options = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="logsieve-modes-", dir="/var/tmp")
    try:
        log = os.path.join(work, "syslog")
        write_log(log, options.lines, options.unknown)
        results = measure(work, log, "/etc/logcheck", options.lines)
        return verdict(over_limit(results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
