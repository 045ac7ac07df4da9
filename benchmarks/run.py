"""Throughput and memory of logsieve against Debian's logcheck, in the same run.

    python -m benchmarks.run [--lines 1000000] [--check] [--grouped-runs N] [--grouped-3x]

Three corpora of `--lines` lines each, shaped like an untuned server's logs
(about half the lines unknown to the rules), messages from real daemons' logs
(the templates of benchmarks/corpus.py and loghub's Linux and OpenSSH samples,
read at run time), Debian's logcheck-database at server level:

  * ordered: one log written as Debian 12's rsyslog writes /var/log/syslog
    (RFC 3339 time stamps, in time order);
  * unordered: one log of lines in no time order, both stamp forms mixed
    (its report cannot skip sorting: the slow path);
  * fleet: a central log server's per-host files (20 hosts, each file in
    time order, half the hosts with RFC 3339 stamps, half with classic
    ones), read by both tools from the same list (-L).

On each, in the same run: Debian's logcheck as the `logcheck` user in
C.UTF-8 (a default Debian install, as cron runs it) and in the C locale (its
fastest setting); logsieve with its native module (the best of three runs,
then again for its peak memory: that of its whole process tree, workers and
sort(1) included, the sum of proportional set sizes sampled every 10 ms);
logsieve on the pure path (LOGSIEVE_BLOCKMATCH=0: google-re2 per line and
sort(1), what `pip install .` gives without RE2's headers).  It prints
times, ratios, peak memory, where logsieve's time goes (from `logsieve -d`:
start-up, reading and matching, sorting and writing the report), and checks
that the four reports are identical.  logsieve also runs on the unordered
log three times larger, to show its memory does not grow with the log.

Then, on the ordered log: logsieve -u (the grouped report) once, its memory
sampled as the plain run's was: its wall and CPU time against that plain
run's, both taken in the same conditions.  --grouped-runs N takes the best
of N grouped and N plain runs instead; --grouped-3x also measures its memory
on the 3x log.  Last, logsieve's peak memory in every mode
(benchmarks/modes.py): -o, -u, `logsieve test`, mail by sendmail and SMTP,
inline and attached.

With --check it exits non-zero when, on any corpus, native logsieve is less
than 100x faster than logcheck in C.UTF-8, less than 30x faster in C, or above
150 MB (in any mode), or when the grouped run costs more than twice the
plain one.  Reports that differ always fail.  `--lines 200000` (make
bench-ci) is the CI-sized run: the same corpora, a fifth of the lines.
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


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as handle:
        batch = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 10000:
                handle.write("\n".join(batch) + "\n")
                batch = []
        if batch:
            handle.write("\n".join(batch) + "\n")
    os.chmod(path, 0o644)


def make_corpora(work, count, unknown):
    """{name: (logcheck/logsieve source arguments, description)} written under `work`."""
    loghub = corpus.loghub_messages()
    ordered = os.path.join(work, "syslog")
    write_lines(ordered, corpus.lines(count, unknown, classic_fraction=0.0))
    unordered = os.path.join(work, "unordered.log")
    write_lines(unordered, corpus.lines(count, unknown, seed=2, loghub=loghub,
                                        loghub_fraction=0.1, ordered=False))
    big = os.path.join(work, "unordered-3x.log")
    write_lines(big, corpus.lines(3 * count, unknown, seed=3, loghub=loghub,
                                  loghub_fraction=0.1, ordered=False))
    hosts = 20
    listing = os.path.join(work, "fleet.logfiles")
    empty = os.path.join(work, "logfiles.d")  # no other lists (no journal)
    os.mkdir(empty)
    os.chmod(empty, 0o755)
    with open(listing, "w") as handle:
        for host, lines in corpus.fleet(hosts, count // hosts, unknown, loghub=loghub,
                                        loghub_fraction=0.1).items():
            directory = os.path.join(work, "remote", host)
            os.makedirs(directory)
            for made in (os.path.join(work, "remote"), directory):
                os.chmod(made, 0o755)
            write_lines(os.path.join(directory, "syslog.log"), lines)
            handle.write(os.path.join(directory, "syslog.log") + "\n")
    os.chmod(listing, 0o644)
    loghub_note = (f"loghub {len(loghub)} lines" if loghub
                   else f"loghub NOT FOUND in {os.path.abspath(corpus.LOGHUB)}: no real messages")
    return {
        "ordered": (["-l", ordered], "one log, RFC 3339, in time order"),
        "unordered": (["-l", unordered], f"one log, stamps mixed, no order, {loghub_note}"),
        "fleet": (["-L", listing, "-D", empty],
                  f"{hosts} host files (-L), each in order, half RFC 3339, half classic"),
    }, ["-l", big]


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
    tree, peak tree memory in MiB or None, stdout, stderr)."""
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
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return elapsed, cpu, (peak / 1024 if sample_memory else None), out.read(), err.read()


