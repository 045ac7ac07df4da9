"""logcheck's report levels, and which ignore.d directories each one reads.

A level reads its own ignore.d.<level> directory and those of the levels
below it (workstation ignores the most, paranoid the least).  The rule tree,
the settings, the command line and the Ansible module take the levels from
here.  This module imports nothing: every other module may import it.
"""

# From the fewest lines ignored to the most.
REPORT_LEVELS = ("paranoid", "server", "workstation")

# Report level -> the levels whose ignore.d.* directories apply, its own first.
IGNORE_LEVELS = {level: tuple(reversed(REPORT_LEVELS[:position + 1]))
                 for position, level in enumerate(REPORT_LEVELS)}
