"""Throughput and memory of logsieve against Debian's logcheck, in the same run.

    python -m benchmarks.run [--lines 1000000] [--check] [--grouped-runs N] [--grouped-3x]

Generates a log shaped like an untuned server's (about half the lines are
unknown to the rules), written as Debian 12's rsyslog writes /var/log/syslog
(RFC 3339 time stamps, in time order), then runs, on the same log, rules and
configuration (Debian's logcheck-database at server level):

  * Debian's logcheck as the `logcheck` user in C.UTF-8 (a default Debian
    install, as cron runs it) and in the C locale (its fastest setting);
  * logsieve, timed alone (the best of three runs), then run again for its
    peak memory: that of its whole process tree (workers and sort(1)
    included: the sum of proportional set sizes), sampled every 10 ms;
  * logsieve again on a log three times larger, to show memory does not grow
    with the log;
  * logsieve on the same lines with classic and RFC 3339 time stamps mixed:
    its report is then out of order and goes through sort(1), the slow path;
  * logsieve -u (the grouped report) once on the same log, its memory
    sampled as the plain run's was: its wall and CPU time against that plain
    run's, both taken in the same conditions.  --grouped-runs N takes the
    best of N grouped and N plain runs instead; --grouped-3x also measures
    its memory on the 3x log (3 million more lines to fold);
  * logsieve's peak memory in every mode (benchmarks/modes.py): -o, -u,
    `logsieve test`, mail by sendmail and SMTP, inline and attached.

It checks that the reports are identical and prints times and ratios.  With
--check it exits non-zero when logsieve is less than 100x faster than
logcheck in C.UTF-8, less than 30x faster in C, above 150 MB, or when the
grouped run costs more than twice the plain one.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from benchmarks import corpus

LOGCHECK = "/usr/sbin/logcheck"
MEMORY_LIMIT_MB = 150
RATIO_UTF8 = 100
RATIO_C = 30
GROUPED_RATIO = 2.0  # a grouped run (-u) costs at most this times a plain one


def write_log(path, count, unknown, classic_fraction=0.0):
    with open(path, "w", encoding="utf-8") as handle:
        batch = []
        for line in corpus.lines(count, unknown, classic_fraction=classic_fraction):
            batch.append(line)
            if len(batch) >= 10000:
                handle.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            handle.write("\n".join(batch) + "\n")
    os.chmod(path, 0o644)


def tree_pss_kb(root_pid):
    """Memory of a process and all its descendants, in KiB: the sum of their
    proportional set sizes (pages shared after fork(), such as the compiled
    rules, are counted once, split between the processes sharing them)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError):
            continue
    total = 0
    pending = [root_pid]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def timed(command, sample_memory=False):
    """Run a command; return (wall seconds, CPU seconds of its whole process
    tree, peak tree memory in MiB or None, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if sample_memory:
                peak = max(peak, tree_pss_kb(process.pid))
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{command[0]} failed ({process.returncode}): "
                             f"{err.read().decode(errors='replace')}")
        out.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return elapsed, cpu, (peak / 1024 if sample_memory else None), out.read()


def logcheck_command(locale, log, rules, conf, statedir):
    return ["runuser", "-u", "logcheck", "--", "env", f"LC_ALL={locale}", "TMP=/tmp",
            LOGCHECK, "-c", conf, "-r", rules, "-S", statedir, "-o", "-t", "-l", log]


def logsieve_command(log, rules, conf, statedir):
    return [sys.executable, "-m", "logsieve.cli", "--allow-root",
            "-c", conf, "-r", rules, "-S", statedir, "-o", "-t", "-l", log]


def block_matcher_in_use():
    """Whether logsieve runs here with its C++ block matcher."""
    check = "from logsieve.engine import block_matcher_enabled; print(block_matcher_enabled())"
    return subprocess.run([sys.executable, "-c", check], stdout=subprocess.PIPE,
                          check=True, text=True).stdout.strip() == "True"


def report_lines(report):
    return sum(1 for line in report.split(b"\n") if line[:3] in (b"Nov", b"202"))


def verdict(failures):
    """Print what failed, if anything; the exit status."""
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--unknown", type=float, default=0.53,
                        help="fraction of lines drawn from reported templates")
    parser.add_argument("--check", action="store_true", help="fail below the required ratios")
    parser.add_argument("--grouped-runs", type=int, default=1, metavar="N",
                        help="compare the best of N grouped (-u) and N plain runs (default: "
                             "one grouped run against the plain run whose memory is sampled)")
    parser.add_argument("--grouped-3x", action="store_true",
                        help="also measure the grouped run's memory on the 3x log")
    options = parser.parse_args(argv)
    if not os.path.exists(LOGCHECK):
        raise SystemExit("Debian's logcheck is needed: apt-get install logcheck logcheck-database")

    work = tempfile.mkdtemp(prefix="logsieve-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    try:
        rules = os.path.join(work, "rules")
        shutil.copytree("/etc/logcheck", rules)
        for directory, _subdirectories, files in os.walk(rules):
            os.chmod(directory, 0o755)
            for name in files:
                os.chmod(os.path.join(directory, name), 0o644)
        rule_count = sum(1 for directory in ("ignore.d.server", "ignore.d.paranoid",
                                             "violations.d", "cracking.d")
                         for name in os.listdir(os.path.join(rules, directory))
                         for line in open(os.path.join(rules, directory, name), "rb")
                         if line.strip() and not line.startswith(b"#"))
        conf = os.path.join(work, "logcheck.conf")
        with open(conf, "w") as handle:
            handle.write(f'REPORTLEVEL="server"\nLOCKDIR="{work}/lock"\n')
        os.chmod(conf, 0o644)
        statedir = os.path.join(work, "state")
        os.mkdir(statedir)
        os.chmod(statedir, 0o777)
        log = os.path.join(work, "syslog")
        big_log = os.path.join(work, "syslog.big")
        mixed_log = os.path.join(work, "syslog.mixed")
        write_log(log, options.lines, options.unknown)
        write_log(big_log, 3 * options.lines, options.unknown)
        write_log(mixed_log, options.lines, options.unknown, classic_fraction=0.5)
        size_mb = os.path.getsize(log) / 2 ** 20
        print(f"log: {options.lines} lines, {size_mb:.0f} MiB; rules: {rule_count} "
              f"(Debian logcheck-database, server level); logsieve's C++ block matcher: "
              f"{'yes' if block_matcher_in_use() else 'NO (google-re2 per line)'}", flush=True)

        # Timed alone: sampling memory costs CPU that logsieve's workers need.
        # The best of three runs: a run of a second is easily disturbed.
        sieve_seconds, sieve_cpu, _peak, sieve_report = min(
            timed(logsieve_command(log, rules, conf, statedir)) for _run in range(3))
        sampled_seconds, sampled_cpu, sieve_peak, _report = timed(
            logsieve_command(log, rules, conf, statedir), sample_memory=True)
        reported = report_lines(sieve_report)
        print(f"logsieve            {sieve_seconds:8.2f} s  (CPU {sieve_cpu:7.2f} s)   "
              f"peak memory {sieve_peak:6.1f} MiB   reported {reported} lines "
              f"({100 * reported / options.lines:.0f}% unknown)", flush=True)
        big_seconds, big_cpu, big_peak, _big_report = timed(
            logsieve_command(big_log, rules, conf, statedir), sample_memory=True)
        print(f"logsieve (3x log)   {big_seconds:8.2f} s  (CPU {big_cpu:7.2f} s)   "
              f"peak memory {big_peak:6.1f} MiB", flush=True)
        # The grouped report (-u): the same run with every reported line
        # folded into templates, on the same log, compared with a plain run
        # taken in the same conditions (memory sampled, or the best of N).
        grouped_command = logsieve_command(log, rules, conf, statedir) + ["-u"]
        if options.grouped_runs > 1:  # interleaved: both meet the same load
            pairs = [(timed(logsieve_command(log, rules, conf, statedir)), timed(grouped_command))
                     for _run in range(options.grouped_runs)]
            plain_seconds, plain_cpu = min(pair[0][:2] for pair in pairs)
            grouped_seconds, grouped_cpu, _peak, grouped_report = min(
                (pair[1] for pair in pairs), key=lambda run: run[:2])
            grouped_peak = timed(grouped_command, sample_memory=True)[2]
        else:
            grouped_seconds, grouped_cpu, grouped_peak, grouped_report = timed(
                grouped_command, sample_memory=True)
            plain_seconds, plain_cpu = sampled_seconds, sampled_cpu
        where = "same log"
        if options.grouped_3x:
            big_grouped_peak = timed(
                logsieve_command(big_log, rules, conf, statedir) + ["-u"], sample_memory=True)[2]
            grouped_peak, where = max(grouped_peak, big_grouped_peak), "same and 3x log"
        grouped_ratio = grouped_seconds / plain_seconds
        print(f"logsieve -u         {grouped_seconds:8.2f} s  (CPU {grouped_cpu:7.2f} s)   "
              f"peak memory {grouped_peak:6.1f} MiB ({where})   "
              f"{grouped_report.count(chr(10).encode())} report lines   "
              f"grouped/plain {grouped_ratio:.2f}x (goal {GROUPED_RATIO}x; plain "
              f"{plain_seconds:.2f} s), in CPU time {grouped_cpu / plain_cpu:.2f}x", flush=True)
        mixed_seconds, mixed_cpu = min(
            timed(logsieve_command(mixed_log, rules, conf, statedir))[:2] for _run in range(3))
        print(f"logsieve (stamps mixed, report through sort(1)) {mixed_seconds:6.2f} s  "
              f"(CPU {mixed_cpu:5.2f} s)", flush=True)
        utf8_seconds, utf8_cpu, _no_peak, utf8_report = timed(
            logcheck_command("C.UTF-8", log, rules, conf, statedir))
        print(f"logcheck C.UTF-8    {utf8_seconds:8.2f} s  (CPU {utf8_cpu:7.2f} s)", flush=True)
        c_seconds, c_cpu, _no_peak, c_report = timed(logcheck_command("C", log, rules, conf, statedir))
        print(f"logcheck C          {c_seconds:8.2f} s  (CPU {c_cpu:7.2f} s)", flush=True)

        same = sieve_report == c_report == utf8_report
        ratio_utf8 = utf8_seconds / sieve_seconds
        ratio_c = c_seconds / sieve_seconds
        print(f"reports identical: {'yes' if same else 'NO'}")
        print(f"speed-up vs logcheck C.UTF-8: {ratio_utf8:6.1f}x (required {RATIO_UTF8}x); "
              f"in CPU time {utf8_cpu / sieve_cpu:6.1f}x")
        print(f"speed-up vs logcheck C:       {ratio_c:6.1f}x (required {RATIO_C}x); "
              f"in CPU time {c_cpu / sieve_cpu:6.1f}x")
        print(f"peak memory: {max(sieve_peak, big_peak, grouped_peak):.1f} MiB "
              f"(limit {MEMORY_LIMIT_MB} MiB)")
        from benchmarks.modes import measure, over_limit  # it imports this module's helpers
        modes = measure(work, log, rules, options.lines)
        failures = []
        if not same:
            failures.append("reports differ")
        if options.check:
            if ratio_utf8 < RATIO_UTF8:
                failures.append(f"only {ratio_utf8:.1f}x faster than logcheck in C.UTF-8")
            if ratio_c < RATIO_C:
                failures.append(f"only {ratio_c:.1f}x faster than logcheck in C")
            if max(sieve_peak, big_peak, grouped_peak) > MEMORY_LIMIT_MB:
                failures.append("peak memory above the limit")
            if grouped_ratio > GROUPED_RATIO:
                failures.append(f"the grouped run costs {grouped_ratio:.2f}x the plain run")
            failures.extend(over_limit(modes))
        return verdict(failures)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
