"""Issue 12.8: the dependency tree is locked with hashes, and every install takes the lock.

Before, `make test` and the image ran `pip install .` / `pip install -e '.[test]'`: whatever the
registry served that day. Now `requirements/run.txt` (the image, `make demo`) and
`requirements/test.txt` (`make test`, CI) pin every package of the tree to one version with its
sha256, `make lock` is the one command that refreshes them, and `jira` / `PyGithub`, whose private
attributes the connectors touch, have upper bounds in pyproject.toml.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
LOCKS = {"run": REPO / "requirements" / "run.txt", "test": REPO / "requirements" / "test.txt"}


def locked(path: Path) -> dict[str, list[tuple[str, Marker | None, int]]]:
    """name -> [(version, marker, hash count)]: a universal lock may pin one package twice,
    each under its own environment marker (numpy for different Pythons)."""
    out: dict[str, list[tuple[str, Marker | None, int]]] = {}
    entry: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith(" ") and entry:
            entry.append(line)
            continue
        if entry:
            text = " ".join(entry)
            spec, _, _ = text.partition(" --hash")
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+?)(?: ; (.+?))?\s*\\?", spec.strip())
            assert match, f"{path.name}: not a pinned line: {spec!r}"
            name, version, marker = match.groups()
            out.setdefault(canonicalize_name(name), []).append(
                (version, Marker(marker) if marker else None, text.count("--hash=sha256:"))
            )
            entry = []
        if line and not line.startswith(("#", " ")):
            entry = [line]
    return out


def wanted(extras: tuple[str, ...]) -> list[Requirement]:
    names = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]]
    for extra in extras:
        names += PYPROJECT["project"]["optional-dependencies"][extra]
    return [Requirement(n) for n in names]


def applies(marker: Marker | None) -> bool:
    return marker is None or marker.evaluate()


@pytest.mark.parametrize(("lock", "extras"), [("run", ()), ("test", ("test",))])
def test_every_requirement_is_pinned_with_hashes_inside_pyprojects_range(
    lock: str, extras: tuple[str, ...]
) -> None:
    pins = locked(LOCKS[lock])
    assert len(pins) > 20  # the whole tree, not only the direct dependencies
    for name, entries in pins.items():
        for version, _, hashes in entries:
            assert hashes >= 1, f"{LOCKS[lock].name}: {name}=={version} has no sha256"
    for req in wanted(extras):
        name = canonicalize_name(req.name)
        assert name in pins, f"{LOCKS[lock].name} lacks {req} (run `make lock`)"
        for version, marker, _ in pins[name]:
            if applies(marker):
                assert req.specifier.contains(version, prereleases=True), (
                    f"{LOCKS[lock].name} pins {name}=={version}, outside pyproject's {req}"
                )


def test_the_runtime_lock_is_the_test_locks_runtime_part() -> None:
    """The image and CI run the same library versions: every package of the runtime lock is in
    the test lock at the same version."""
    run, test = locked(LOCKS["run"]), locked(LOCKS["test"])
    for name, entries in run.items():
        assert name in test, name
        assert {v for v, _, _ in entries} == {v for v, _, _ in test[name]}, name


def test_this_environment_is_exactly_the_test_lock() -> None:
    """What `make test` installed is what the lock says, package by package (this is what CI
    runs on): a Makefile that resolved on its own would drift here."""
    drift = []
    for name, entries in locked(LOCKS["test"]).items():
        mine = [v for v, marker, _ in entries if applies(marker)]
        if not mine:
            continue  # another platform's package (colorama on Windows)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift.append(f"{name}: locked {mine[0]}, not installed")
            continue
        if installed != mine[0]:
            drift.append(f"{name}: locked {mine[0]}, installed {installed}")
    assert drift == []


def test_libraries_whose_private_attributes_we_touch_have_upper_bounds() -> None:
    """connectors/jira/client.py reaches into `JIRA._session` and `JIRA._options`, and
    connectors/github/client.py drives `github.Requester` directly: a minor release may rename
    them, so each is bounded below its next minor version."""
    reqs = {str(canonicalize_name(r.name)): r for r in wanted(())}
    for name in ("jira", "pygithub"):
        uppers = [s for s in reqs[name].specifier if s.operator in ("<", "<=")]
        assert uppers, f"{name} has no upper bound in pyproject.toml"

    def text(*parts: str) -> str:
        return "".join(p.read_text(encoding="utf-8") for p in sorted(REPO.glob("/".join(parts))))

    jira = text("connectors", "jira", "*.py")
    pygithub = text("connectors", "github", "*.py") + text("sync", "base", "transport.py")
    assert "._session" in jira and "._options" in jira
    assert "from github.Requester import Requester" in pygithub
    assert "_Requester__connectionClass" in pygithub


def test_every_install_takes_the_lock_and_one_command_refreshes_it() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    installs = [line.strip() for line in makefile.splitlines() if "pip install" in line]
    for line in installs:
        if "uv==" in line:  # `make lock`'s own tool, in its own venv
            continue
        assert "--require-hashes -r $(" in line or "--no-deps --no-build-isolation -e ." in line, (
            line
        )
    assert "lock:" in makefile
    lock_recipe = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert lock_recipe.count("uv pip compile") == 2
    assert "--generate-hashes" in makefile and "--universal" in makefile
    for path in LOCKS.values():
        assert "make lock" in path.read_text(encoding="utf-8").splitlines()[1]
