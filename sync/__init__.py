"""goalsync's core: records, settings, the state store, the engine and the CLI."""

import sys
from importlib.metadata import PackageNotFoundError, version


def _import_structlog() -> None:
    """Import structlog without rich's traceback and pretty-printer.

    structlog imports both at once (with pygments and attrs: about 30 modules, 40 ms of an
    unchanged run's start-up) for its console renderer's exception formatter, and its package
    imports its console module whatever the renderer. goalsync never uses that formatter: every
    event's exception is rendered as its type and message (sync.log) before a renderer sees it.
    Told that they are missing, structlog falls back to plain tracebacks and imports neither;
    once it is in, they are importable again."""
    if "structlog" in sys.modules:
        return
    blocked = [name for name in ("rich.traceback", "rich.pretty") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # None: "not installed"
    try:
        import structlog  # noqa: F401
    finally:
        for name in blocked:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]


_import_structlog()

try:
    __version__ = version("goalsync")
except PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0.0.0+unknown"
