"""The `logsieve` command: logcheck 1.4's flags, configuration and report.

    logsieve [-c CFG] [-d] [-h] [-H HOST] [-l LOG] [-L CFG] [-D DIR] [-m MAIL] [-o]
             [-r DIR] [-s|-p|-w] [-R] [-S DIR] [-t] [-T] [-u] [-v] [--allow-root]
    logsieve watch ...       (follow the logs, run ACTION_COMMAND at once; see watch.py)
    logsieve test ...        (logcheck-test; see `logsieve test -h`)
    logsieve suggest ...     (rules for what the report still shows; `logsieve suggest -h`)
    logsieve coverage ...    (which rules match, which never do; `logsieve coverage -h`)
"""

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time

from . import __version__
from .config import DEFAULT_CONF, JOURNAL, REPORT_FORMATS, Settings, read_conf, read_log_list
from .engine import Classifier, timeout_notice
from .lock import RunLock
from . import logsentry
from .multilog import MultilogSource, is_multilog_dir
from .pipeline import classify_blocks, read_groups
from .report import Part, SortedLines, read_optional, section_header, write_section
from .rules import RuleTree
from .cursor import remove_stale_temporaries
from .errors import LogsieveError
# Grouping, JSON, mail and `watch` are imported where they are used: a plain
# run to standard output does not pay for them (start-up is a fifth of a run).
from .subcommand import exit_status
from .sources import JOURNAL_FIRST_RUN, FileSource, JournalSource, journal_duplicated_by

USAGE = """\
usage: logsieve [-c CFG] [-d] [-h] [-H HOST] [-l LOG] [-L CFG] [-D DIR] [-m MAIL] [-o]
                [-r DIR] [-s|-p|-w] [-R] [-S DIR] [-t] [-T] [-u] [-v] [--allow-root]
                [--overview] [--format text|json]
       logsieve watch [the same options]   (follow the logs, run ACTION_COMMAND)
       logsieve test [-h] ...
       logsieve suggest [-h] ...
       logsieve coverage [-h] ...
 -c CFG       = override default configuration file
 -d           = debug mode
 -h           = print this usage information and exit
 -H HOST      = use this hostname in the subject of any generated mail
 -l LOG       = check the specified logfile
 -L CFG       = override default logfiles list
 -D DIR       = override default logfiles lists directory
 -m MAIL      = send the report to the specified recipient
 -o           = send the report to stdout, no mail will be sent
 -p           = use the "paranoid" runlevel
 -r DIR       = override default rules directory
 -R           = adds "Reboot:" to email subject
 -s           = use the "server" runlevel
 -S DIR       = override default state directory
 -t           = testing mode, don't update the logfile offsets
 -T           = accepted for compatibility (logsieve keeps no working directory)
 -u           = group similar lines into templates with counts (SYSLOGSUMMARY=1)
 -v           = print version
 -w           = use the "workstation" runlevel
 --allow-root = run as root although the report is readable by the logcheck user
 --overview   = -u, and lines per program at the top of the report (SYSLOGSUMMARY=2)
 --format F   = text (logcheck's report, the default) or json (JSON Lines; REPORT_FORMAT)
"""


class RunError(LogsieveError):
    """A failure that stops the run before anything is delivered or any cursor moves."""


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="logsieve", add_help=False, usage=USAGE)
    parser.add_argument("-c", dest="conf")
    parser.add_argument("-d", dest="debug", action="store_true")
    parser.add_argument("-h", dest="help", action="store_true")
    parser.add_argument("-H", dest="hostname")
    parser.add_argument("-l", dest="logfile")
    parser.add_argument("-L", dest="logfiles_list")
    parser.add_argument("-D", dest="logfiles_list_d")
    parser.add_argument("-m", dest="mailto")
    parser.add_argument("-o", dest="stdout", action="store_true")
    parser.add_argument("-p", dest="level", action="store_const", const="paranoid")
    parser.add_argument("-s", dest="level", action="store_const", const="server")
    parser.add_argument("-w", dest="level", action="store_const", const="workstation")
    parser.add_argument("-r", dest="ruledir")
    parser.add_argument("-R", dest="reboot", action="store_true")
    parser.add_argument("-S", dest="statedir")
    parser.add_argument("-t", dest="test", action="store_true")
    parser.add_argument("-T", dest="keep_tmp", action="store_true")
    parser.add_argument("-u", dest="summary", action="store_true")
    parser.add_argument("-v", dest="version", action="store_true")
    parser.add_argument("--allow-root", action="store_true")
    parser.add_argument("--overview", action="store_true")
    parser.add_argument("--format", dest="report_format", choices=REPORT_FORMATS)
    return parser.parse_args(argv)


