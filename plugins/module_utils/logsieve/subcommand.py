"""What the subcommands (`suggest`, `coverage`) share with the checker's
command line: its flags for the configuration, rules, logs, state directory
and report level (same letters, same meaning, so a command copied from the
cron file works), and one way to turn an error into a message and an exit
status (never a traceback).

Imports only errors: the command line (cli) and the subcommands import it.
"""

import argparse
import sys

from .errors import LogsieveError

_FLAGS = ("conf", "ruledir", "logfiles_list", "logfiles_list_d", "statedir", "level")


def checker_parser(prog, description, log_lists=False):
    """An argument parser with the checker's -c -r [-L -D] -S -p -s -w."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("-c", dest="conf", help="configuration file (logcheck.conf)")
    parser.add_argument("-r", dest="ruledir", help="rule directory (default: RULEDIR)")
    if log_lists:
        parser.add_argument("-L", dest="logfiles_list", help="log list file")
        parser.add_argument("-D", dest="logfiles_list_d", help="log list directory")
    parser.add_argument("-S", dest="statedir", help="state directory (default: STATEDIR)")
    level = parser.add_mutually_exclusive_group()
    level.add_argument("-p", dest="level", action="store_const", const="paranoid",
                       help="the paranoid report level")
    level.add_argument("-s", dest="level", action="store_const", const="server",
                       help="the server report level")
    level.add_argument("-w", dest="level", action="store_const", const="workstation",
                       help="the workstation report level")
    return parser


def checker_flags(options):
    """The checker's flags among parsed `options`, for cli.checker_settings."""
    return {name: getattr(options, name) for name in _FLAGS if hasattr(options, name)}


def exit_status(function, *args):
    """function(*args)'s exit status; a LogsieveError, or anything else the
    system refused (OSError), is printed as `Error: ...` and gives 1."""
    try:
        return function(*args)
    except (LogsieveError, OSError) as error:
        sys.stderr.write(f"Error: {error}\n")
        return 1
    except KeyboardInterrupt:
        return 130
