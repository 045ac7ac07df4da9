"""The grouped report's shortcuts give what the slow path gives: a word with
a `0x` id is read by its template's expression, and the counters merged and
bounded in C keep Counter's counts and order."""

from collections import Counter

from logsieve import templates
from logsieve.templates import TemplateMiner

NAMED = [b"client @0x7f%02dEA61EEF3%02d 203.0.113.%d#5%04d (example.org): query (cache) "
         b"'example.org/A/IN' denied" % (n, n, n, n) for n in range(10, 20)]


def test_a_word_with_a_0x_id_is_read_by_its_expression():
    miner = TemplateMiner()
    slow = [miner._mask(message) for message in NAMED]
    answers = [miner._masked(message) for message in NAMED]
    assert answers[-1][3] is None  # the cache answered, not _mask()
    for (skeleton, kinds, values, _key), answer in zip(slow, answers):
        assert answer[:2] == (skeleton, kinds)
        assert tuple(answer[2]) == tuple(pair[1] for pair in values)
    assert answers[-1][2][0] == b"@0x7f19EA61EEF319"


def test_merged_counts_keep_counter_order_and_counts():
    target = Counter({b"a": 2, b"b": 1})
    expected = Counter(target)
    source = Counter({b"c": 3, b"a": 1, b"d": 2})
    expected.update(source)
    templates._add_counts(target, source)
    assert list(target.items()) == list(expected.items())


def test_a_handed_over_counter_comes_back_the_same():
    counter = Counter({b"x": 1, b"y": 4, b"": 1, b"z": 2})
    portable = templates._portable(counter)
    assert portable[:2] == (b"x\n", 2) and list(portable[2].items()) == [(b"y", 4), (b"z", 2)]
    merged = Counter()
    templates._merge_counter(merged, portable)
    assert merged == counter
    # no value seen once, or only an empty one: told apart by the count
    for counter in (Counter({b"y": 2}), Counter({b"": 1})):
        merged = Counter()
        templates._merge_counter(merged, templates._portable(counter))
        assert merged == counter


def test_bounding_keeps_the_most_frequent_in_counting_order(monkeypatch):
    monkeypatch.setattr(templates, "MAX_VALUES", 3)
    counter = Counter({b"a": 1, b"b": 5, b"c": 1, b"d": 1, b"e": 5})
    expected = counter.most_common(3)
    templates._bound(counter)
    assert list(counter.items()) == expected + [(templates.OTHERS, 2)]


def test_a_full_counter_counts_new_values_seen_once_under_others(monkeypatch):
    monkeypatch.setattr(templates, "MAX_VALUES", 3)
    target = Counter({b"a": 5, b"b": 2, b"c": 1})
    block = Counter({b"a": 1, b"new": 1, b"other": 1, b"repeated": 2})
    templates._merge_counter(target, templates._portable(block))
    # a value counted already goes on; one a block repeats is counted too
    assert target == Counter({b"a": 6, b"b": 2, b"c": 1, b"repeated": 2,
                              templates.OTHERS: 2})
