"""Server-side administration: invites, revoking bindings, the audit log."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.core import audit
from bot.core.errors import Refused
from bot.org import admins


def _ctx(args: argparse.Namespace):
    from bot.cli.common import open_context

    return open_context(args)


def cmd_invite(args: argparse.Namespace) -> int:
    ctx = _ctx(args)
    try:
        with ctx.db.session() as session:
            invite = admins.issue_invite(
                session, ctx.config, unit_code=args.unit, role=args.role, now=ctx.now()
            )
    except Refused as refusal:
        print(refusal.render(c=ctx.config), file=sys.stderr)
        return 1
    expires = invite.expires_at.astimezone(ctx.config.tz).strftime("%Y-%m-%d %H:%M")
    print(invite.code)
    print(
        f"单位：{invite.unit_name}；角色：{invite.role.value}；一次有效，{expires} 前使用。"
        f"请让管理员私聊机器人发送 /bind {invite.code}",
        file=sys.stderr,
    )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    ctx = _ctx(args)
    try:
        with ctx.db.session() as session:
            ended = admins.revoke(
                session, now=ctx.now(), telegram_user_id=args.telegram_id, unit_code=args.unit
            )
    except Refused as refusal:
        print(refusal.render(c=ctx.config), file=sys.stderr)
        return 1
    print(f"已解除 {len(ended)} 个绑定 / revoked {len(ended)} binding(s)")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    ctx = _ctx(args)
    since = None
    if args.since:
        try:
            since = ctx.clock.localize(dt.datetime.fromisoformat(args.since))
        except ValueError:
            print(f"--since 格式不对 / bad --since: {args.since!r}", file=sys.stderr)
            return 2
    with ctx.db.session() as session:
        rows = audit.recent(session, since=since, limit=args.limit)
    for row in reversed(rows):
        record = {
            "id": row.id,
            "at": row.at.astimezone(ctx.config.tz).isoformat(),
            "action": row.action,
            "actor": row.actor,
            "actor_admin_id": row.actor_admin_id,
            "actor_telegram_id": row.actor_telegram_id,
            "target": row.target,
            "detail": json.loads(row.detail or "{}"),
            "chat_id": row.chat_id,
        }
        if args.json:
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{record['at']} {row.action} {row.actor} → {row.target} {row.detail}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    invite = sub.add_parser("invite", help="为单位管理员生成一次性邀请码")
    invite.add_argument("--unit", required=True, help="单位编码")
    invite.add_argument("--role", required=True, choices=["city", "county", "unit"])
    invite.set_defaults(func=cmd_invite)

    admin = sub.add_parser("admin", help="管理员绑定")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    revoke = admin_sub.add_parser("revoke", help="解除绑定")
    target = revoke.add_mutually_exclusive_group(required=True)
    target.add_argument("--telegram-id", type=int)
    target.add_argument("--unit", help="单位编码：解除该单位所有管理员账号的绑定")
    revoke.set_defaults(func=cmd_revoke)

    log = sub.add_parser("audit", help="查看操作记录")
    log.add_argument("--json", action="store_true")
    log.add_argument("--since", help="ISO 8601，例如 2022-09-14T00:00")
    log.add_argument("--limit", type=int, default=1000)
    log.set_defaults(func=cmd_audit)
