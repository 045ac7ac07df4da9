#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: validate_rules
short_description: Validate logcheck rules against sample logs before they go live
version_added: 0.1.0
author: logsieve developers (@logsieve)
description:
  - Reads logcheck rule files (as the logsieve checker and Debian's logcheck read
    them) and checks them with the checker's own matching engine, so a rule
    means here exactly what it means when the checker runs.
  - Fails on a rule that does not compile, a blank rule (a line of only white
    space, which older logcheck versions read as a wildcard), a rule that
    matches every line, an unanchored rule (when O(require_anchors) is on), a
    rule that can never match a report line (one that requires white space
    right before C($), since the checker strips trailing white space before
    matching), a line of a O(must_ignore) sample that no rule matches, and a
    line of a O(must_report) sample that some rule matches.
  - Warns on a rule that matches none of the O(must_ignore) lines (it may be
    obsolete, or the samples incomplete).
  - Changes nothing. Runs on the controller or on the managed host. Where it
    runs, Python needs the C(google-re2) and C(regex) packages (the checker's
    virtual environment has both, for example C(/opt/logsieve/venv/bin/python)).
options:
  rules:
    description:
      - Rule files, directories of rule files, or logcheck rule trees.
      - A directory of rule files is read as logcheck reads one (only names
        made of letters, digits, C(_) and C(-), as C(run-parts) runs them).
      - A rule tree (a directory holding C(ignore.d.*), C(cracking.d) or
        C(violations.d)) contributes the C(ignore.d) directories that apply at
        O(level), and its cracking and violations directories.
    type: list
    elements: path
    required: true
  must_ignore:
    description:
      - Sample logs every line of which must be matched by some rule.
      - Blank lines and lines starting with C(#) are skipped; trailing white
        space is stripped, as the checker strips it.
    type: list
    elements: path
    default: []
  must_report:
    description:
      - Sample logs no line of which may be matched by any rule (lines that
        must stay in the report, such as a successful root login).
      - Read like O(must_ignore).
    type: list
    elements: path
    default: []
  require_anchors:
    description:
      - Fail on a rule that does not start with C(^) and end with C($) (each
        top-level alternative, if the rule has several).
    type: bool
    default: true
  level:
    description:
      - Report level whose C(ignore.d) directories are read from a rule tree
        given in O(rules). C(workstation) reads all three, C(server) reads
        C(ignore.d.server) and C(ignore.d.paranoid), C(paranoid) only
        C(ignore.d.paranoid).
    type: str
    choices: [paranoid, server, workstation]
    default: server
requirements:
  - google-re2 (where the module runs)
  - regex (where the module runs)
attributes:
  check_mode:
    support: full
    description: The module never changes anything; it runs the same in check mode.
  diff_mode:
    support: none
    description: It changes nothing, so there is no difference to show.
notes:
  - Rules are matched as bytes in the C locale, with the dialect of C(grep -E),
    through the same engine the checker uses; Python's C(re) is never used.
seealso:
  - name: logcheck rule format
    description: Debian's README.logcheck-database documents how rules are written.
    link: https://salsa.debian.org/debian/logcheck/-/blob/master/docs/README.logcheck-database
"""

EXAMPLES = r"""
- name: Validate a host's local rules against its sample logs (on the host)
  logsieve.logcheck.validate_rules:
    rules:
      - /etc/logcheck/ignore.d.server/local-ssh
    must_ignore:
      - /var/cache/logsieve/samples/ssh.ignore
    must_report:
      - /var/cache/logsieve/samples/ssh.report
  vars:
    ansible_python_interpreter: /opt/logsieve/venv/bin/python

- name: Validate a whole rule tree at the workstation level, on the controller
  logsieve.logcheck.validate_rules:
    rules: "{{ playbook_dir }}/files/logcheck"
    level: workstation
    must_ignore: "{{ playbook_dir }}/files/samples/noise.log"
  delegate_to: localhost
  register: validation

- name: Show how often each rule matched
  ansible.builtin.debug:
    msg: "{{ validation.rule_hits | selectattr('hits', 'eq', 0) | map(attribute='rule') }}"

- name: Allow unanchored rules (not recommended)
  logsieve.logcheck.validate_rules:
    rules: /etc/logcheck/ignore.d.server/legacy
    require_anchors: false
"""

RETURN = r"""
errors:
  description:
    - Every failure found. Empty when the rules are fine.
    - For a sample line that no rule matches, RV(errors[].file) and RV(errors[].line) name the sample.
      For a rule that matches a line that must be reported, they name the rule
      and RV(errors[].sample) holds the line.
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The rule file (or sample file) the failure is in.
      type: str
      sample: /etc/logcheck/ignore.d.server/local-ssh
    line:
      description: Its line number (1-based; 0 for the file as a whole).
      type: int
      sample: 4
    rule:
      description: The rule, as written (empty when a sample line is the problem).
      type: str
      sample: "^.* sshd\\[[[:digit:]]+\\]: Accepted .*$"
    reason:
      description: Why it fails.
      type: str
      sample: rule matches a line that must be reported (/tmp/ssh.report:2)
    sample:
      description: The sample line involved, where there is one.
      type: str
      returned: when a sample line is involved
      sample: "2026-11-21T07:44:38.930427+00:00 gw sshd[812]: Accepted password for root from 203.0.113.5 port 51234 ssh2"
rule_warnings:
  description:
    - Rules that are valid but suspicious, with the same keys as RV(errors);
      for example a rule that matches none of the lines that must be ignored.
    - The same warnings are also shown as Ansible warnings (RV(warnings)).
  returned: always
  type: list
  elements: dict
  sample:
    - file: /etc/logcheck/ignore.d.server/local-misc
      line: 7
      rule: "^.* ntpd\\[[[:digit:]]+\\]: Listen normally on .*$"
      reason: rule matches none of the lines that must be ignored
warnings:
  description: The warnings as text (file, line, rule and reason), as Ansible shows them.
  returned: when there are warnings
  type: list
  elements: str
rule_hits:
  description: How many sample lines (of both kinds) each rule matched, in rule order.
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: The rule file.
      type: str
    line:
      description: The rule's line number.
      type: int
    rule:
      description: The rule.
      type: str
    hits:
      description: Number of sample lines it matched.
      type: int
  sample:
    - file: /etc/logcheck/ignore.d.server/local-ssh
      line: 3
      rule: "^... sshd(-session)?\\[[[:digit:]]+\\]: Invalid user .*$"
      hits: 2
rule_files:
  description: The rule files read, in order.
  returned: always
  type: list
  elements: str
samples_checked:
  description: Number of sample lines checked.
  returned: always
  type: int
  sample: 42
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.logsieve.logcheck.plugins.module_utils import rule_validation

# How many failures the failure message lists in full (all are in `errors`).
MESSAGE_ERRORS = 20


def main():
    module = AnsibleModule(
        argument_spec=dict(
            rules=dict(type="list", elements="path", required=True),
            must_ignore=dict(type="list", elements="path", default=[]),
            must_report=dict(type="list", elements="path", default=[]),
            require_anchors=dict(type="bool", default=True),
            level=dict(type="str", default="server",
                       choices=list(rule_validation.REPORT_LEVELS)),
        ),
        supports_check_mode=True,
    )
    if rule_validation.ENGINE_IMPORT_ERROR is not None:
        module.fail_json(
            msg=missing_required_lib("google-re2 and regex",
                                     reason="to match rules with the logsieve engine"),
            exception=repr(rule_validation.ENGINE_IMPORT_ERROR))

    params = module.params
    if not params["rules"]:
        module.fail_json(msg="rules: give at least one rule file or directory")
    try:
        result = rule_validation.validate(
            params["rules"], params["must_ignore"], params["must_report"],
            require_anchors=params["require_anchors"], level=params["level"])
    except (OSError, ValueError) as error:
        module.fail_json(msg=str(error))

    for warning in result.warnings:
        module.warn(str(warning))
    output = dict(
        changed=False,
        errors=[problem.as_dict() for problem in result.errors],
        rule_warnings=[problem.as_dict() for problem in result.warnings],
        rule_hits=result.rule_hits,
        rule_files=result.rule_files,
        samples_checked=result.samples,
    )
    if result.failed:
        lines = [str(problem) for problem in result.errors[:MESSAGE_ERRORS]]
        if len(result.errors) > MESSAGE_ERRORS:
            lines.append("... and %d more (see errors)" % (len(result.errors) - MESSAGE_ERRORS))
        module.fail_json(
            msg="%d problem(s) in the rules:\n%s" % (len(result.errors), "\n".join(lines)),
            **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
