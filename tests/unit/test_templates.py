"""The template miner behind the grouped report: typed masking, folding of
varying words, and the rule that two different messages are never merged."""

import pytest

from logsieve import summary, syslogline, templates
from logsieve.templates import TemplateMiner, mask_token


@pytest.mark.parametrize("token, shape, kind, value", [
    (b"203.0.113.7", b"<ADDR>", "ADDR", b"203.0.113.7"),
    (b"[203.0.113.7]", b"[<ADDR>]", "ADDR", b"203.0.113.7"),
    (b"rhost=203.0.113.7", b"rhost=<ADDR>", "ADDR", b"203.0.113.7"),
    (b"2001:db8::1", b"<ADDR>", "ADDR", b"2001:db8::1"),
    (b"fe80::1%eth0", b"<ADDR>", "ADDR", b"fe80::1%eth0"),
    (b"host-1.example.net", b"<ADDR>", "ADDR", b"host-1.example.net"),
    (b"52:54:00:12:34:56", b"<MAC>", "MAC", b"52:54:00:12:34:56"),
    (b"(uid=0)", b"(uid=<NUM>)", "NUM", b"0"),
    (b"4242,", b"<NUM>,", "NUM", b"4242"),
    (b"0x7f3a", b"<HEX>", "HEX", b"0x7f3a"),
    (b"4F3A21C0B2:", b"<HEX>:", "HEX", b"4F3A21C0B2"),
    (b"123e4567-e89b-12d3-a456-426614174000", b"<UUID>", "UUID",
     b"123e4567-e89b-12d3-a456-426614174000"),
    (b"20:55:07", b"<TIME>", "TIME", b"20:55:07"),
    (b"2026-11-21T07:44:38.930427+00:00", b"<DATE>", "DATE", b"2026-11-21T07:44:38.930427+00:00"),
    (b"'/udev/hda1'", b"'<PATH>'", "PATH", b"/udev/hda1"),
    (b"SHA256:Zq3Tt0Ejz7d9yXkVmQ2pLr8sWc4uHb6nYf1aGe5oKi0", b"SHA256:<ID>", "ID",
     b"Zq3Tt0Ejz7d9yXkVmQ2pLr8sWc4uHb6nYf1aGe5oKi0"),
])
def test_typed_masking(token, shape, kind, value):
    assert mask_token(token) == (shape, kind, value)


@pytest.mark.parametrize("token", [b"Accepted", b"password", b"[preauth]", b"/", b"user=root",
                                   b"logrotate.service", b"com.jcraft.jsch.JSchException:"])
def test_words_stay_words(token):
    assert mask_token(token) == (token, None, None)


def test_a_word_with_digits_keeps_its_letters():
    assert mask_token(b"ssh2") == (b"ssh<NUM>", "MIXED", b"ssh2")
    assert mask_token(b"WIN-4F3A21C0B2") == (b"WIN-<HEX>", "MIXED", b"WIN-4F3A21C0B2")


def mine(messages, program=b"sshd"):
    miner = TemplateMiner()
    for number, message in enumerate(messages):
        line = b"Nov 21 07:00:%02d host1 %s[%d]: %s" % (number % 60, program, 100 + number, message)
        header = syslogline.parse(line)
        assert header.message == message
        miner.add(header)
    groups = miner.groups()
    return miner, {group.template.text: group for group in groups}


def test_spaced_dates_are_one_placeholder():
    _miner, groups = mine([b"connection at Fri Jun 17 07:07:00 2005", b"connection at Sun Jul  3 10:05:25 2005"])
    assert list(groups) == [b"connection at <DATE>"]


def test_varying_user_names_fold_with_their_values():
    _miner, groups = mine([b"Invalid user %s from 203.0.113.%d" % (name, number)
                           for number, name in enumerate([b"admin", b"admin", b"test", b"1234"])])
    group = groups[b"Invalid user <USER> from <IP>"]
    assert group.count == 4
    user, address = group.slots()
    assert (user.kind, user.top(1)) == ("USER", [(b"admin", 2)])
    assert sorted(user.values) == [b"1234", b"admin", b"test"]
    assert address.kind == "IP" and len(address.values) == 4


def test_a_word_position_folds_only_with_four_values():
    three = [b"Too many authentication failures for %s now" % name
             for name in (b"root", b"admin", b"guest")]
    _miner, groups = mine(three)
    assert len(groups) == 3  # three values: not shown to vary, kept apart
    _miner, groups = mine(three + [b"Too many authentication failures for oracle now"])
    assert list(groups) == [b"Too many authentication failures for <*> now"]


