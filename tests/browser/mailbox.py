"""Reading the mail a ``koers serve`` without ``KOERS_SMTP_URL`` writes as ``.eml`` files."""

from __future__ import annotations

import email
import re
import time
from pathlib import Path


def mailed_link(data_dir: Path, to: str, path: str, *, timeout: float = 20) -> str:
    """The first link containing ``path`` in the newest mail to ``to`` under ``data_dir/mail``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for file in sorted((data_dir / "mail").glob("*.eml"), reverse=True):
            message = email.message_from_bytes(file.read_bytes())
            if message["To"] != to:
                continue
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    body = part.get_payload(decode=True)
                    assert isinstance(body, bytes)
                    found = re.search(r"https?://\S*" + re.escape(path) + r"\S+", body.decode())
                    if found:
                        return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} with a {path} link in {data_dir / 'mail'}")
