"""Each role's documentation has one source, meta/argument_specs.yml: its
defaults/main.yml and README.md agree with it on names, defaults and
descriptions (scripts/role_docs.py writes the descriptions into both)."""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SPEC = importlib.util.spec_from_file_location("role_docs", os.path.join(ROOT, "scripts", "role_docs.py"))
role_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_docs)

ROLES = role_docs.roles()
FIX = "run `python scripts/role_docs.py` after editing meta/argument_specs.yml"


def test_every_role_has_argument_specs():
    assert ROLES == sorted(os.listdir(os.path.join(ROOT, "roles")))


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_specs_name_the_same_variables(role):
    defaults = role_docs.load_defaults(role)
    options = role_docs.load_spec(role)["options"]
    assert sorted(set(defaults) - set(options)) == [], "in defaults/main.yml, not in the specs"
    assert sorted(set(options) - set(defaults)) == [], "in the specs, not in defaults/main.yml"


@pytest.mark.parametrize("role", ROLES)
def test_specs_document_the_defaults(role):
    defaults = role_docs.load_defaults(role)
    options = role_docs.load_spec(role)["options"]
    wrong = {name: (option.get("default", "(none)"), defaults[name])
             for name, option in options.items()
             if name in defaults and option.get("default", object()) != defaults[name]}
    assert wrong == {}, "argument_specs default, defaults/main.yml value"


@pytest.mark.parametrize("role", ROLES)
def test_every_variable_is_described(role):
    options = role_docs.load_spec(role)["options"]
    undescribed = [name for name, option in options.items() if not option.get("description")]
    undescribed += ["%s.%s" % (name, key) for name, option in options.items()
                    for key, suboption in (option.get("options") or {}).items()
                    if not suboption.get("description")]
    assert undescribed == []


@pytest.mark.parametrize("role", ROLES)
def test_defaults_comments_and_readme_are_the_specs(role):
    for path, text in role_docs.outputs(role).items():
        with open(path, encoding="utf-8") as handle:
            assert handle.read() == text, "%s is out of date: %s" % (os.path.relpath(path, ROOT), FIX)


def test_an_edited_comment_is_caught():
    path = role_docs.role_file("checker", "defaults", "main.yml")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    edited = text.replace('# Prefix the mail subject with "[logcheck] " (ADDTAG).',
                          "# Add the report type to the mail subject (ADDTAG).")
    assert edited != text
    assert role_docs.render_defaults("checker", edited) == text


def test_readme_rows_name_every_variable():
    for role in ROLES:
        readme = role_docs.render_readme(role)
        for name in role_docs.load_spec(role)["options"]:
            assert "| `%s` |" % name in readme
