"""Headless Chromium driven over its DevTools pipe, with nothing but the standard library.

Why the pipe and not `--window-size` with `--dump-dom`: headless Chromium will not make a window
narrower than 500 px, so a phone's 390 px has to be emulated (Emulation.setDeviceMetricsOverride),
and print media and the dark colour scheme likewise; `--remote-debugging-pipe` takes DevTools
commands on fd 3 and answers on fd 4 (JSON, each message ended by a NUL), so no selenium, driver
binary or websocket library is needed. The browser is started offline (no background networking,
no component updates, a throw-away profile) and only ever opens file:// pages.

Also a small command line, to take the README's screenshots (after `make demo`):
    .venv/bin/python -m tests.browser.cdp out/status.html examples/demo/status.png 1280 1500
    .venv/bin/python -m tests.browser.cdp out/status.html examples/demo/status-phone.png 390 1100
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

INSTALL_HINT = "apt-get install -y chromium poppler-utils"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 60.0


class BrowserMissing(RuntimeError):
    pass


def find_chromium() -> str:
    override = os.environ.get("GOALSYNC_CHROMIUM")
    if override:
        if not os.access(override, os.X_OK):
            raise BrowserMissing(f"GOALSYNC_CHROMIUM={override} is not an executable file")
        return override
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserMissing(
        f"the browser tests need headless Chromium and poppler's pdftotext: `{INSTALL_HINT}` "
        "(Debian/Ubuntu), or set GOALSYNC_CHROMIUM to a Chromium binary"
    )


class Browser:
    """One Chromium process and one page (tab) attached to it."""

    def __init__(self, proc: subprocess.Popen[bytes], to_browser: int, from_browser: int) -> None:
        self._proc = proc
        self._out = os.fdopen(to_browser, "wb", buffering=0)
        self._in = os.fdopen(from_browser, "rb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.send("Page.enable")
        self.send("Runtime.enable")

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A command to the page."""
        return self.call(method, self._session, **params)

    def wait_for(self, event: str) -> None:
        while self._read().get("method") != event:
            pass

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], TIMEOUT_S)
            if not ready:  # a hung browser fails the test instead of hanging the suite
                raise RuntimeError(f"chromium did not answer within {TIMEOUT_S:.0f} s")
            chunk = self._in.read(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def open(
        self,
        url: str,
        *,
        width: int,
        height: int = 900,
        media: str = "screen",
        dark: bool = False,
        scale: float = 1,
    ) -> None:
        """Load `url` as a reader with a viewport `width` CSS pixels wide would see it."""
        if not url.startswith("file://"):
            raise ValueError("the browser tests open local files only")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=scale,
            mobile=width < 600,
        )
        self.send(
            "Emulation.setEmulatedMedia",
            media=media,
            features=[{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}],
        )
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def pdf(self, *, paper_width_in: float, paper_height_in: float) -> bytes:
        reply = self.send(
            "Page.printToPDF",
            paperWidth=paper_width_in,
            paperHeight=paper_height_in,
            printBackground=True,
            preferCSSPageSize=False,
            displayHeaderFooter=False,
        )
        return base64.b64decode(reply["data"])

    def screenshot(self, *, full_page: bool = True) -> bytes:
        reply = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=full_page)
        return base64.b64decode(reply["data"])

    def close(self) -> None:
        with suppress(RuntimeError, OSError):  # it may be gone already
            self.call("Browser.close")
        self._out.close()
        self._in.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@contextmanager
def chromium() -> Iterator[Browser]:
    binary = find_chromium()
    with tempfile.TemporaryDirectory(prefix="goalsync-chromium-") as profile:
        # fd 3 is what chromium reads commands from, fd 4 where it writes replies
        cmd_r, cmd_w = os.pipe()
        reply_r, reply_w = os.pipe()
        args = [
            binary,
            "--headless",
            "--no-sandbox",  # CI runs as root in a container, where the sandbox cannot start
            "--disable-gpu",
            "--disable-dev-shm-usage",  # a container's /dev/shm is often too small for it
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--mute-audio",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]

        def wire() -> None:  # in the child: the pipe ends where chromium expects them
            # moved above 4 first, so that placing one cannot overwrite the other
            high_r = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(reply_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)  # inheritable: kept across exec, unlike every other fd
            os.dup2(high_w, 4)

        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # fds 3 and 4 must survive; Python's own fds close on exec
            preexec_fn=wire,
        )
        os.close(cmd_r)
        os.close(reply_w)
        browser = Browser(proc, cmd_w, reply_r)
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Path, png: Path, width: int, height: int) -> None:
    """The top `height` CSS pixels of `page` at `width`, as a reader's screen shows them: a
    phone's at twice the pixels (its device pixel ratio), a laptop's at one."""
    with chromium() as browser:
        scale = 2 if width < 600 else 1
        browser.open(page.resolve().as_uri(), width=width, height=height, scale=scale)
        png.write_bytes(browser.screenshot(full_page=False))


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