class Debug:
    def __init__(self, enabled):
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, message):
        if self.enabled:
            sys.stderr.write(f"DEBUG: [{time.monotonic() - self.started:8.3f}s] {message}\n")


def settings_from(options):
    """The Settings of logcheck.conf's variables, then the flags on top
    (logcheck's order)."""
    conf = options.conf or DEFAULT_CONF
    if options.conf and not os.access(conf, os.R_OK):
        raise RunError(f"Config file {conf} is unreadable or does not exist")
    variables = read_conf(conf) if os.path.exists(conf) else read_conf(os.devnull)
    overrides = {
        "SENDMAILTO": options.mailto, "RULEDIR": options.ruledir, "STATEDIR": options.statedir,
        "LOGFILES_LIST": options.logfiles_list, "LOGFILES_LIST_D": options.logfiles_list_d,
        "REPORTLEVEL": options.level,
    }
    variables.update({name: value for name, value in overrides.items() if value is not None})
    if options.overview:
        variables["SYSLOGSUMMARY"] = "2"
    elif options.summary and Settings.from_variables(variables).syslog_summary == 0:
        variables["SYSLOGSUMMARY"] = "1"
    if options.report_format:
        variables["REPORT_FORMAT"] = options.report_format
    return Settings.from_variables(variables)


def checker_settings(**flags):
    """(settings, options) as a checker run with these flags would have them
    (logcheck.conf, then the flags); for the subcommands that read the same
    configuration, rules and logs."""
    options = parse_arguments([])
    for name, value in flags.items():
        setattr(options, name, value)
    return settings_from(options), options


def hostname(settings, options):
    if options.hostname:
        return options.hostname
    if settings.fqdn:
        return socket.getfqdn()
    return socket.gethostname().split(".")[0]


def log_entries(settings, options):
    """The logs to read: -l, or logcheck.logfiles and logcheck.logfiles.d, or
    LOGFILE_FALLBACK when there is no list."""
    if options.logfile:
        return [options.logfile]
    list_dir = settings.logfiles_list_d
    listed = os.path.exists(settings.logfiles_list) or (
        os.path.isdir(list_dir) and any(name.endswith(".logfiles") for name in os.listdir(list_dir)))
    if listed:
        return read_log_list(settings.logfiles_list, list_dir).entries
    fallback = settings.logfile_fallback
    if not (os.path.isfile(fallback) and os.access(fallback, os.R_OK)):
        raise RunError(f"Gave up: No logfile settings and unable to read fallback file {fallback}")
    return [fallback]


def source_for(entry, settings, statedir, pin_new=False):
    """The source of one log list entry: the journal, a multilog directory or
    a log file (which need not exist yet), with its cursors in `statedir`."""
    if entry == JOURNAL:
        return JournalSource(statedir)
    if is_multilog_dir(entry):
        return MultilogSource(entry, statedir,
                              form=settings.multilog_stamp)
    return FileSource(entry, statedir, pin_new=pin_new)


def collect_sources(settings, options, debug=lambda message: None, listed_order=False):
    """The sources to read, grouped by base name in logcheck's order (with
    `listed_order`, LogSentry's: as listed), and the errors to report for
    listed files that do not exist."""
    if options.logfile and not ((os.path.isfile(options.logfile)
                                 or is_multilog_dir(options.logfile))
                                and os.access(options.logfile, os.R_OK)):
        raise RunError(f"{options.logfile} does not exist or could not be read")
    entries = log_entries(settings, options)
    sources = []
    errors = []
    duplicate = journal_duplicated_by(entries, settings.read_journal) \
        if JOURNAL in entries else None
    for entry in entries:
        if entry == JOURNAL and duplicate:
            debug(f"journal not read: its messages are in {duplicate} (see READ_JOURNAL)")
        elif (entry == JOURNAL and shutil.which("journalctl")) or os.path.isfile(entry) \
                or is_multilog_dir(entry):
            sources.append(source_for(entry, settings, settings.state_dir,
                                      pin_new=not options.test))
        else:
            errors.append(f"E: File could not be read: {entry}")
    # logcheck appends each log to a file named after its base name and sorts
    # their concatenation in name order: ties in the sort keep that order.
    groups = {}
    for source in sources:
        groups.setdefault(source.name.encode("utf-8", "surrogateescape"), []).append(source)
    return [groups[name] for name in (groups if listed_order else sorted(groups))], errors


def report_section(result, settings):
    """The section that names the report (attack before security before
    events), or None when no line is left to report."""
    if result.attack:
        return settings.attack_subject
    if result.violations:
        return settings.security_subject
    if len(result.events):
        return settings.events_subject
    return None


