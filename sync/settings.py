"""Process settings from the environment (`GOALSYNC_` prefix) and command-line flags.

The config file says what to sync; these say where this process keeps its state and how it
logs. Secrets are read here and in connector builders only, always as SecretStr, with
surrounding whitespace stripped (a token pasted with a newline otherwise fails as a 401).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sync.base import http_limits, secrets

LogFormat = Literal["auto", "console", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GOALSYNC_", extra="ignore", hide_input_in_errors=True, frozen=True
    )

    config: Path = Path("goalsync.yaml")
    state_dir: Path = Path(".goalsync")
    log_format: LogFormat = "auto"
    log_level: LogLevel = "info"
    retry_budget_s: float = Field(default=300.0, gt=0)
    # Every request's whole response (headers and body) by this many seconds, and at most
    # this many MB: past either, that source is stale (sync/base/http_limits.py says why these).
    request_deadline_s: float = Field(
        default=http_limits.DEFAULT_DEADLINE_S, gt=0, allow_inf_nan=False
    )
    max_response_mb: float = Field(
        default=http_limits.DEFAULT_MAX_BYTES / http_limits.MB, gt=0, allow_inf_nan=False
    )

    def limits(self) -> http_limits.Limits:
        return http_limits.Limits(
            deadline_s=self.request_deadline_s,
            max_bytes=max(1, int(self.max_response_mb * http_limits.MB)),
        )


# Secrets are read through sync.base.secrets (the bottom of the project), so that connector builders
# can read theirs too and every one read is masked in the logs.
read_secret = secrets.read_secret
