"""Each role's assert_role_vars.yml: one assertion per rule the argument specs
cannot check, and a failure names the variable and the value it got. Runs the
roles' assertions with ansible-playbook on localhost (nothing else of the
roles runs)."""

import json
import os
import subprocess
import sys

import yaml

# (role, variables, what the one failure must say); None: no failure.
CASES = {
    "checker defaults": ("checker", {}, None),
    "checker logfile": ("checker", {"checker_logfiles": ["/var/log/syslog", "syslog"]},
                        "checker_logfiles[1] must be an absolute path or 'journal', got 'syslog'"),
    "checker schedule": ("checker", {"checker_cron_schedule": "2 * *"},
                         "checker_cron_schedule must have five cron time fields"),
    "checker logfiles name": ("checker", {"checker_logfiles_name": "logsieve.conf"},
                              "checker_logfiles_name may only hold"),
    "rules custom": ("rules", {"rules_host_custom": ["^ok$", {"program": "x", "message": "y"}]}, None),
    "rules custom newline": ("rules", {"rules_group_custom": ["^a$\n^b$"]},
                             "Each entry of rules_group_custom must be a one-line string"),
    "remote client": ("remote_logging", {"remote_logging_client_servers": [{"host": "a"}]}, None),
    "remote relp": ("remote_logging", {"remote_logging_backend": "syslog-ng",
                                       "remote_logging_client_servers": [
                                           {"host": "a"}, {"host": "b", "transport": "relp"}]},
                    "remote_logging_client_servers[1] uses RELP, which needs remote_logging_backend rsyslog"),
    "remote udp tls": ("remote_logging", {"remote_logging_tls": True,
                                          "remote_logging_client_servers": [
                                              {"host": "a", "transport": "udp"}]},
                       "remote_logging_client_servers[0] uses UDP, which has no TLS"),
    "remote no server": ("remote_logging", {}, "remote_logging_client_servers must name at least one server"),
    "remote path": ("remote_logging", {"remote_logging_mode": "server",
                                       "remote_logging_server_path": "/var/log/remote/all.log"},
                    "remote_logging_server_path must hold \"{host}\""),
    "remote peers": ("remote_logging", {"remote_logging_mode": "server", "remote_logging_tls": True},
                     "remote_logging_tls_permitted_peers must name the certificates"),
}


def test_each_failed_assertion_names_its_variable(tmp_path, collections_path):
    plays = [{"name": name, "hosts": "localhost", "gather_facts": False,
              "tasks": [{"ansible.builtin.include_role": {
                  "name": "logsieve.logcheck." + role, "tasks_from": "assert_role_vars.yml",
                  # A failed host would leave the next plays; the failures stay in the output.
                  "apply": {"ignore_errors": True}},
                  "vars": variables}]}
             for name, (role, variables, _message) in CASES.items()]
    playbook = tmp_path / "asserts.yml"
    playbook.write_text(yaml.safe_dump(plays))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    completed = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         "-c", "local", str(playbook)],
        env=env, capture_output=True, text=True, timeout=300, check=False)
    output = json.loads(completed.stdout)
    failures = {}
    for play in output["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost", {})
            for item in result.get("results", [result]):
                if item.get("failed"):
                    failures.setdefault(play["play"]["name"], []).append(item["msg"])
    for name, (_role, _variables, message) in CASES.items():
        if message is None:
            assert name not in failures, failures[name]
        else:
            assert len(failures.get(name, [])) == 1, (name, failures.get(name))
            assert message in failures[name][0], (name, failures[name][0])