def report_sections(result, settings):
    """(title, lines) of every section, in logcheck's order."""
    sections = []
    for subject, named in ((settings.attack_subject, result.attack),
                           (settings.security_subject, result.violations)):
        for name, lines in named.items():
            sections.append((subject if name == "logcheck" else f"{subject} for {name}", lines))
    sections.append((settings.events_subject, result.events))
    return sections


def write_report(result, settings, notices, errors, out, layout=None):
    """Write the report in logcheck's layout (or as JSON Lines) to `out`, a
    binary stream.  With `layout` (a list; `out` must then be a file), append
    a report.Part for each part written: where a too large report's digest
    finds them."""
    summary = settings.syslog_summary
    sections = report_sections(result, settings)
    if settings.report_format == "json":
        from .jsonreport import write_json_report
        write_json_report(out, sections, summary, notices, errors)
        return
    kinds = ["attack"] * len(result.attack) + ["security"] * len(result.violations) + ["events"]

    def text(data):
        if data:
            start = out.tell() if layout is not None else 0
            out.write(data)
            if layout is not None:
                layout.append(Part("text", "", 0, start, out.tell()))

    def section(kind, title, write):
        """write(out): the number of lines it wrote under the title."""
        start = out.tell() + len(section_header(title)) if layout is not None else 0
        written = write(out)
        if written and layout is not None:
            layout.append(Part(kind, title, written, start, out.tell() - 1))

    text(b"".join(notice.encode("utf-8") for notice in notices))
    if settings.intro:
        text(read_optional(os.path.join(settings.rule_dir, "header.txt")))
    if errors:
        text(("\n" + "\n".join(errors) + "\n\n").encode("utf-8", "surrogateescape"))
    if summary:
        from .summary import group_section, write_groups, write_overview
        grouped = [(title, group_section(lines)) for title, lines in sections]
        if summary >= 2:
            start = out.tell() if layout is not None else 0
            write_overview(out, grouped)
            if layout is not None and out.tell() > start:
                layout.append(Part("text", "", 0, start, out.tell()))
        for kind, (title, groups) in zip(kinds, grouped):
            section(kind, title, lambda stream: write_groups(stream, title, groups))
    else:
        for kind, (title, lines) in zip(kinds, sections):
            section(kind, title, lambda stream: write_section(stream, title, lines))
    if settings.intro:
        text(read_optional(os.path.join(settings.rule_dir, "footer.txt")))


def subject_line(section, host, settings, reboot):
    date = time.strftime("%Y-%m-%d %H:%M %z")
    subject = f"{host} {date} {section}"
    if reboot:
        subject = "Reboot: " + subject
    if settings.add_tag:
        subject = "[logcheck] " + subject
    return subject


def checked_settings(options):
    """The settings, once the process is fit to run: owner-only files (cursors,
    sort's spill files, the lock are for the logcheck user alone), not root."""
    os.umask(0o077)
    settings = settings_from(options)
    if os.geteuid() == 0 and not options.allow_root:
        raise RunError("logsieve should not be run as root: its state and reports belong to the "
                       "logcheck user. Use: runuser -u logcheck -- logsieve ... "
                       "(or --allow-root)")
    return settings


def run_watch(options, debug):
    """`logsieve watch`: the same logs and classification, an action at once
    instead of a report (see watch.py).  Its own lock and cursors."""
    from . import watch
    settings = checked_settings(options)
    command = watch.action_command(settings)
    with RunLock(settings.lock_dir, name="logsieve-watch.lock"):
        classifier = load_classifier(settings, debug)
        statedir = watch.state_directory(settings.state_dir)[0]
        entries = log_entries(settings, options)
        duplicate = journal_duplicated_by(entries, settings.read_journal) \
            if JOURNAL in entries else None
        sources = [source_for(entry, settings, statedir) for entry in entries
                   if entry != JOURNAL or not (duplicate or shutil.which("journalctl") is None)]
        watcher = watch.Watcher(classifier, sources, command, settings)
        watcher.prime()
        watcher.log(f"following {len(sources)} log(s); action: {' '.join(command)}")
        return watcher.run()


