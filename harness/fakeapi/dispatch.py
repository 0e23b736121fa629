"""Answering one request: file downloads, the token check, injected faults, then the method
implementation; every Bot API request is recorded as an ApiCall."""

from __future__ import annotations

import json
from typing import Any

from harness.fakeapi.faults import MALFORMED_BODY, Fault, FaultQueue
from harness.fakeapi.forms import parse_request
from harness.fakeapi.methods import find_method
from harness.fakeapi.records import Answer, ApiCall, ApiError, Request, error_body
from harness.fakeapi.world import World

_API_PREFIX = "/bot"
_FILE_PREFIX = "/file/bot"


def json_answer(status: int, body: dict[str, Any]) -> Answer:
    return status, "application/json", json.dumps(body, ensure_ascii=False).encode("utf-8")


class Dispatcher:
    """The ``answer`` callable of the HTTP server: one World, its fault queue."""

    def __init__(self, world: World, faults: FaultQueue) -> None:
        self.world = world
        self.faults = faults

    def __call__(self, req: Request) -> Answer | None:
        if req.path.startswith(_FILE_PREFIX):
            return self._download(req)
        if not req.path.startswith(_API_PREFIX):
            return json_answer(404, error_body(404, "Not Found"))
        token, _, method = req.path[len(_API_PREFIX) :].partition("/")
        method = method.strip("/")
        try:
            params, files = parse_request(req)
        except ApiError as exc:
            call = ApiCall(method, {}, {}, req.arrived)
            return self._error(call, exc.status, error_body(exc.status, exc.description))
        call = ApiCall(method, params, files, req.arrived, http_method=req.http_method)
        if token != self.world.token:
            return self._error(call, 401, error_body(401, "Unauthorized"))
        fault = self.faults.pop(method)
        if fault is not None:
            call.fault = fault.kind
            if fault.kind == "delay":
                self.world.sleep_unless_stopping(fault.seconds)
            else:
                return self._inject(call, fault)
        return self._run(call)

    def _error(self, call: ApiCall, status: int, body: dict[str, Any]) -> Answer:
        call.fail(status, body)
        self.world.record(call)
        return json_answer(status, body)

    def _inject(self, call: ApiCall, fault: Fault) -> Answer | None:
        """Answer with the injected fault instead of running the method."""
        if fault.kind == "drop":
            call.fail(0, None)
            self.world.record(call)
            return None
        if fault.kind == "malformed":
            call.fail(200, None)
            self.world.record(call)
            return 200, "application/json", MALFORMED_BODY
        body = error_body(fault.status, fault.description or "", fault.parameters)
        return self._error(call, fault.status, body)

    def _run(self, call: ApiCall) -> Answer:
        impl = find_method(call.method)
        if impl is None:
            return self._error(call, 400, error_body(400, "Bad Request: method not found"))
        world = self.world
        poll = call.method.lower() == "getupdates"
        try:
            with world.cond:
                if poll:
                    world.pending_polls += 1
                try:
                    result = impl(world, call.params, call.files)
                finally:
                    if poll:
                        world.pending_polls -= 1
                        world.cond.notify_all()
        except ApiError as exc:
            call.fail(exc.status, exc.body())
        except Exception as exc:  # bug in the fake: answer 500 but make it visible
            call.fail(500, error_body(500, f"Internal Server Error: fake API bug: {exc!r}"))
        else:
            call.response = {"ok": True, "result": result}
        self.world.record(call)
        assert call.response is not None
        return json_answer(call.status, call.response)

    def _download(self, req: Request) -> Answer:
        token, _, file_path = req.path[len(_FILE_PREFIX) :].partition("/")
        with self.world.cond:
            stored = self.world.files_by_path.get(file_path)
        if token != self.world.token or stored is None:
            return json_answer(404, error_body(404, "Not Found"))
        return 200, stored.mime_type or "application/octet-stream", stored.content
