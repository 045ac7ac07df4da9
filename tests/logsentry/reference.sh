#!/bin/sh
# A reference for LogSentry 1.1's checking, written for logsieve's tests from
# the grep pipeline LogSentry's logcheck.sh runs (not a copy of it):
#   new lines   the logs, concatenated in the order given
#   attacks     grep -E -i -f logcheck.hacking
#   violations  grep -E -i -f logcheck.violations | grep -E -v -f logcheck.violations.ignore
#   unusual     grep -E -v -f logcheck.ignore
# A section with lines is printed after an empty line, with its title and a
# =-=- underline.  The last word of the mail subject goes to standard error.
# usage: reference.sh RULEDIR LOG...
set -u
LC_ALL=C
export LC_ALL
rules=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat "$@" > "$work/new"
[ -s "$work/new" ] || exit 0

attack=0
found=0
section() { # TITLE UNDERLINE FILE
    printf '\n%s\n%s\n' "$1" "$2"
    cat "$3"
    found=1
}
if grep -E -i -f "$rules/logcheck.hacking" "$work/new" > "$work/attacks"; then
    section "Active System Attack Alerts" "=-=-=-=-=-=-=-=-=-=-=-=-=-=" "$work/attacks"
    attack=1
fi
if grep -E -i -f "$rules/logcheck.violations" "$work/new" \
        | grep -E -v -f "$rules/logcheck.violations.ignore" > "$work/violations"; then
    section "Security Violations" "=-=-=-=-=-=-=-=-=-=" "$work/violations"
fi
if grep -E -v -f "$rules/logcheck.ignore" "$work/new" > "$work/unusual"; then
    section "Unusual System Events" "=-=-=-=-=-=-=-=-=-=-=" "$work/unusual"
fi
if [ $attack = 1 ]; then
    echo "ACTIVE SYSTEM ATTACK!" >&2
elif [ $found = 1 ]; then
    echo "system check" >&2
fi
