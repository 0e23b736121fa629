"""The Bot API methods about chats, members, the command menu and files."""

from __future__ import annotations

import copy
import re
from typing import Any

from harness.fakeapi.records import ApiError, Files, Params
from harness.fakeapi.world import NAMES, Json, World, int_param, scope_key

MAX_COMMANDS = 100
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_ADMINISTRATOR_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}
_RESTRICTED_RIGHTS = (
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_send_messages",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_manage_topics",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_edit_tag",
)
_NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}


def send_chat_action(world: World, params: Params, files: Files) -> Any:
    world.chat_id_of(params)
    return True


# ---------------------------------------------------------------- the command menu


def _check_command(cmd: Any) -> None:
    if not isinstance(cmd, dict) or not _COMMAND_NAME.fullmatch(str(cmd.get("command", ""))):
        raise ApiError("Bad Request: BOT_COMMAND_INVALID")
    if not 1 <= len(str(cmd.get("description", "")).strip()) <= 256:
        raise ApiError("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")


def set_my_commands(world: World, params: Params, files: Files) -> Any:
    commands = params.get("commands")
    if not isinstance(commands, list):
        raise ApiError("Bad Request: can't parse commands JSON object")
    if len(commands) > MAX_COMMANDS:
        raise ApiError("Bad Request: too many commands specified")
    for cmd in commands:
        _check_command(cmd)
    key = scope_key(params.get("scope"), params.get("language_code"))
    world.commands[key] = copy.deepcopy(commands)
    return True


def delete_my_commands(world: World, params: Params, files: Files) -> Any:
    world.commands.pop(scope_key(params.get("scope"), params.get("language_code")), None)
    return True


def get_my_commands(world: World, params: Params, files: Files) -> Any:
    key = scope_key(params.get("scope"), params.get("language_code"))
    return copy.deepcopy(world.commands.get(key, []))


# ---------------------------------------------------------------- members


def _member_user(world: World, user_id: int) -> Json:
    if user_id == world.bot_id:
        return world.bot_user
    known = world.users.get(user_id)
    if known is not None:
        return copy.deepcopy(known)
    name = NAMES["member_first_name"].format(user_id=user_id)
    return {"id": user_id, "is_bot": False, "first_name": name}


def member_json(world: World, chat_id: int, user_id: int) -> Json:
    """The ChatMember object: as set by set_chat_member, else the bot administers groups and
    everyone else is a plain member."""
    configured = world.members.get((chat_id, user_id))
    if configured is not None:
        status = configured["status"]
        overrides = {k: v for k, v in configured.items() if k != "status"}
    else:
        status = "administrator" if user_id == world.bot_id and chat_id < 0 else "member"
        overrides = {}
    member: Json = {"status": status, "user": _member_user(world, user_id)}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(_ADMINISTRATOR_RIGHTS)
    elif status == "restricted":
        member.update({"is_member": True, "until_date": 0})
        member.update(dict.fromkeys(_RESTRICTED_RIGHTS, False))
    elif status == "kicked":
        member["until_date"] = 0
    member.update(overrides)
    return member


def get_chat_member(world: World, params: Params, files: Files) -> Any:
    chat_id = world.chat_id_of(params)
    return member_json(world, chat_id, int_param(params, "user_id"))


def get_chat_administrators(world: World, params: Params, files: Files) -> Any:
    chat_id = world.chat_id_of(params)
    ids = [
        uid
        for (cid, uid), m in world.members.items()
        if cid == chat_id and m["status"] in ("creator", "administrator")
    ]
    bot_configured = (chat_id, world.bot_id) in world.members
    if chat_id < 0 and world.bot_id not in ids and not bot_configured:
        ids.append(world.bot_id)
    return [member_json(world, chat_id, uid) for uid in ids]


# ---------------------------------------------------------------- chats and files


def get_chat(world: World, params: Params, files: Files) -> Any:
    chat = copy.deepcopy(world.chat(world.chat_id_of(params)))
    chat.update(
        {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict(_NO_GIFTS),
        }
    )
    return chat


def get_file(world: World, params: Params, files: Files) -> Any:
    stored = world.files.get(str(params.get("file_id") or ""))
    if stored is None:
        raise ApiError("Bad Request: invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "file_path": stored.file_path,
    }
