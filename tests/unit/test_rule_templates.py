"""The rules role's templates: rendered with Jinja as Ansible renders them,
then checked with the checker's engine against the samples each set ships."""

import os

import jinja2
import pytest

from ansible_collections.logsieve.logcheck.plugins.filter import ere
from ansible_collections.logsieve.logcheck.plugins.module_utils import rule_validation as rv
from logsieve.engine import CompiledRules
from logsieve.rules import SYSLOG_PREFIX, Rule

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(ROOT, "roles", "rules")
TEMPLATES = os.path.join(ROLE, "templates")
# Template paths mirror the target: /etc/logcheck/ignore.d.<level>/local-<set>.
RULE_DIR = "etc/logcheck/ignore.d.LEVEL"
SAMPLES = "var/cache/logsieve/rules/samples/ignore-or-report.j2"
SETS = sorted(name[len("local-"):-3] for name in os.listdir(os.path.join(TEMPLATES, RULE_DIR)))
SAMPLED = sorted(name.split(".")[0] for name in os.listdir(os.path.join(TEMPLATES, "samples"))
                 if name.endswith(".ignore.j2") and not name.startswith("user."))

# Two hosts, as in the molecule scenario: a router with a VLAN WAN interface
# (a dot in its name) and a plain server without WAN.
ROUTER = {
    "rules_wan_if": "eth0.2", "rules_lan_if": "br-lan", "rules_lan_driver": "igb",
    "rules_snmpd_sources": ["192.0.2.10", "2001:db8::10"],
    "rules_dovecot_monitoring_addresses": ["192.0.2.10", "2001:db8::10"],
    "rules_amavisd_passed": ["CLEAN", "SPAMMY"],
    "__rules_custom": [
        "^\\w{3} [ :[:digit:]]{11} [._[:alnum:]-]+ myapp\\[[[:digit:]]+\\]: heartbeat ok$",
        {"program": "backup.sh", "message": "done in [[:digit:]]+ s", "pid": False,
         "comment": "nightly backup\nwith a newline"},
    ],
    "rules_samples_ignore": ["Nov 21 07:44:38 gw myapp[12]: heartbeat ok",
                             "2026-11-21T07:44:38+00:00 gw backup.sh: done in 12 s"],
    "rules_samples_report": ["2026-11-21T07:44:38+00:00 gw backupXsh: done in 12 s",
                             "Nov 21 07:44:38 gw myapp[12]: heartbeat failed"],
}
SERVER = {
    "rules_wan_if": "", "rules_lan_if": "ens3", "rules_lan_driver": "",
    "rules_snmpd_sources": [], "rules_dovecot_monitoring_addresses": ["198.51.100.5"],
    "rules_amavisd_passed": ["CLEAN"], "__rules_custom": [],
    "rules_samples_ignore": [], "rules_samples_report": [],
}
PROFILES = {"router": ROUTER, "server": SERVER}


def environment(escape=ere.ere_escape, keep_trailing_newline=True):
    # Ansible's template module uses trim_blocks and keeps the final newline
    # (of the template it renders; not necessarily of the templates it includes).
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                             keep_trailing_newline=keep_trailing_newline,
                             undefined=jinja2.StrictUndefined)
    env.filters["logsieve.logcheck.ere_escape"] = escape
    env.filters["logsieve.logcheck.ere_alternatives"] = ere.ere_alternatives
    return env