def logcheck_command(locale, sources, rules, conf, statedir):
    return ["runuser", "-u", "logcheck", "--", "env", f"LC_ALL={locale}", "TMP=/tmp",
            LOGCHECK, "-c", conf, "-r", rules, "-S", statedir, "-o", "-t", *sources]


def logsieve_command(sources, rules, conf, statedir, pure=False):
    """logsieve with -d (its phases on standard error); `pure`: without its
    native module (LOGSIEVE_BLOCKMATCH=0)."""
    return ["env", f"LOGSIEVE_BLOCKMATCH={0 if pure else 1}", sys.executable,
            "-m", "logsieve.cli", "--allow-root", "-d",
            "-c", conf, "-r", rules, "-S", statedir, "-o", "-t", *sources]


def phases(wall, debug_output):
    """Where logsieve's time went, from its -d lines: (start-up, read and
    match, sort and write).  Start-up is the interpreter, the imports and
    the rules; reading and matching run in parallel (workers), as do sorting
    and writing (runs are merged while the report is written)."""
    stamps = {}
    for line in debug_output.decode(errors="replace").splitlines():
        if line.startswith("DEBUG: ["):
            seconds, message = line[8:].split("s]", 1)
            stamps[message.split()[0]] = float(seconds)
    after_rules = stamps.get("compiled", 0.0)
    read = stamps.get("read", after_rules)
    written = stamps.get("report", read)
    interpreter = wall - written  # before the clock of -d started, and exit
    return interpreter + after_rules, read - after_rules, written - read


def block_matcher_in_use():
    """Whether logsieve runs here with its C++ block matcher."""
    check = "from logsieve.engine import block_matcher_enabled; print(block_matcher_enabled())"
    return subprocess.run([sys.executable, "-c", check], stdout=subprocess.PIPE,
                          check=True, text=True).stdout.strip() == "True"


def report_lines(report):
    return sum(1 for line in report.split(b"\n") if line[:3] in (b"Nov", b"202"))


def measure_logsieve(sources, rules, conf, statedir, pure=False, runs=3):
    """(best wall, its CPU, peak MiB, report, phases of the best run, (wall,
    CPU) of the run whose memory was sampled)."""
    command = logsieve_command(sources, rules, conf, statedir, pure)
    # Timed alone: sampling memory costs CPU that logsieve's workers need.
    # The best of `runs`: a run of a second is easily disturbed.
    wall, cpu, _peak, report, debug = min(timed(command) for _run in range(runs))
    sampled_wall, sampled_cpu, peak, _report, _err = timed(command, sample_memory=True)
    return wall, cpu, peak, report, phases(wall, debug), (sampled_wall, sampled_cpu)


