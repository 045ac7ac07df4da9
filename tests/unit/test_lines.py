import random

import pytest

from logsieve.lines import stripped_blocks, strip_line

BLANKS = [b" ", b"\t", b"\v", b"\f", b"\r"]


@pytest.mark.parametrize("seed", range(40))
def test_stripped_blocks_strip_every_line_as_strip_line_does(seed):
    rng = random.Random(seed)
    lines = []
    for _number in range(rng.randrange(1, 30)):
        word = b"".join(rng.choice([b"a", b"b c", b"x\ty"]) for _part in range(rng.randrange(3)))
        lead = b"".join(rng.choice(BLANKS) for _blank in range(rng.randrange(2)))
        trail = b"".join(rng.choice(BLANKS) for _blank in range(rng.choice([0, 0, 1, 3])))
        lines.append(lead + word + trail)
    block = b"\n".join(lines) + b"\n"
    expected = b"\n".join(map(strip_line, lines)) + b"\n"
    assert b"".join(stripped_blocks([block])) == expected


def test_a_block_without_trailing_white_space_is_the_same_object():
    block = b"a b\n c\n"
    assert next(stripped_blocks([block])) is block