def run(options, debug):
    settings = checked_settings(options)
    with RunLock(settings.lock_dir):
        remove_stale_temporaries(settings.state_dir)
        classifier = load_classifier(settings, debug)
        debug(f"compiled {len(classifier.quiet)} rules")
        as_read = isinstance(classifier, logsentry.LogSentryClassifier)
        groups, errors = collect_sources(settings, options, debug, listed_order=as_read)
        unique, tmpdir = settings.sort_unique, settings.temporary_directory()
        result = None
        try:
            if settings.syslog_summary and not as_read:
                # Grouped: the workers fold their blocks' lines, none are kept.
                from .summary import GroupedSection, fold_block
                result = classify_blocks(classifier, read_groups(groups), GroupedSection,
                                         fold_events=fold_block)
            else:  # LogSentry's report is never grouped: its lines as read
                result = classify_blocks(classifier, read_groups(groups),
                                         lambda: SortedLines(unique=unique and not as_read,
                                                             tmpdir=tmpdir, as_read=as_read))
            debug(f"read {result.lines} lines")
            for rule, count in result.timeouts.items():
                debug(timeout_notice(rule, count))
            section = None
            if result.lines:
                section = logsentry.report_section(result) if as_read \
                    else report_section(result, settings)
            if result.lines == 0 and errors:
                raise RunError("\n".join(errors))
            deliver_report(result, section, settings, options, groups, errors, debug, as_read)
        finally:
            if result is not None:
                result.close()
        # Only now, with the report delivered, do the cursors move.  A crash
        # before this point reports the same lines again next time.
        if not options.test:
            try:
                for group in groups:
                    for source in group:
                        source.commit()
            except OSError as error:
                raise RunError(f"the report was delivered but a cursor could not be saved "
                               f"({error.filename}: {error.strerror}); the next run will "
                               f"report some lines again") from None
            debug("cursors moved")
            # The lines the cursors moved past, counted once (coverage.py).
            counted = getattr(classifier, "counted", None)
            if counted:
                from .coverage import add_run
                add_run(settings.state_dir, counted, result.counts)
    return 0


def load_classifier(settings, debug=lambda message: None):
    """The classifier of RULEDIR: LogSentry's when it holds LogSentry's four
    files, logcheck's rule tree otherwise."""
    ruledir = settings.rule_dir
    if logsentry.is_logsentry_layout(ruledir):
        debug(f"loading LogSentry's rule files from {ruledir}")
        return logsentry.LogSentryClassifier(ruledir)
    debug(f"loading rules from {ruledir} (level {settings.report_level})")
    tree = RuleTree(ruledir, settings.report_level)
    return Classifier(tree, settings.support_cracking_ignore)


def deliver_report(result, section, settings, options, groups, errors, debug, as_read=False):
    """Write the report to standard output or deliver it; raise if that failed.
    as_read: the report is LogSentry's (see logsentry.py)."""
    debug(f"classified: {len(result.events)} events, {len(result.attack)} attack and "
          f"{len(result.violations)} violation sections")
    notices = [JOURNAL_FIRST_RUN for group in groups for source in group
               if isinstance(source, JournalSource) and source.first_run]
    for group in groups:
        for source in group:
            if isinstance(source, JournalSource) and source.absent:
                debug("journalctl found no journal: no journal to read")

    def write(out, layout=None):
        if as_read:
            logsentry.write_report(result, notices + errors, out)
        else:
            write_report(result, settings, notices, errors, out, layout)

    if section is None:
        debug("nothing to report")
    elif options.stdout:
        try:
            write(sys.stdout.buffer)
            sys.stdout.buffer.flush()
            debug("report written")
        except OSError as error:
            from .delivery import DeliveryError
            raise DeliveryError(f"could not write the report to standard output: "
                                f"{error.strerror}") from None
    else:
        # The report goes to an unnamed owner-only file, never whole into memory.
        with tempfile.TemporaryFile(dir=settings.temporary_directory()) as report:
            layout = []
            write(report, layout)
            if as_read:
                subject = logsentry.subject_line(section, hostname(settings, options))
            else:
                subject = subject_line(section, hostname(settings, options), settings, options.reboot)
            from .digest import mail_report
            mail_report(report, layout, subject, settings, debug)
        debug(f"delivered: {subject}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "test":
        from .testcmd import main as test_main
        return test_main(argv[1:])
    if argv and argv[0] == "suggest":
        from .suggest import main as suggest_main
        return suggest_main(argv[1:], checker_settings, collect_sources)
    if argv and argv[0] == "coverage":
        from .coverage import main as coverage_main
        return coverage_main(argv[1:], checker_settings)
    command = run
    if argv and argv[0] == "watch":
        command, argv = run_watch, argv[1:]
    try:
        options = parse_arguments(argv)
    except SystemExit:
        sys.stdout.write(USAGE)
        return 1
    if options.help:
        sys.stdout.write(USAGE)
        return 0
    if options.version:
        sys.stdout.write(f"logsieve {__version__}\n")
        return 0
    # An error is said in words, never a traceback; no cursor has moved
    # unless the message says the report was delivered.
    return exit_status(command, options, Debug(options.debug))


if __name__ == "__main__":
    raise SystemExit(main())
