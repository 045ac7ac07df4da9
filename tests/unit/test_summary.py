"""-u's grouping: in memory, and through sort(1) when the distinct messages
outgrow its memory budget; both must give the same counts in the same
(first-seen) order."""

import random

from logsieve.report import summarize


def lines(count, seed=7):
    generator = random.Random(seed)
    words = [b"alpha", b"beta\tgamma", b"d\xffelta", b"epsilon x", b"zeta"]
    out = []
    for number in range(count):
        stamp = b"Nov 21 07:44:%02d" % (number % 60) if number % 3 else \
            b"2026-11-21T07:44:38.%06d+00:00" % number
        message = b" ".join(generator.choice(words) for _ in range(generator.randint(1, 3)))
        out.append(b"%s host app[%d]: %s" % (stamp, generator.randint(1, 9999), message))
    return out


def blocks(all_lines, size=500):
    for start in range(0, len(all_lines), size):
        yield b"\n".join(all_lines[start:start + size]) + b"\n"


def test_sort_fallback_groups_like_memory(tmp_path):
    sample = lines(5000)
    in_memory = b"".join(summarize(blocks(sample)))
    for budget in (0, 2000):   # sort(1) from the first message, or after a few
        assert b"".join(summarize(blocks(sample), str(tmp_path), memory=budget)) == in_memory
    grouped = in_memory.split(b"\n")[:-1]
    assert sum(int(line[:7]) for line in grouped) == 5000
    assert len(grouped) == len(set(line[8:] for line in grouped))
    assert grouped[0].endswith(sample[0].split(b"]: ", 1)[1])