def test_different_messages_are_never_merged():
    # Same length, same shape, many of them: still different messages,
    # because they differ in more than one word.
    messages = [b"cupsd startup succeeded", b"cupsd shutdown succeeded",
                b"Starting pcmcia: succeeded", b"Setting network parameters: succeeded",
                b"session opened for user alice", b"session closed for user alice",
                b"status installed libc6:amd64 2.36-9", b"status unpacked libc6:amd64 2.36-9",
                b"status half-configured libc6:amd64 2.36-9", b"status half-installed libc6:amd64 2.36-9"]
    _miner, groups = mine(messages * 3)
    assert len(groups) == len(messages)
    assert all(group.count == 3 for group in groups.values())


def test_a_short_message_is_not_folded_into_a_variable():
    # `<queue id>: removed`, `: expired`, ...: one constant word beside the
    # variable one is too little to show they are one message.
    _miner, groups = mine([b"4F3A21C0B2: %s" % word for word in (
        b"removed", b"expired", b"deferred", b"bounced", b"held")])
    assert len(groups) == 5


def test_a_position_learned_in_one_program_folds_another_programs_message():
    miner = TemplateMiner()
    for program, user in [(b"su", b"cyrus"), (b"su", b"news"), (b"sshd", b"test")]:
        miner.add(syslogline.parse(b"Jul  1 04:05:17 combo %s(pam_unix)[1]: session closed for user %s"
                                   % (program, user)))
    groups = miner.groups()
    assert {group.template.text for group in groups} == {b"session closed for user <USER>"}
    assert {group.program for group in groups} == {b"su(pam_unix)", b"sshd(pam_unix)"}


def test_a_learned_position_keeps_its_punctuation():
    miner = TemplateMiner()
    for number in range(5):
        miner.add(syslogline.parse(b"Nov 21 07:00:00 h postfix/cleanup[1]: 4F3A21C0B%d: message-id=<x%c@h>"
                                   % (number, b"abcde"[number])))
    miner.add(syslogline.parse(b"Nov 21 07:00:00 h postfix/qmgr[1]: 4F3A21C0B9: removed"))
    texts = {group.template.text for group in miner.groups()}
    assert b"<HEX>: removed" in texts


def test_an_empty_value_folds_into_the_typed_placeholder():
    _miner, groups = mine([b"connection from 203.0.113.1 (host.example.com) at 10:00:00",
                           b"connection from 203.0.113.2 () at 10:00:01"])
    assert list(groups) == [b"connection from <IP> (<HOST>) at <TIME>"]
    assert groups[b"connection from <IP> (<HOST>) at <TIME>"].slots()[1].values[b""] == 1


def test_groups_are_ordered_by_first_time_and_keep_first_last_hosts():
    miner = TemplateMiner()
    for line in [b"Jul  1 00:00:00 b app: second kind 1", b"Jun 30 23:00:00 a app: first kind 1",
                 b"Jul  2 00:00:00 c app: first kind 2"]:
        miner.add(syslogline.parse(line))
    first, second = miner.groups()
    assert first.template.text == b"first kind <NUM>"
    assert (first.first_time, first.last_time) == (b"Jun 30 23:00:00", b"Jul  2 00:00:00")
    assert dict(first.hosts) == {b"a": 1, b"c": 1}
    assert second.template.text == b"second kind <NUM>"


def test_lines_without_a_header_are_grouped_by_their_words():
    header = syslogline.parse(b"    continuation of a stack trace at Foo.java:42")
    assert header.stamp is None and header.program is None
    miner = TemplateMiner()
    miner.add(header)
    (group,) = miner.groups()
    assert group.template.text == b"continuation of a stack trace at Foo.java:<NUM>"


def test_values_are_bounded():
    miner = TemplateMiner()
    for number in range(templates.MAX_VALUES + 50):
        miner.add(syslogline.parse(b"Nov 21 07:00:00 h app: got %d" % number))
    (group,) = miner.groups()
    values = group.slots()[0].values
    assert len(values) == templates.MAX_VALUES + 1
    assert values[templates.OTHERS] == 50


def test_an_empty_key_value_folds_into_the_typed_placeholder():
    _miner, groups = mine([b"auth failure; tty=ssh rhost=203.0.113.1", b"auth failure; tty=ssh rhost="])
    assert list(groups) == [b"auth failure; tty=ssh rhost=<IP>"]


def test_the_line_cache_never_changes_a_result(monkeypatch):
    import random
    rng = random.Random(7)
    shapes = [b"Failed password for %s from 10.0.%d.%d port %d ssh2",
              b"Invalid user %s from 10.0.%d.%d",
              b"kernel: [%d.%06d] IN=eth0 SRC=203.0.%d.%d LEN=%d",
              b"slow query (%d ms): id=%d"]
    messages = []
    for _message in range(3000):
        shape = rng.choice(shapes)
        count = shape.count(b"%") - shape.count(b"%s")
        numbers = tuple(rng.randint(0, 300) for _number in range(count))
        if b"%s" in shape:
            numbers = (rng.choice([b"root", b"admin", b"1234", b"5678", b"test"]),) + numbers
        messages.append(shape % numbers)

    def summary():
        _miner, groups = mine(messages)
        return {text: (group.count, [(slot.shape, dict(slot.values)) for slot in group.slots()])
                for text, group in groups.items()}

    cached = summary()
    # every line on the slow path
    monkeypatch.setattr(TemplateMiner, "_masked",
                        lambda self, message: self._mask(message)[:2]
                        + (tuple(value for _position, value in self._mask(message)[2]), None))
    assert summary() == cached


