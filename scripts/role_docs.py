"""Each role's documentation from its one source, meta/argument_specs.yml.

The argument specs hold every variable's name, type, default and
description (ansible-doc -t role shows them, and the role checks its
variables against them). From them this script writes

* roles/<role>/README.md: what the role does and a table of its variables;
* the comment above each variable in roles/<role>/defaults/main.yml (the
  values stay as written there; other comments, such as section headings,
  are kept when a blank line separates them from the next variable).

    python scripts/role_docs.py           # rewrite what is out of date
    python scripts/role_docs.py --check   # exit 1 and name the stale files

tests/unit/test_role_docs.py checks that the files are up to date and that
each default in defaults/main.yml is the one the specs document.
"""

import os
import re
import sys
import textwrap

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLES = os.path.join(ROOT, "roles")
COLLECTION = "logsieve.logcheck"
WIDTH = 79
# Ansible's documentation markup: C(code), O(option), I(italic), ...
MARKUP = re.compile(r"\b(?:C|O|I|M|V|B|RV)\(([^)]*)\)")
VARIABLE_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):")


def roles():
    """The roles of the collection that have argument specs."""
    return sorted(name for name in os.listdir(ROLES)
                  if os.path.exists(os.path.join(ROLES, name, "meta", "argument_specs.yml")))


def role_file(role, *parts):
    return os.path.join(ROLES, role, *parts)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def load_spec(role):
    """The entry point `main` of the role's argument specs."""
    return yaml.safe_load(read(role_file(role, "meta", "argument_specs.yml")))["argument_specs"]["main"]


def load_defaults(role):
    return yaml.safe_load(read(role_file(role, "defaults", "main.yml"))) or {}


def paragraphs(description):
    """A description (a string or a list of strings) as a list of paragraphs."""
    if description is None:
        return []
    if isinstance(description, str):
        description = [description]
    return [" ".join(text.split()) for text in description]


def plain(text):
    return MARKUP.sub(r"\1", text)


def markdown(text):
    return MARKUP.sub(r"`\1`", text).replace("|", "\\|").replace("<", "\\<")


def shown(value):
    """A default as a reader writes it: a string as it is (quoted when empty),
    anything else in YAML flow style."""
    if isinstance(value, str):
        return value or '""'
    # In a list, so that a scalar gets no document end marker.
    return yaml.safe_dump([value], default_flow_style=True, width=10**6).strip()[1:-1]


def comment(name, spec):
    """The comment block written above a variable in defaults/main.yml."""
    lines = []
    for number, text in enumerate(paragraphs(spec.get("description"))):
        if number:
            lines.append("#")
        lines += textwrap.wrap(plain(text), WIDTH - 2, initial_indent="# ",
                               subsequent_indent="# ", break_on_hyphens=False)
    if spec.get("choices"):
        lines.append("# One of: %s." % ", ".join(map(str, spec["choices"])))
    for key, option in (spec.get("options") or {}).items():
        text = plain(" ".join(paragraphs(option.get("description"))))
        if option.get("choices"):
            text += " One of: %s." % ", ".join(map(str, option["choices"]))
        if "default" in option:
            text += " Default: %s." % shown(option["default"])
        if option.get("required"):
            text += " Required."
        lines += textwrap.wrap(text, WIDTH - 2, initial_indent="#   %s: " % key,
                               subsequent_indent="#     ", break_on_hyphens=False)
    return lines


def render_defaults(role, text=None):
    """defaults/main.yml with the comment above each variable made from its spec."""
    options = load_spec(role)["options"]
    if text is None:
        text = read(role_file(role, "defaults", "main.yml"))
    out, pending = [], []
    for line in text.split("\n"):
        if line.startswith("#"):
            pending.append(line)
            continue
        match = VARIABLE_LINE.match(line)
        if match and match.group(1) in options:
            # The comment block right above a variable is its description.
            out += comment(match.group(1), options[match.group(1)])
        else:
            out += pending
        pending = []
        out.append(line)
    return "\n".join(out + pending)


def render_readme(role):
    """roles/<role>/README.md."""
    spec = load_spec(role)
    lines = ["# Role %s.%s" % (COLLECTION, role), ""]
    lines += ["%s." % markdown(spec["short_description"]).rstrip("."), ""]
    for text in paragraphs(spec.get("description")):
        lines += [markdown(text), ""]
    lines += [
        "## Variables", "",
        "Every variable is checked against `meta/argument_specs.yml` when the role",
        "starts (`ansible-doc -t role %s.%s` shows the same)." % (COLLECTION, role), "",
        "| Variable | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for name, option in spec["options"].items():
        lines.append(row(name, option))
        for key, suboption in (option.get("options") or {}).items():
            lines.append(row("%s[].%s" % (name, key), suboption))
    lines += [
        "", "<!-- Made by scripts/role_docs.py from meta/argument_specs.yml: edit that",
        "     file, then run `python scripts/role_docs.py`. -->", "",
    ]
    return "\n".join(lines)


def row(name, option):
    kind = option.get("type", "str")
    if option.get("elements"):
        kind += " of " + option["elements"]
    if option.get("choices"):
        kind += ": " + ", ".join(map(str, option["choices"]))
    default = "`%s`" % markdown(shown(option["default"])) if "default" in option else ""
    if option.get("required"):
        default = "required"
    description = " ".join(markdown(text) for text in paragraphs(option.get("description")))
    return "| `%s` | %s | %s | %s |" % (name, kind, default, description)


def outputs(role):
    """Each generated file of the role and the text it must hold."""
    return {
        role_file(role, "README.md"): render_readme(role),
        role_file(role, "defaults", "main.yml"): render_defaults(role),
    }


def main(argv):
    check = "--check" in argv
    stale = []
    for role in roles():
        for path, text in outputs(role).items():
            if os.path.exists(path) and read(path) == text:
                continue
            stale.append(os.path.relpath(path, ROOT))
            if not check:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    for path in stale:
        print(("out of date: %s" if check else "wrote %s") % path)
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
