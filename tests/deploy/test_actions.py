"""deploy/github-actions/goalsync.yml: a scheduled workflow that keeps the state dir in the
Actions cache, saves it only after a run that published, and keeps its secrets out of scripts."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy.helpers import DEPLOY, cron_schedule_ok

WORKFLOW = DEPLOY / "github-actions" / "goalsync.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    found = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(found, dict)
    return found


def job(workflow: dict[str, Any]) -> dict[str, Any]:
    (only,) = workflow["jobs"].values()
    assert isinstance(only, dict)
    return only


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = job(workflow)["steps"]
    return found


def step(workflow: dict[str, Any], uses: str) -> dict[str, Any]:
    return next(s for s in steps(workflow) if s.get("uses", "").startswith(uses))


def test_it_runs_on_a_schedule_and_by_hand(workflow: dict[str, Any]) -> None:
    on = triggers(workflow)
    (schedule,) = on["schedule"]
    assert cron_schedule_ok(schedule["cron"])
    assert "workflow_dispatch" in on
    assert set(on) <= {"schedule", "workflow_dispatch"}  # never on pushes or pull requests


def test_runs_never_overlap_and_have_a_time_limit(workflow: dict[str, Any]) -> None:
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["concurrency"]["group"]
    assert 0 < job(workflow)["timeout-minutes"] <= 60


def test_least_privilege(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    checkout = step(workflow, "actions/checkout@")
    assert checkout["with"]["persist-credentials"] is False
    for s in steps(workflow):
        if "uses" in s:
            assert "@v" in s["uses"], s["uses"]  # pinned to a major version at least


def test_the_state_dir_is_restored_and_saved_in_the_cache(workflow: dict[str, Any]) -> None:
    state = job(workflow)["env"]["GOALSYNC_STATE_DIR"]
    restore = step(workflow, "actions/cache/restore@")
    save = step(workflow, "actions/cache/save@")
    assert restore["with"]["path"] == save["with"]["path"] == state
    assert restore["with"]["restore-keys"] and save["with"]["key"] == restore["with"]["key"]
    assert "github.run_id" in save["with"]["key"]  # a new entry per run: entries are immutable
    names = [s.get("uses", s.get("name")) for s in steps(workflow)]
    run_at = next(i for i, s in enumerate(steps(workflow)) if s.get("id") == "run")
    assert names.index(restore["uses"]) < run_at < names.index(save["uses"])
    # Saved only after a run that committed its state: exit 0 or 3 (published, a source stale).
    condition = save["if"]
    assert "'0'" in condition and "'3'" in condition and "'4'" not in condition


def test_the_job_fails_when_goalsync_did(workflow: dict[str, Any]) -> None:
    run = next(s for s in steps(workflow) if s.get("id") == "run")
    assert "goalsync run" in run["run"] and "exit_code=" in run["run"]
    last = steps(workflow)[-1]
    assert last["if"] == "steps.run.outputs.exit_code != '0'"
    assert 'exit "$CODE"' in last["run"]


def test_secrets_reach_goalsync_through_env_only(workflow: dict[str, Any]) -> None:
    for s in steps(workflow):
        assert "secrets." not in s.get("run", ""), s.get("name")  # never inlined in a script
    run = next(s for s in steps(workflow) if s.get("id") == "run")
    env = run["env"]
    assert env["GITHUB_TOKEN"] == "${{ secrets.GOALSYNC_GITHUB_TOKEN }}"  # not the job's token
    assert env["JIRA_API_TOKEN"] == "${{ secrets.JIRA_API_TOKEN }}"
    google = next(s for s in steps(workflow) if s.get("name") == "Google credentials")
    assert "umask 077" in google["run"] and "GOOGLE_APPLICATION_CREDENTIALS" in google["run"]