def render(env, template, variables, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(env.get_template(template).render(**variables))
    return str(path)


def render_set(env, name, variables, tmp_path):
    rules = render(env, RULE_DIR + "/local-%s.j2" % name, variables,
                   tmp_path / "tree" / "ignore.d.server" / ("local-" + name))
    sample_name = "user" if name == "custom" else name
    ignore = render(env, "samples/%s.ignore.j2" % sample_name, variables,
                    tmp_path / "samples" / (name + ".ignore"))
    report = render(env, "samples/%s.report.j2" % sample_name, variables,
                    tmp_path / "samples" / (name + ".report"))
    return rules, ignore, report


def test_every_set_ships_samples():
    assert sorted(set(SETS) - {"custom"}) == SAMPLED
    for name in SAMPLED:
        assert os.path.exists(os.path.join(TEMPLATES, "samples", name + ".report.j2"))


def test_macro_prefix_is_the_engine_prefix():
    module = environment().get_template("macros.j2").module
    assert module.syslog_prefix() == SYSLOG_PREFIX


def test_macro_prefix_covers_both_time_stamp_forms():
    prefix = environment().get_template("macros.j2").module.syslog_prefix()
    rules = CompiledRules([Rule((prefix + "x$").encode(), "macro", 1)])
    for stamp in ("Nov 21 07:44:38", "Nov  1 07:44:38", "2026-11-21T07:44:38.930427+00:00",
                  "2026-11-21T07:44:38Z", "2026-11-21T07:44:38.5-05:00", "2026-11-21T07:44:38+01:00"):
        assert rules.match(("%s gw.example.org x" % stamp).encode()), stamp
    for stamp in ("2026-11-21 07:44:38", "21 Nov 07:44:38", "2026-11-21T07:44:38"):
        assert not rules.match(("%s gw x" % stamp).encode()), stamp


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("name", SETS)
def test_each_set_against_its_samples(tmp_path, profile, name):
    """Every rule compiles, is anchored, matches some line it must ignore, and
    matches no line that must be reported."""
    variables = PROFILES[profile]
    rules, ignore, report = render_set(environment(), name, variables, tmp_path)
    result = rv.validate([rules], [ignore], [report])
    assert [str(e) for e in result.errors] == []
    assert [str(w) for w in result.warnings if w.line] == []
    assert result.samples > 0 or name == "custom"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_all_sets_together(tmp_path, profile):
    """No set's rule hides a line another set must report."""
    env = environment()
    rendered = [render_set(env, name, PROFILES[profile], tmp_path) for name in SETS]
    result = rv.validate([str(tmp_path / "tree")], [r[1] for r in rendered],
                         [r[2] for r in rendered], level="workstation")
    assert [str(e) for e in result.errors] == []
    assert len(result.rule_files) == len(SETS)


def test_hosts_get_different_rules(tmp_path):
    env = environment()
    router = env.get_template(RULE_DIR + "/local-kernel.j2").render(**ROUTER)
    server = env.get_template(RULE_DIR + "/local-kernel.j2").render(**SERVER)
    assert "IN=eth0\\.2 OUT=" in router
    assert "IN=eth0" not in server and "ICMPv6" not in server
    lan = env.get_template(RULE_DIR + "/local-router.j2").render(**ROUTER)
    assert "igb [[:xdigit:]]{4}" in lan and "br-lan: " in lan


def test_unescaped_interface_is_caught_by_the_samples(tmp_path):
    """With the escaping filter replaced by the identity, the dot in eth0.2
    matches any character, and the kernel set's report samples catch it."""
    env = environment(escape=lambda value: value)
    rules, ignore, report = render_set(env, "kernel", ROUTER, tmp_path)
    result = rv.validate([rules], [ignore], [report])
    assert any("eth0x2" in (e.sample or "") for e in result.errors)


def test_too_wide_rule_is_caught(tmp_path):
    """A set widened to everything sshd says hides a successful root login."""
    rules, ignore, report = render_set(environment(), "ssh", ROUTER, tmp_path)
    with open(rules, "a") as handle:
        handle.write(SYSLOG_PREFIX + "sshd(-session)?\\[[[:digit:]]+\\]: .*$\n")
    result = rv.validate([rules], [ignore], [report])
    assert any("Accepted password for root" in (e.sample or "") for e in result.errors)


def test_custom_rules_render(tmp_path):
    text = environment().get_template(RULE_DIR + "/local-custom.j2").render(**ROUTER)
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == ROUTER["__rules_custom"][0]
    assert lines[1] == SYSLOG_PREFIX + "backup\\.sh(\\[[[:digit:]]+\\])?: done in [[:digit:]]+ s$"
    # A newline in a comment cannot start a rule.
    assert "# nightly backup with a newline" in text


@pytest.mark.parametrize("value, escaped", [
    ("eth0.2", "eth0\\.2"), ("br-lan", "br-lan"), ("2001:db8::1", "2001:db8::1"),
    ("a+b*c?(d)[e]{f}|g^h$i\\j", "a\\+b\\*c\\?\\(d\\)\\[e\\]\\{f\\}\\|g\\^h\\$i\\\\j"), (7, "7"),
])
def test_ere_escape(value, escaped):
    assert ere.ere_escape(value) == escaped
    # The escaped value matches exactly the value, through the engine.
    rules = CompiledRules([Rule(("^" + escaped + "$").encode(), "t", 1)])
    assert rules.match(str(value).encode())


@pytest.mark.parametrize("value", ["eth0\n^.*$", "a\rb", "a\0b", ["eth0"], {"a": 1}, None, True])
def test_ere_escape_refuses(value):
    with pytest.raises(Exception) as info:
        ere.ere_escape(value)
    assert "ere_escape" in str(info.value)


def test_ere_alternatives():
    assert ere.ere_alternatives(["192.0.2.1", "2001:db8::1"]) == "(192\\.0\\.2\\.1|2001:db8::1)"
    for bad in ([], [""], "192.0.2.1"):
        with pytest.raises(Exception):
            ere.ere_alternatives(bad)


@pytest.mark.parametrize("keep_trailing_newline", [True, False])
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_combined_samples_as_the_role_renders_them(tmp_path, profile, keep_trailing_newline):
    """The role validates with one ignore and one report file built by
    the samples template (SAMPLES) from every enabled set's samples and the host's own."""
    env = environment()
    variables = dict(PROFILES[profile], __rules_sample_sets=SAMPLED + ["user"])
    env = environment(keep_trailing_newline=keep_trailing_newline)
    for name in SETS:
        render(env, RULE_DIR + "/local-%s.j2" % name, variables,
               tmp_path / "tree" / "ignore.d.server" / ("local-" + name))
    ignore = render(env, SAMPLES, dict(variables, item="ignore"), tmp_path / "ignore")
    report = render(env, SAMPLES, dict(variables, item="report"), tmp_path / "report")
    with open(ignore) as handle:
        assert "# --- ssh ---" in handle.read()
    result = rv.validate([str(tmp_path / "tree")], [ignore], [report], level="workstation")
    assert [str(e) for e in result.errors] == []
    assert result.samples > 100
