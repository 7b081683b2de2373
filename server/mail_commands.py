"""``koers account invite EMAIL`` and ``koers account reset-password USERNAME``: mail from the
command line, queued like every mail and sent by the workers of the running instance."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from server.config import ensure_data_dir
from server.errors import NotFound


def _account_actions(sub: Any) -> Any:
    """The sub-commands of ``koers account``."""
    account = sub.choices["account"]
    return next(a for a in account._actions if isinstance(a, argparse._SubParsersAction))


async def cmd_invite(args: argparse.Namespace, settings_of: Callable[..., Any]) -> int:
    from server.context import Context
    from server.services import mail_invites
    from server.storage.db import migrated

    settings = ensure_data_dir(settings_of(args))
    async with migrated(settings.database_url) as db:
        link = await mail_invites.invite(Context(db, settings), None, args.email)
    print(f"invitation queued for {args.email.strip().lower()} (link: {link})")
    return 0


async def cmd_reset_password(args: argparse.Namespace, settings_of: Callable[..., Any]) -> int:
    from server.context import Context
    from server.services import mail_accounts
    from server.storage.db import migrated

    settings = ensure_data_dir(settings_of(args))
    async with migrated(settings.database_url) as db:
        ctx = Context(db, settings)
        user_id = await mail_accounts.user_id_of(ctx, args.username)
        if user_id is None:
            raise NotFound(f"no local account called {args.username!r}")
        address = await mail_accounts.queue_reset(ctx, user_id)
    print(f"a password reset link (valid one hour) is queued for {address}")
    return 0


def register(sub: Any, commands: dict, add_common: Callable, settings_of: Callable) -> None:
    """Add the mail commands under ``koers account``."""
    actions = _account_actions(sub)
    p = actions.add_parser("invite", help="invite someone by e-mail (a single-use sign-up link)")
    p.add_argument("email")
    add_common(p)
    commands["account invite"] = lambda args: cmd_invite(args, settings_of)
    p = actions.add_parser("reset-password", help="mail a member a link to choose a new password")
    p.add_argument("username")
    add_common(p)
    commands["account reset-password"] = lambda args: cmd_reset_password(args, settings_of)
