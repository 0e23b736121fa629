"""Server-side administration: invites, revoking bindings, the audit log.

The operator on the server acts as the city office (audit rows say "cli"). Help texts are in
``bot/org/cli.toml``; what is printed comes from ``bot/org/templates``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from bot.cli.common import open_context, say
from bot.context import AppContext
from bot.core import words as data
from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.render import strip_html
from bot.core.uow import Origin
from bot.org import admins, invites
from bot.org.models import Role


def words() -> dict[str, Any]:
    """The help texts of these commands (bot/org/cli.toml)."""
    return data.of("bot.org", "cli.toml")


def _refused(ctx: AppContext, refusal: Refused) -> int:
    print(strip_html(refusal.render(c=ctx.config)), file=sys.stderr)
    return 1


def cmd_invite(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    request = invites.InviteRequest(unit_code=args.unit, role=args.role)
    try:
        invite = ctx.run_sync(lambda uow: invites.issue_invite(uow, request), Origin.cli())
    except Refused as refusal:
        return _refused(ctx, refusal)
    print(invite.code)
    print(say(ctx, "org_cli_invite_issued", invite=invite), file=sys.stderr)
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    request = admins.RevokeRequest(
        telegram_user_id=args.telegram_id, unit_code=args.unit, force=args.force
    )
    try:
        revoked = ctx.run_sync(lambda uow: admins.revoke(uow, request), Origin.cli())
    except Refused as refusal:
        return _refused(ctx, refusal)
    print(say(ctx, "org_cli_revoked", revoked=revoked))
    return 0


def audit_record(row: AuditLog, tz: dt.tzinfo) -> dict[str, Any]:
    """One audit row as ``audit --json`` prints it."""
    return {
        "id": row.id,
        "at": row.at.astimezone(tz).isoformat(),
        "action": row.action,
        "actor": row.actor,
        "actor_admin_id": row.actor_admin_id,
        "actor_telegram_id": row.actor_telegram_id,
        "target": row.target,
        "detail": json.loads(row.detail or "{}"),
        "chat_id": row.chat_id,
    }


def cmd_audit(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    since = None
    if args.since:
        try:
            since = ctx.clock.localize(dt.datetime.fromisoformat(args.since))
        except ValueError:
            print(say(ctx, "org_cli_bad_since", text=repr(args.since)), file=sys.stderr)
            return 2
    rows = ctx.run_sync(
        lambda uow: admins.audit_trail(uow, since=since, limit=args.limit), Origin.cli()
    )
    oldest_first = list(reversed(rows))
    if args.json:
        for row in oldest_first:
            print(json.dumps(audit_record(row, ctx.config.tz), ensure_ascii=False))
    elif oldest_first:
        records = [
            {**audit_record(row, ctx.config.tz), "detail_text": row.detail} for row in oldest_first
        ]
        print(say(ctx, "org_cli_audit", records=records))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    text = words()
    invite = sub.add_parser("invite", help=text["invite"]["help"])
    invite.add_argument("--unit", required=True, help=text["invite"]["unit"])
    invite.add_argument(
        "--role", required=True, choices=[r.value for r in Role], help=text["invite"]["role"]
    )
    invite.set_defaults(func=cmd_invite)

    admin = sub.add_parser("admin", help=text["admin"]["help"])
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    revoke_text = text["admin"]["revoke"]
    revoke = admin_sub.add_parser("revoke", help=revoke_text["help"])
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("--telegram-id", type=int, help=revoke_text["telegram_id"])
    target.add_argument("--unit", help=revoke_text["unit"])
    revoke.add_argument("--force", action="store_true", help=revoke_text["force"])
    revoke.set_defaults(func=cmd_revoke)

    log = sub.add_parser("audit", help=text["audit"]["help"])
    log.add_argument("--json", action="store_true", help=text["audit"]["json"])
    log.add_argument("--since", help=text["audit"]["since"])
    log.add_argument("--limit", type=int, default=1000, help=text["audit"]["limit"])
    log.set_defaults(func=cmd_audit)
