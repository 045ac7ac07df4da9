"""`logsieve test`: logcheck-test with logsieve's engine.

Apply one rule, a rule file or a rule directory to a log and print the lines
it matches (or with -i the lines it leaves).  Exit status: 0 some line was
printed, 1 none, 2 an error.
"""

import argparse
import os
import sys

from .engine import CompiledRules, timeout_notice
from .lines import split_lines, strip_line
from .rules import Rule, RuleError, SYSLOG_PREFIX, read_rule_file, rule_files
from .errors import LogsieveError

RULER = "=" * 80


class UsageError(LogsieveError):
    pass


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="logsieve test",
        description="Apply a rule, a rule file or a rule directory to a log.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-a", "--auth.log", dest="logfile", action="store_const",
                        const="/var/log/auth.log", help="parse /var/log/auth.log")
    source.add_argument("-s", "--syslog", dest="logfile", action="store_const",
                        const="/var/log/syslog", help="parse /var/log/syslog")
    source.add_argument("-l", "--log-file", dest="logfile", metavar="LOGFILE", help="parse LOGFILE")
    parser.add_argument("-i", "--invert-match", action="store_true",
                        help="show lines that the rules do not match")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress the rule summary")
    parser.add_argument("-e", "--surround-rule", action="store_true",
                        help="surround RULE with the standard prefix (both time stamp forms) and $")
    parser.add_argument("-P", "--append-prefix", default="", metavar="PREFIX",
                        help="append PREFIX to the rule prefix")
    parser.add_argument("-S", "--prepend-suffix", default="", metavar="SUFFIX",
                        help="prepend SUFFIX to the rule suffix")
    parser.add_argument("-r", "--rule-file", metavar="RULEFILE",
                        help="use the rules of RULEFILE (a file, or a directory of rule files)")
    parser.add_argument("rule", nargs="?", help="a single rule (POSIX extended regex)")
    return parser.parse_args(argv)


def load_rules(options):
    if options.rule_file and options.rule is not None:
        raise UsageError("you cannot use both RULE and RULEFILE")
    if options.rule_file:
        path = options.rule_file
        if os.path.isdir(path):
            return [rule for _name, file in rule_files(path) for rule in read_rule_file(file)]
        if not os.path.isfile(path):
            raise UsageError(f"'{path}' is neither a regular file nor a directory")
        if not os.access(path, os.R_OK):
            raise UsageError(f"'{path}' permission denied")
        return read_rule_file(path)
    if options.rule is None:
        raise UsageError("no RULE specified")
    prefix = (SYSLOG_PREFIX if options.surround_rule else "") + options.append_prefix
    suffix = ("$" if options.surround_rule else "") + options.prepend_suffix
    text = prefix + options.rule + suffix
    return [Rule(os.fsencode(text), "<command line>", 1)]


def describe(options, rules):
    if options.rule_file:
        return f"used rule file: {options.rule_file}"
    return f"used rule: '{rules[0].pattern.decode('utf-8', 'surrogateescape')}'"


def main(argv):
    try:
        options = parse_arguments(argv)
    except SystemExit as exit_:
        return 0 if exit_.code == 0 else 2
    try:
        if not options.logfile:
            raise UsageError("no log file specified, please choose -a or -s or -l LOGFILE")
        rules = load_rules(options)
        compiled = CompiledRules(rules)
        with open(options.logfile, "rb") as log:
            printed = 0
            out = sys.stdout.buffer
            for line in split_lines(iter(lambda: log.read(1 << 20), b"")):
                line = strip_line(line)
                if compiled.matches(line) != options.invert_match:
                    out.write(line + b"\n")
                    printed += 1
    except (UsageError, RuleError) as error:
        sys.stderr.write(f"ERROR: {error}!\n")
        return 2
    except OSError as error:
        sys.stderr.write(f"ERROR: '{error.filename}' {error.strerror}!\n")
        return 2
    for rule, count in compiled.take_timeouts().items():
        sys.stderr.write(f"WARNING: {timeout_notice(rule, count)}\n")
    if not options.quiet:
        sys.stdout.write(f"{RULER}\nparsed file: {options.logfile}\n{describe(options, rules)}\n")
    sys.stdout.flush()
    return 0 if printed else 1
