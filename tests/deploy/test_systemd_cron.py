"""deploy/systemd (a hardened oneshot service and its timer) and deploy/crontab, parsed; with
systemd-analyze where the machine has it. The crontab line itself is run against the loopback
fakes by tests/cli/test_newcomer.py."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.helpers import CONFIG, DEPLOY, REPO, STATE_DIR, cron_schedule_ok, unit_file

SYSTEMD = DEPLOY / "systemd"


def one(values: dict[str, list[str]], key: str) -> str:
    (value,) = values[key]
    return value


def test_the_service_is_a_oneshot_goalsync_run_as_its_own_user() -> None:
    unit = unit_file(SYSTEMD / "goalsync.service")
    service = unit["Service"]
    assert one(service, "Type") == "oneshot"
    assert one(service, "User") == "goalsync" and one(service, "Group") == "goalsync"
    assert one(service, "StateDirectory") == "goalsync"  # /var/lib/goalsync
    env = dict(v.split("=", 1) for v in service["Environment"])
    assert env["GOALSYNC_STATE_DIR"] == STATE_DIR and env["GOALSYNC_CONFIG"] == CONFIG
    assert env["GOALSYNC_LOG_FORMAT"] == "json"
    assert env["GOOGLE_APPLICATION_CREDENTIALS"].startswith("%d/")  # the credentials dir
    exec_start = shlex.split(one(service, "ExecStart"))
    assert exec_start[:2] == ["/opt/goalsync/bin/goalsync", "run"]
    assert "--metrics-file" in exec_start
    assert "network-online.target" in one(unit["Unit"], "After")
    minutes = one(service, "TimeoutStartSec")
    budget = float(env["GOALSYNC_RETRY_BUDGET_S"])
    assert minutes.endswith("min") and int(minutes[:-3]) * 60 >= 3 * budget


def test_the_service_is_hardened() -> None:
    service = unit_file(SYSTEMD / "goalsync.service")["Service"]
    expected = {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
        "AmbientCapabilities": "",
    }
    for key, value in expected.items():
        assert one(service, key) == value, key
    assert set(one(service, "RestrictAddressFamilies").split()) == {"AF_INET", "AF_INET6",
                                                                     "AF_UNIX"}  # fmt: skip
    # Secrets come from a root-only file and a credential, never from the unit itself.
    assert one(service, "EnvironmentFile") == "/etc/goalsync/goalsync.env"
    assert one(service, "LoadCredential").startswith("google-service-account.json:")
    text = (SYSTEMD / "goalsync.service").read_text(encoding="utf-8")
    assert "TOKEN=" not in text and "PAT=" not in text


def test_the_timer_starts_it_hourly_and_catches_up_after_downtime() -> None:
    timer = unit_file(SYSTEMD / "goalsync.timer")
    section = timer["Timer"]
    assert one(section, "OnCalendar") == "*-*-* *:17:00"
    assert one(section, "Persistent") == "true"
    assert one(section, "Unit") == "goalsync.service"
    assert one(timer["Install"], "WantedBy") == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_accepts_both_units(tmp_path: Path) -> None:
    for name in ("goalsync.service", "goalsync.timer"):
        shutil.copy(SYSTEMD / name, tmp_path / name)
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "goalsync.service", "goalsync.timer"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    problems = [
        line
        for line in (verify.stdout + verify.stderr).splitlines()
        if line.strip() and "/opt/goalsync/bin/goalsync" not in line  # not installed here
    ]
    assert problems == []
    calendar = subprocess.run(
        ["systemd-analyze", "calendar", "*-*-* *:17:00"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert calendar.returncode == 0 and "Next elapse" in calendar.stdout


def test_the_env_file_example_holds_placeholders_only() -> None:
    text = (SYSTEMD / "goalsync.env.example").read_text(encoding="utf-8")
    values = [line.split("=", 1) for line in text.splitlines() if line and line[0] != "#"]
    assert {k for k, _ in values} == {"JIRA_EMAIL", "JIRA_API_TOKEN", "GITHUB_TOKEN"}
    assert all(v.endswith(".example") or "replace" in v for _, v in values)


def crontab_entries() -> list[str]:
    lines = (DEPLOY / "crontab").read_text(encoding="utf-8").splitlines()
    return [
        ln for ln in lines if ln.strip() and not ln.startswith("#") and "=" not in ln.split()[0]
    ]


def test_the_crontab_line() -> None:
    (entry,) = crontab_entries()
    fields = entry.split(None, 5)
    assert cron_schedule_ok(" ".join(fields[:5]))
    command = fields[5]
    assert "%" not in command  # cron would read it as a newline
    assert command.startswith("set -a && . /etc/goalsync/goalsync.env && set +a && ")
    words = shlex.split(command.split("exec ", 1)[1].split(">>")[0])
    assert words[:2] == ["/opt/goalsync/bin/goalsync", "run"]
    assert words[words.index("--config") + 1] == CONFIG
    assert words[words.index("--state-dir") + 1] == STATE_DIR
    assert "GOALSYNC_LOG_FORMAT=json" in command and "2>&1" in command
    assert "SHELL=/bin/sh" in (DEPLOY / "crontab").read_text(encoding="utf-8")
    check = subprocess.run(["/bin/sh", "-n", "-c", command], capture_output=True, check=False)
    assert check.returncode == 0, check.stderr  # the shell can parse it


def test_the_deploy_readme_documents_every_file() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file() and path.name != "README.md":
            rel = path.relative_to(DEPLOY)
            assert str(rel) in readme or path.name in readme, rel
    for topic in ("read-only", "concurrencyPolicy: Forbid", "activeDeadlineSeconds",
                  "full pull", "Actions cache", "Persistent=true", "--metrics-file",
                  "webhook_env", "no container engine"):  # fmt: skip
        assert topic in readme, topic
    assert (REPO / "deploy" / "Dockerfile").is_file()
