"""The parts the ``koers`` command modules share (``server.cli`` loads each, its ``register``
adds its commands): a command group's action parser.

A module's database comes from ``server.storage.db.migrated`` (reachable, migrated, closed after).
"""

from __future__ import annotations

import argparse
from typing import Any


def action_parser(
    subparsers: Any, group: str, group_help: str, action: str, *, help_text: str, description: str
) -> argparse.ArgumentParser:
    """The parser of ``koers GROUP ACTION`` (the group's parser made here, with its actions)."""
    parser = subparsers.add_parser(group, help=group_help)
    actions = parser.add_subparsers(dest=f"{group}_command", metavar="ACTION")
    return actions.add_parser(action, help=help_text, description=description)
