"""What a rule's text says, read without matching it: whether every
alternative is anchored, whether it can only match trailing white space (which
is stripped before matching), and how to write a value literally.

Shared by the rule validation (the Ansible module) and `logsieve suggest`, so
that a rule the one accepts the other accepts too.  Only the rule *text* is
inspected here, never matched with Python's `re` (see the design notes on the
dialect).
"""

from .ere import top_level_alternatives
from .rules import rule_text as _text

# Characters with a meaning in a POSIX ERE outside a bracket expression.
ERE_SPECIAL = frozenset("\\.[]()*+?{}|^$")


def ere_escape_bytes(value):
    """A value (bytes) written so that a POSIX ERE matches it literally."""
    return b"".join(b"\\" + bytes((byte,)) if chr(byte) in ERE_SPECIAL else bytes((byte,))
                    for byte in value)


def _ends_with_unescaped(alternative, char):
    if not alternative.endswith(char):
        return False
    backslashes = len(alternative) - 1 - len(alternative[:-1].rstrip(b"\\"))
    return backslashes % 2 == 0


def anchoring_problem(pattern):
    """Why a rule is not anchored at both ends, or None.  Every top-level
    alternative must start with '^' and end with '$'."""
    alternatives = top_level_alternatives(pattern)
    for alternative in alternatives:
        where = "" if len(alternatives) == 1 else " (in the alternative %r)" % _text(alternative)
        if not alternative.startswith(b"^"):
            return "rule is not anchored with ^ at the start" + where
        if not _ends_with_unescaped(alternative, b"$"):
            return "rule is not anchored with $ at the end" + where
    return None


_WHITESPACE_ATOMS = (b"[[:space:]]", b"[[:blank:]]", b"\\s", b"[ ]", b"[\t]",
                     b"[ \t]", b"[\t ]", b" ", b"\t")


def trailing_whitespace_problem(pattern):
    """Why a rule can never match a report line, or None.

    logcheck strips trailing white space before matching, so an alternative
    that must end in white space right before its '$' never matches.  Looks at
    the last atom before '$' (after a '+' or '{n,...}' with n >= 1, which still
    require it); '*', '?' and '{0,...}' make it optional and are fine.
    """
    for alternative in top_level_alternatives(pattern):
        if not _ends_with_unescaped(alternative, b"$"):
            continue
        body = alternative[:-1]
        if body.endswith(b"+") and not body.endswith(b"\\+"):
            body = body[:-1]
        elif body.endswith(b"}") and b"{" in body:
            interval = body[body.rindex(b"{") + 1:-1]
            if interval[:1].isdigit() and int(interval.split(b",")[0] or b"0") >= 1:
                body = body[:body.rindex(b"{")]
            else:
                continue
        for atom in _WHITESPACE_ATOMS:
            if body.endswith(atom):
                before = body[:-len(atom)]
                escapes = len(before) - len(before.rstrip(b"\\"))
                # A space or tab is white space even when escaped ("\ ");
                # "\s" or "[" preceded by an escaping backslash is a literal.
                if atom in (b" ", b"\t") or escapes % 2 == 0:
                    return ("rule requires white space at the end of the line, but trailing "
                            "white space is stripped before matching: it can never match")
    return None
