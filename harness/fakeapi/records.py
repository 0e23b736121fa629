"""What the fake server records and the values its parts hand each other."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

Params = dict[str, Any]
# One HTTP answer: status, content type, body. None stands for "drop the connection".
Answer = tuple[int, str, bytes]


@dataclass
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content: bytes
    content_type: str | None = None


Files = dict[str, UploadedFile]


@dataclass
class ApiCall:
    """One request the fake server received.

    ``params`` holds the decoded parameters (JSON fields decoded, string fields raw), ``files``
    the uploaded file parts by field name.  ``failed`` is True when the call did not get a
    successful answer (injected fault, API error, bad token); ``fault`` names the injected
    fault kind ("error", "drop", "malformed", "delay") if any; ``response`` is the JSON body
    sent back (None for dropped/malformed answers).
    """

    method: str
    params: Params
    files: Files
    at: float
    failed: bool = False
    fault: str | None = None
    status: int = 200
    response: dict[str, Any] | None = None
    http_method: str = "POST"

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer (e.g. the Message dict), else None."""
        if self.response and self.response.get("ok"):
            return self.response.get("result")
        return None

    @property
    def ok(self) -> bool:
        return not self.failed

    def fail(self, status: int, body: dict[str, Any] | None) -> None:
        """Mark the call as answered with an error (``body`` None: no JSON answer at all)."""
        self.failed, self.status, self.response = True, status, body


class ApiError(Exception):
    """Raised by method implementations; turned into an error answer."""

    def __init__(
        self,
        description: str,
        status: int = 400,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.description, self.parameters)


def error_body(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body of a Bot API error answer."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


@dataclass
class StoredFile:
    """A file the fake holds: uploaded by the bot, or sent by a simulated user."""

    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    filename: str | None = None
    mime_type: str | None = None


@dataclass
class Request:
    """One HTTP request as the server thread read it."""

    http_method: str
    path: str
    headers: Message
    body: bytes
    query: str
    arrived: float = field(default_factory=time.time)
