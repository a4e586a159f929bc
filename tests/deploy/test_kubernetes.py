"""deploy/kubernetes: the CronJob's schedule and safety settings, parsed from the YAML, so that a
change that weakens them fails CI; and the pieces agree with each other and with the image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sync.config import load_config
from tests.deploy.helpers import DEPLOY, STATE_DIR, UID, cron_schedule_ok, dockerfile, exec_form

K8S = DEPLOY / "kubernetes"
SECRET_WORDS = ("TOKEN", "PAT", "PASSWORD", "SECRET", "KEY", "WEBHOOK", "EMAIL")


def load(name: str) -> dict[str, Any]:
    (doc,) = list(yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")))
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def cronjob() -> dict[str, Any]:
    doc = load("cronjob.yaml")
    assert (doc["apiVersion"], doc["kind"]) == ("batch/v1", "CronJob")
    return doc


def pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def container(cronjob: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod(cronjob)["containers"]
    assert isinstance(only, dict)
    return only


def env(cronjob: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(cronjob)["env"]}


def test_the_schedule_and_its_limits(cronjob: dict[str, Any]) -> None:
    spec = cronjob["spec"]
    assert cron_schedule_ok(spec["schedule"])
    assert spec["concurrencyPolicy"] == "Forbid"
    assert 0 < spec["startingDeadlineSeconds"] <= 3600
    job = spec["jobTemplate"]["spec"]
    assert 0 <= job["backoffLimit"] <= 2
    budget = float(env(cronjob)["GOALSYNC_RETRY_BUDGET_S"]["value"])
    # A run may wait out the budget pulling and again publishing: the deadline is well above.
    assert job["activeDeadlineSeconds"] >= 3 * budget
    assert pod(cronjob)["restartPolicy"] == "Never"


def test_config_errors_and_stale_runs_are_not_retried(cronjob: dict[str, Any]) -> None:
    (rule,) = cronjob["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob"
    assert rule["onExitCodes"]["operator"] == "In"
    assert sorted(rule["onExitCodes"]["values"]) == [2, 3]
    assert rule["onExitCodes"]["containerName"] == container(cronjob)["name"]


def test_the_pod_security_context(cronjob: dict[str, Any]) -> None:
    spec = pod(cronjob)
    security = spec["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == UID and security["runAsGroup"] == UID
    assert security["fsGroup"] == UID  # the state volume is writable by the user
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")


def test_the_container_security_context(cronjob: dict[str, Any]) -> None:
    c = container(cronjob)
    security = c["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["runAsNonRoot"] is True
    assert security.get("privileged", False) is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert not security["capabilities"].get("add")
    assert security["seccompProfile"]["type"] == "RuntimeDefault"
    assert "memory" in c["resources"]["limits"]
    image = c["image"]
    assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
    assert c["args"] == ["run"]


def test_secrets_come_from_the_secret_and_config_from_the_configmap(
    cronjob: dict[str, Any],
) -> None:
    variables = env(cronjob)
    for name, entry in variables.items():
        if any(word in name for word in SECRET_WORDS) and name != "GOOGLE_APPLICATION_CREDENTIALS":
            ref = entry["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "goalsync" and ref["key"] == name, name
            assert "value" not in entry
    for needed in ("JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "GITHUB_TOKEN"):
        assert needed in variables
    assert variables["GOALSYNC_LOG_FORMAT"]["value"] == "json"
    volumes = {v["name"]: v for v in pod(cronjob)["volumes"]}
    mounts = {m["name"]: m for m in container(cronjob)["volumeMounts"]}
    assert volumes["config"]["configMap"]["name"] == load("configmap.yaml")["metadata"]["name"]
    assert mounts["config"]["readOnly"] is True
    config_path = variables["GOALSYNC_CONFIG"]["value"]
    assert Path(config_path).parent == Path(mounts["config"]["mountPath"])
    key = variables["GOOGLE_APPLICATION_CREDENTIALS"]["value"]
    google = volumes["google"]["secret"]
    assert google["secretName"] == "goalsync" and mounts["google"]["readOnly"] is True
    assert key == f"{mounts['google']['mountPath']}/{google['items'][0]['path']}"
    assert google["defaultMode"] & 0o007 == 0  # not readable by others


def test_the_state_is_on_the_claim_and_tmp_is_the_only_other_writable_place(
    cronjob: dict[str, Any],
) -> None:
    volumes = {v["name"]: v for v in pod(cronjob)["volumes"]}
    mounts = {m["name"]: m for m in container(cronjob)["volumeMounts"]}
    claim = load("pvc.yaml")
    assert claim["kind"] == "PersistentVolumeClaim"
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert mounts["state"]["mountPath"] == STATE_DIR == env(cronjob)["GOALSYNC_STATE_DIR"]["value"]
    assert "emptyDir" in volumes["tmp"] and mounts["tmp"]["mountPath"] == "/tmp"
    writable = {m["mountPath"] for m in mounts.values() if not m.get("readOnly")}
    assert writable == {STATE_DIR, "/tmp"}
    assert "full pull" in (K8S / "pvc.yaml").read_text(encoding="utf-8")  # the note


def test_the_image_and_the_manifests_agree(cronjob: dict[str, Any]) -> None:
    stage = dockerfile()[1][-1]
    assert exec_form(stage.all("VOLUME")[0]) == [STATE_DIR]
    assert stage.all("USER") == [f"{UID}:{UID}"]
    assert stage.env()["GOALSYNC_CONFIG"] == env(cronjob)["GOALSYNC_CONFIG"]["value"]


def test_the_configmaps_config_validates_and_writes_no_relative_file(tmp_path: Path) -> None:
    text = load("configmap.yaml")["data"]["goalsync.yaml"]
    path = tmp_path / "goalsync.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    for sink in config.model.sinks:
        target = getattr(sink, "path", None)
        # /etc/goalsync is read-only in the pod: a file sink must write under the state dir.
        assert target is None or target.startswith(f"{STATE_DIR}/"), target


def test_kustomization_lists_the_manifests_but_never_the_example_secret() -> None:
    kustomization = load("kustomization.yaml")
    resources = kustomization["resources"]
    assert sorted(resources) == ["configmap.yaml", "cronjob.yaml", "pvc.yaml"]
    for name in resources:
        assert (K8S / name).is_file()
    secret = load("secret.example.yaml")
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "goalsync"
    for value in secret["stringData"].values():
        assert "replace" in value or value.endswith(".example")  # placeholders only
