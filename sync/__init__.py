"""goalsync's core: records, settings, the state store, the engine and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("goalsync")
except PackageNotFoundError:  # running from a checkout that is not installed
    __version__ = "0.0.0+unknown"