def test_blocks_and_single_lines_group_alike():
    lines = [b"Nov 21 07:00:%02d web%d sshd[%d]: Failed password for %s from 10.0.0.%d port %d ssh2"
             % (n % 60, n % 3, 100 + n, [b"root", b"admin", b"x1", b"test"][n % 4], n % 250, 1000 + n)
             for n in range(500)]
    lines += [b"a continuation line", b"", b"Nov 21 07:09:00 web1", b"Nov 21 07:09:00 web1 ",
              b"Nov 21 07:10:00 web1 kernel: [12.5] eth0: link up",
              b"Nov 21 07:10:00 web1 kernel: [13.5] eth0: link up"]

    def described(miner):
        return sorted(((group.program, group.template.text, group.count, group.first_time,
                        group.last_time, dict(group.hosts),
                        [(slot.shape, dict(slot.values)) for slot in group.slots()])
                       for group in miner.groups()), key=repr)

    by_line = TemplateMiner()
    for line in lines:
        by_line.add(syslogline.parse(line))
    by_block = TemplateMiner()
    by_block.add_block(b"\n".join(lines[:123]) + b"\n")
    by_block.add_block(b"\n".join(lines[123:]))
    assert described(by_block) == described(by_line)


@pytest.mark.parametrize("token", [b"ls.1.gz", b"java.1.gz", b"app.conf.bak", b"nginx.conf.tmp"])
def test_file_names_are_not_host_names(token):
    assert mask_token(token)[1] != "ADDR"
    assert mask_token(b"biblioteka.wsi.edu.pl")[1] == "ADDR"  # .pl: Poland, not Perl


def test_groups_handed_over_by_workers_stay_bounded(monkeypatch):
    monkeypatch.setattr(templates, "MAX_SKELETONS", 40)
    worker, report = TemplateMiner(), TemplateMiner()
    for number in range(200):  # 200 messages, two words vary at once: nothing folds
        word = bytes([97 + number % 26]) * (1 + number // 26)
        report.absorb(worker.take_block(b"Nov 21 07:00:00 h app[1]: message %s here %s"
                                        % (word, word)))
        assert len(report._groups) <= 40 + 1  # and the overflow group
    groups = report.groups()
    assert sum(group.count for group in groups) == 200
    (overflow,) = [group for group in groups if group.template.text == b"<*>"]
    assert overflow.count > 100 and len(overflow.slots()[0].values) == overflow.count


def test_groups_handed_over_after_a_fold_fold_too(monkeypatch):
    monkeypatch.setattr(templates, "MAX_SKELETONS", 40)
    worker, report = TemplateMiner(), TemplateMiner()
    for number in range(200):  # one varying word: folded, never overflowing
        word = bytes([97 + number % 26]) * (1 + number // 26)
        report.absorb(worker.take_block(b"Nov 21 07:00:00 h app[1]: message %s here" % word))
    (group,) = report.groups()
    assert group.template.text == b"message <*> here" and group.count == 200
    assert len(group.slots()[0].values) == 200


def test_a_header_without_a_message_is_one_line():
    rows = syslogline.parse_block(b"Nov 21 07:44:38 myhost\nNov 21 07:44:39 h2 prog[1]: hello\n")
    assert rows == [(b"Nov 21 07:44:38", b"myhost", b"", b""),
                    (b"Nov 21 07:44:39", b"h2", b"prog", b"hello")]


def test_a_group_with_one_value_per_placeholder_shows_its_message():
    line = b"Nov 21 07:00:0%d web1 kernel: usb 1-1: reset high-speed USB device number 2 using ehci"
    repeated = summary.group_lines([line % second for second in range(3)]).groups()
    assert summary.format_group(repeated[0]) == (
        b"      3  kernel: usb 1-1: reset high-speed USB device number 2 using ehci\n"
        b"          from Nov 21 07:00:00 to Nov 21 07:00:02 on web1\n")
    # one value differs: the template, with the values
    varied = summary.group_lines([line % 0, line.replace(b"number 2", b"number 3") % 1]).groups()
    assert [group.count for group in varied] == [2]
    text = summary.format_group(varied[0])
    assert text.startswith(b"      2  kernel: usb <NUM>-<NUM>: reset high-speed USB device number <NUM> ")
    assert b"<NUM> 2 (1), 3 (1)" in text
