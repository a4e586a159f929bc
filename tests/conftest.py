"""Test layers (markers registered in pyproject.toml, `--strict-markers` is on).

`make unit` runs `-m "not integration and not slow"`: the fast layer, for every edit. `make test`
(what CI runs) runs everything. Every test under tests/e2e/, tests/reliability/ and
tests/browser/ is marked `integration` here, by its directory, so that a new test there cannot
slip into the fast layer; elsewhere a module or test that runs goalsync as its own process says
so itself (`pytestmark = pytest.mark.integration`; tests/test_markers.py checks it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
# Directories whose tests run goalsync as a process (or the whole system) against loopback fakes,
# or the status page in a real browser.
INTEGRATION_DIRS = (_HERE / "e2e", _HERE / "reliability", _HERE / "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.path.is_relative_to(d) for d in INTEGRATION_DIRS):
            item.add_marker(pytest.mark.integration)
