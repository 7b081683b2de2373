"""Remote follow from the web: where to send a visitor so their own server shows our actor or post.

Their server's WebFinger names an ``http://ostatus.org/schema/1.0/subscribe`` link whose template
takes the URI (Mastodon answers ``/authorize_interaction?uri={uri}``); when it names none or cannot
be reached, ``https://HOST/authorize_interaction?uri=…`` is the common convention.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from federation.discovery import JRD
from federation.errors import FetchError
from federation.fetch import Fetcher

log = logging.getLogger(__name__)
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"


async def subscribe_url(fetcher: Fetcher, user: str, host: str, uri: str) -> str:
    """The URL on ``host`` at which ``user@host`` can follow or answer ``uri``.

    The WebFinger fetch obeys the fetcher's address rules (no private addresses unless allowed);
    only ``http(s)`` templates are used, so a hostile server cannot send the browser elsewhere.
    """
    resource = quote(f"acct:{user}@{host}", safe=":@")
    schemes = ("https", "http") if fetcher.settings.allow_private_addresses else ("https",)
    for scheme in schemes:
        try:
            doc = await fetcher.fetch_json(
                f"{scheme}://{host}/.well-known/webfinger?resource={resource}",
                accept=f"{JRD}, application/json",
            )
        except FetchError as exc:
            log.info("webfinger of %s@%s for a remote follow failed: %s", user, host, exc)
            continue
        for link in doc.get("links") or []:
            if not isinstance(link, dict) or link.get("rel") != SUBSCRIBE_REL:
                continue
            template = link.get("template")
            if (
                isinstance(template, str)
                and "{uri}" in template
                and template.startswith(("https://", "http://"))
            ):
                return template.replace("{uri}", quote(uri, safe=""))
        break
    return f"https://{host}/authorize_interaction?uri={quote(uri, safe='')}"
