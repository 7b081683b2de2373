"""What a service needs to act: the database, the settings, and the event hub.

Services take a ``Context`` instead of reaching for globals; the app builds one at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.config import Settings
from server.events import EventHub
from server.storage.db import Database


@dataclass(slots=True)
class Context:
    db: Database
    settings: Settings
    events: EventHub = field(default_factory=EventHub)
    organization_id: int | None = None

    @property
    def base(self) -> str:
        return self.settings.url
