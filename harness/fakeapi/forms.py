"""Request decoding like the Bot API does it: query string, JSON, url-encoded and multipart
bodies into one parameter dict (JSON-looking values decoded, known string fields kept raw)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from harness.fakeapi.records import ApiError, Files, Params, Request, UploadedFile

# Parameters that are always strings, even if they look like JSON ("42", "true", "[x]").
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "query",
        "inline_message_id",
        "file_id",
        "title",
        "description",
        "short_description",
        "name",
        "short_name",
        "language_code",
        "action",
        "emoji",
        "question",
        "explanation",
        "explanation_parse_mode",
        "question_parse_mode",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "secret_token",
        "ip_address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "custom_title",
        "invite_link",
        "sticker_set_name",
        "business_connection_id",
        "game_short_name",
        "message_effect_id",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
        "error_message",
        "shipping_query_id",
        "pre_checkout_query_id",
        "cache_time_text",
        # file inputs passed as file_id / URL / attach:// strings
        "document",
        "photo",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "sticker",
        "thumbnail",
        "cover",
        "certificate",
    }
)

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_HEADER_PARAM = re.compile(r';\s*([\w*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def decode_value(name: str, raw: str) -> Any:
    """A form value as the Bot API reads it: JSON if it looks like JSON, else the string."""
    if name in STRING_FIELDS:
        return raw
    s = raw.strip()
    if not s:
        return raw
    looks_json = s[0] in "{[" or s in ("true", "false") or _NUMBER.fullmatch(s) is not None
    if not looks_json:
        return raw
    try:
        return json.loads(s)
    except ValueError:
        return raw


def decode_params(pairs: list[tuple[str, str]]) -> Params:
    return {name: decode_value(name, raw) for name, raw in pairs}


def header_params(value: str) -> dict[str, str]:
    """The ``; key=value`` parameters of a header (boundary, name, filename, filename*)."""
    out: dict[str, str] = {}
    for key, raw in _HEADER_PARAM.findall(value):
        v = raw.strip()
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        key = key.lower()
        if key.endswith("*"):  # RFC 5987: utf-8''percent-encoded
            _, _, encoded = v.partition("''")
            out[key[:-1]] = unquote(encoded, encoding="utf-8")
        else:
            # httpx escapes a few characters HTML5-style (%22 for ", %0A, %0D).
            out.setdefault(key, v.replace("%22", '"').replace("%0A", "\n").replace("%0D", "\r"))
    return out


def _part_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return headers


def _is_file_part(disposition: dict[str, str], headers: dict[str, str]) -> bool:
    """A part with a filename, or with a content type other than plain text, is a file."""
    content_type = headers.get("content-type", "text/plain").split(";")[0].strip().lower()
    return "filename" in disposition or content_type not in ("text/plain", "")


def parse_multipart(body: bytes, content_type: str) -> tuple[list[tuple[str, str]], Files]:
    """Split a multipart/form-data body into its text fields and its file parts."""
    boundary = header_params(content_type).get("boundary")
    if not boundary:
        raise ApiError("Bad Request: invalid multipart/form-data: no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    fields: list[tuple[str, str]] = []
    files: Files = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        part = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = _part_headers(head)
        disposition = header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if _is_file_part(disposition, headers):
            files[name] = UploadedFile(
                field=name,
                filename=disposition.get("filename"),
                content=data,
                content_type=headers.get("content-type"),
            )
        else:
            fields.append((name, data.decode("utf-8", "replace")))
    return fields, files


def parse_request(req: Request) -> tuple[Params, Files]:
    """All parameters of a request (query string, then body) and its uploaded files."""
    params = decode_params(parse_qsl(req.query, keep_blank_values=True))
    files: Files = {}
    ctype = req.headers.get("Content-Type", "") or ""
    base = ctype.split(";")[0].strip().lower()
    if not req.body:
        return params, files
    if base == "application/json":
        try:
            body = json.loads(req.body.decode("utf-8"))
        except ValueError as exc:
            raise ApiError("Bad Request: can't parse JSON object") from exc
        if isinstance(body, dict):
            params.update(body)
    elif base == "multipart/form-data":
        fields, files = parse_multipart(req.body, ctype)
        params.update(decode_params(fields))
    else:  # application/x-www-form-urlencoded (PTB's default)
        text = req.body.decode("utf-8", "replace")
        params.update(decode_params(parse_qsl(text, keep_blank_values=True)))
    return params, files
