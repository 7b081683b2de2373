"""A small Chrome DevTools Protocol driver for headless Debian Chromium (no browser download).

Just enough to drive server-rendered pages like a person: open a page, fill a form, press its
button, wait for the next page, read the text, take a screenshot. It speaks CDP over the page's
WebSocket with ``websocket-client``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--remote-allow-origins=*",
    "--window-size=1280,1000",
)


def find_chromium() -> str | None:
    """``$KOERS_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else ``chromium`` on PATH."""
    for candidate in (
        os.environ.get("KOERS_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class Browser:
    """One headless Chromium process with one page, driven over CDP."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="koers-chromium-")
        self.proc = subprocess.Popen(
            [
                executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        port = self._devtools_port()
        page = self._page_target(port)
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
        )
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Network.enable")

    def _devtools_port(self) -> int:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with status {self.proc.returncode}")
            if "DevTools listening on ws://" in line:
                return int(line.split("ws://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        raise RuntimeError("chromium did not open its DevTools port in 30 s")

    @staticmethod
    def _page_target(port: int) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
                pages = [t for t in json.load(resp) if t.get("type") == "page"]
            if pages or time.monotonic() > deadline:
                return pages[0]
            time.sleep(0.1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a CDP method and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        call_id = self._next_id
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, message in enumerate(self._events):
                if message["method"] == event:
                    del self._events[: i + 1]
                    return message.get("params", {})
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout} s")
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            message = json.loads(self.ws.recv())
            if "method" in message:
                self._events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(
                f"script failed: {result['exceptionDetails'].get('text')}: {expression[:200]}"
            )
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        self._events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def submit(self, form_action: str, values: dict[str, str | bool]) -> None:
        """Fill the form posting to ``form_action`` by its labelled fields and press its submit button."""
        script = f"""
        ((ACTION, VALUES) => {{
          const form = [...document.forms].find(f => f.getAttribute("action") === ACTION);
          if (!form) throw new Error("no form for " + ACTION);
          for (const [name, value] of Object.entries(VALUES)) {{
            const el = form.elements.namedItem(name);
            if (!el) throw new Error("no field " + name);
            if (el.type === "checkbox") el.checked = Boolean(value); else el.value = value;
          }}
          form.querySelector('button[type="submit"], button:not([type])').click();
          return true;
        }})({json.dumps(form_action)}, {json.dumps(values)})
        """
        self._events.clear()
        self.evaluate(script)
        self.wait_for("Page.loadEventFired")

    @property
    def url(self) -> str:
        return str(self.evaluate("location.href"))

    def text(self) -> str:
        return str(self.evaluate("document.body.innerText"))

    def status_of(self, url: str) -> int:
        """The HTTP status of a GET of ``url`` with this browser's cookies."""
        return int(
            self.evaluate(
                f"fetch({json.dumps(url)}, {{credentials: 'same-origin'}}).then(r => r.status)"
            )
        )

    def clear_cookies(self) -> None:
        self.send("Network.clearBrowserCookies")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