def write_log(path, count, unknown, classic_fraction=0.0):
    """One log of `count` lines in time order (RFC 3339 stamps by default)."""
    write_lines(path, corpus.lines(count, unknown, classic_fraction=classic_fraction))


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
        corpora, big = make_corpora(work, options.lines, options.unknown)
        with open("/proc/loadavg") as handle:
            load = handle.read().split()[0]
        print(f"{options.lines} lines a corpus; rules: {rule_count} (Debian logcheck-database, "
              f"server level); {os.cpu_count()} CPUs, load {load} at start; logsieve's "
              f"native module: {'yes' if block_matcher_in_use() else 'NO'}", flush=True)

        failures = []
        if not corpus.loghub_messages():
            print(f"*** loghub data not found in {os.path.abspath(corpus.LOGHUB)} (LOGHUB_DATA to "
                  f"name it): the corpora hold no loghub messages", flush=True)
            failures.append("loghub data not found: the corpora are not the required ones")
        peaks = []
        sampled = {}  # corpus -> (wall, CPU) of native logsieve, memory sampled
        for name, (sources, description) in corpora.items():
            print(f"\n== {name}: {description}", flush=True)
            wall, cpu, peak, report, (startup, matching, writing), sampled[name] = \
                measure_logsieve(sources, rules, conf, statedir)
            peaks.append(peak)
            reported = report_lines(report)
            print(f"logsieve            {wall:7.2f} s  (CPU {cpu:6.2f} s)  peak {peak:6.1f} MiB  "
                  f"reported {reported} lines ({100 * reported / options.lines:.0f}%)",
                  flush=True)
            print(f"  where the time goes: start-up {startup:.2f} s, read and match "
                  f"{matching:.2f} s, sort and write {writing:.2f} s", flush=True)
            pure_wall, pure_cpu, pure_peak, pure_report, pure_phases, _sampled = measure_logsieve(
                sources, rules, conf, statedir, pure=True, runs=1)
            print(f"logsieve pure path  {pure_wall:7.2f} s  (CPU {pure_cpu:6.2f} s)  "
                  f"peak {pure_peak:6.1f} MiB", flush=True)
            print("  where the time goes: start-up {:.2f} s, read and match {:.2f} s, "
                  "sort and write {:.2f} s".format(*pure_phases), flush=True)
            utf8_wall, utf8_cpu, _peak, utf8_report, _err = timed(
                logcheck_command("C.UTF-8", sources, rules, conf, statedir))
            print(f"logcheck C.UTF-8    {utf8_wall:7.2f} s  (CPU {utf8_cpu:6.2f} s)", flush=True)
            c_wall, c_cpu, _peak, c_report, _err = timed(
                logcheck_command("C", sources, rules, conf, statedir))
            print(f"logcheck C          {c_wall:7.2f} s  (CPU {c_cpu:6.2f} s)", flush=True)
            same = report == pure_report == utf8_report == c_report
            print(f"reports identical: {'yes' if same else 'NO'}")
            ratio_utf8, ratio_c = utf8_wall / wall, c_wall / wall
            print(f"speed-up vs logcheck C.UTF-8: {ratio_utf8:6.1f}x (required {RATIO_UTF8}x, "
                  f"CPU {utf8_cpu / cpu:.1f}x); pure path {utf8_wall / pure_wall:.1f}x")
            print(f"speed-up vs logcheck C:       {ratio_c:6.1f}x (required {RATIO_C}x, "
                  f"CPU {c_cpu / cpu:.1f}x); pure path {c_wall / pure_wall:.1f}x", flush=True)
            if not same:
                failures.append(f"{name}: reports differ")
            if ratio_utf8 < RATIO_UTF8:
                failures.append(f"{name}: only {ratio_utf8:.1f}x faster than logcheck in C.UTF-8")
            if ratio_c < RATIO_C:
                failures.append(f"{name}: only {ratio_c:.1f}x faster than logcheck in C")
            if peak > MEMORY_LIMIT_MB:
                failures.append(f"{name}: peak memory {peak:.1f} MiB above the limit")

        big_wall, big_cpu, big_peak, _report, _err = timed(
            logsieve_command(big, rules, conf, statedir), sample_memory=True)
        peaks.append(big_peak)
        print(f"\nlogsieve, unordered log 3x as long: {big_wall:.2f} s (CPU {big_cpu:.2f} s), "
              f"peak {big_peak:.1f} MiB")
        # The grouped report (-u): the same run with every reported line
        # folded into templates, on the ordered log, compared with a plain run
        # taken in the same conditions (memory sampled, or the best of N).
        ordered_sources = corpora["ordered"][0]
        plain_command = logsieve_command(ordered_sources, rules, conf, statedir)
        grouped_command = plain_command + ["-u"]
        if options.grouped_runs > 1:  # interleaved: both meet the same load
            pairs = [(timed(plain_command), timed(grouped_command))
                     for _run in range(options.grouped_runs)]
            plain_wall, plain_cpu = min(pair[0][:2] for pair in pairs)
            grouped_wall, grouped_cpu, _peak, grouped_report, _err = min(
                (pair[1] for pair in pairs), key=lambda run: run[:2])
            grouped_peak = timed(grouped_command, sample_memory=True)[2]
        else:
            grouped_wall, grouped_cpu, grouped_peak, grouped_report, _err = timed(
                grouped_command, sample_memory=True)
            plain_wall, plain_cpu = sampled["ordered"]
        where = "ordered log"
        if options.grouped_3x:
            big_grouped_peak = timed(logsieve_command(big, rules, conf, statedir) + ["-u"],
                                     sample_memory=True)[2]
            grouped_peak, where = max(grouped_peak, big_grouped_peak), "ordered and 3x log"
        peaks.append(grouped_peak)
        grouped_ratio = grouped_wall / plain_wall
        print(f"logsieve -u, ordered log: {grouped_wall:.2f} s (CPU {grouped_cpu:.2f} s), "
              f"{grouped_report.count(chr(10).encode())} report lines, peak {grouped_peak:.1f} "
              f"MiB ({where}); grouped/plain {grouped_ratio:.2f}x (goal {GROUPED_RATIO}x; "
              f"plain {plain_wall:.2f} s), in CPU time {grouped_cpu / plain_cpu:.2f}x")
        if grouped_ratio > GROUPED_RATIO:
            failures.append(f"the grouped run costs {grouped_ratio:.2f}x the plain run")
        print(f"peak memory: {max(peaks):.1f} MiB (limit {MEMORY_LIMIT_MB} MiB)")
        if big_peak > MEMORY_LIMIT_MB:
            failures.append("3x log: peak memory above the limit")
        if grouped_peak > MEMORY_LIMIT_MB:
            failures.append("grouped run: peak memory above the limit")
        from benchmarks.modes import measure, over_limit  # it imports this module's helpers
        modes = measure(work, ordered_sources[1], rules, options.lines)
        failures.extend(over_limit(modes))
        if not options.check:  # only reports that differ fail without --check
            failures = [failure for failure in failures if failure.endswith("reports differ")]
        status = verdict(failures)
        if not status:
            print("goals met on every corpus" if options.check else "done")
        return status
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
