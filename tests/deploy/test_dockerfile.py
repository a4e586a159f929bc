"""deploy/Dockerfile, checked statically (no container engine runs here): a multi-stage build on
a slim base, no build tools in the final image, a non-root user, `ENTRYPOINT ["goalsync"]`, the
state dir as a volume, and nothing written outside it and /tmp (a read-only root filesystem).
The wheel is built from exactly the files the Dockerfile copies, so a COPY that misses a package
fails here rather than in someone's docker build."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

from tests.deploy.helpers import DEPLOY, REPO, STATE_DIR, UID, Stage, dockerfile, exec_form

BUILD_TOOLS = ("gcc", "g++", "make", "build-essential", "python3-dev", "libc6-dev", "git")


def final() -> Stage:
    return dockerfile()[1][-1]


def test_it_is_a_multi_stage_build_on_a_slim_base() -> None:
    args, stages = dockerfile()
    assert len(stages) >= 2
    assert stages[0].name == "build"
    image = args["PYTHON_IMAGE"]
    assert "slim" in image and ":" in image and not image.endswith(":latest")
    python = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == ">=3.11" and "python:3.1" in image
    for stage in stages:
        assert stage.base == "${PYTHON_IMAGE}"  # the venv's python link stays valid


def test_the_final_image_has_no_build_tools_and_takes_only_the_environment() -> None:
    stage = final()
    text = " ".join(i.args for i in stage.instructions)
    for tool in BUILD_TOOLS:
        assert f" {tool}" not in f" {text} ", tool
    assert "apt-get install" not in text and "pip install" not in text
    copies = stage.all("COPY")
    assert copies == ["--from=build /opt/goalsync /opt/goalsync"]


def test_it_runs_as_a_numeric_non_root_user_with_goalsync_as_entrypoint() -> None:
    stage = final()
    (user,) = stage.all("USER")
    uid, _, gid = user.partition(":")
    assert uid == str(UID) and gid == str(UID)  # numeric: runAsNonRoot can check it
    assert stage.instructions[-2].keyword == "ENTRYPOINT"  # USER set before, CMD after
    assert exec_form(stage.all("ENTRYPOINT")[0]) == ["goalsync"]
    assert exec_form(stage.all("CMD")[0]) == ["run"]
    keywords = [i.keyword for i in stage.instructions]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_the_state_dir_is_a_volume_and_everything_else_writable_is_under_tmp() -> None:
    stage = final()
    (volume,) = stage.all("VOLUME")
    assert exec_form(volume) == [STATE_DIR]
    env = stage.env()
    assert env["GOALSYNC_STATE_DIR"] == STATE_DIR
    assert env["GOALSYNC_CONFIG"] == "/etc/goalsync/goalsync.yaml"
    assert env["GOALSYNC_LOG_FORMAT"] == "json"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # no .pyc writes on a read-only root
    for key in ("HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        assert env[key] == "/tmp" or env[key].startswith("/tmp/"), key
    assert env["PATH"].startswith("/opt/goalsync/bin:")
    (workdir,) = stage.all("WORKDIR")
    assert workdir == STATE_DIR
    chown = next(r for r in stage.all("RUN") if "chown" in r)
    assert f"chown {UID}:{UID} {STATE_DIR}" in chown


def test_the_build_stage_byte_compiles_and_drops_pip() -> None:
    build = dockerfile()[1][0]
    (install,) = [r for r in build.all("RUN") if "pip install" in r and "compileall" in r]
    assert "--no-cache-dir" in install
    assert "pip uninstall --yes setuptools wheel pip" in install


def test_the_image_installs_the_locked_tree_and_resolves_nothing_itself() -> None:
    """Issue 12.8: `pip install .` resolved the dependencies at build time, so two builds a week
    apart shipped different libraries. The locked file goes in first, hashes required; goalsync
    goes on top with --no-deps."""
    build = dockerfile()[1][0]
    installs = [r for r in build.all("RUN") if "pip install" in r]
    assert len(installs) == 2, installs
    locked, own = installs
    assert "--require-hashes -r requirements/run.txt" in locked
    assert "--no-deps" in own and "--no-build-isolation" in own
    assert "requirements/run.txt requirements/run.txt" in build.all("COPY")


def test_the_build_context_is_only_what_the_image_installs() -> None:
    build = dockerfile()[1][0]
    copied = [source for c in build.all("COPY") for source in c.split()[:-1]]
    listed = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    packages = sorted({p.split(".")[0] for p in listed})  # subpackages come with their folder
    wanted = ["requirements/run.txt", "pyproject.toml", "README.md"]
    assert sorted(copied) == sorted([*wanted, *(f"{p}/" for p in packages)])
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    for path in (*wanted, *packages):
        assert path in allowed
        assert (REPO / path).exists()


def test_the_package_builds_from_exactly_the_copied_files(tmp_path: Path) -> None:
    """What `pip install .` in the build stage sees: only the COPYed files. Built here as an
    sdist with the same backend (setuptools), which needs no network and no `wheel` package:
    its file list and entry points are what the wheel is made from."""
    context = tmp_path / "context"
    context.mkdir()
    for line in dockerfile()[1][0].all("COPY"):
        parts = line.split()
        for source in parts[:-1]:
            if source.startswith("requirements/"):
                continue  # the lock, installed before the package is built
            src = REPO / source.rstrip("/")
            if src.is_dir():
                shutil.copytree(src, context / src.name, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc"))  # fmt: skip
            else:
                shutil.copy2(src, context / src.name)
    out = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-c",
         "import sys, setuptools.build_meta as b; print(b.build_sdist(sys.argv[1]))", str(out)],
        cwd=context, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    (sdist,) = out.glob("goalsync-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [n.split("/", 1)[1] for n in archive.getnames() if "/" in n]
        member = next(m for m in archive.getmembers() if m.name.endswith("entry_points.txt"))
        handle = archive.extractfile(member)
        assert handle is not None
        assert "goalsync = sync.cli:main" in handle.read().decode()
    for module in (
        "sync/cli.py",
        "sync/doctor.py",
        "connectors/jira/source.py",
        "mappings/status.py",
    ):
        assert module in names
    assert not any(n.startswith(("tests/", "examples/", "bench/", "deploy/")) for n in names)
