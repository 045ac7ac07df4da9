"""Count the numbered test messages of one run in a per-host file.

Usage: count_noloss.py FILE MARKER SENT
Lines look like "... noloss[pid]: MARKER <n>". Prints JSON: sent, received
(distinct numbers that arrived), duplicates (extra copies), missing, and
out_of_order (first arrivals that came after a higher number).
"""
import json
import re
import sys

path, marker, sent = sys.argv[1], sys.argv[2], int(sys.argv[3])
number = re.compile(re.escape(marker) + r" (\d+)$")
arrivals = []
with open(path, encoding="utf-8", errors="replace") as handle:
    for line in handle:
        found = number.search(line.rstrip("\n"))
        if found:
            arrivals.append(int(found.group(1)))

seen = set()
first_arrivals = []
for n in arrivals:
    if n not in seen:
        seen.add(n)
        first_arrivals.append(n)
out_of_order = sum(1 for a, b in zip(first_arrivals, first_arrivals[1:]) if b < a)
print(json.dumps({
    "sent": sent,
    "received": len(seen),
    "duplicates": len(arrivals) - len(seen),
    "missing": len(set(range(1, sent + 1)) - seen),
    "out_of_order": out_of_order,
}))
