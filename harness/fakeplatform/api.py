"""FakePlatform: the platform's task API as docs/platform-api.md states it, for the tests.

It checks the bearer token and the request's shape, applies each task id once (a repeat of an
applied id answers 409, of a refused id the same 422), refuses by account or kind when told to,
records every request, and injects faults in order, one per request."""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness.fakeplatform.server import Answer, Incoming, serve
from harness.serving import ServerThread

DEFAULT_TOKEN = "fake-platform-token"
KINDS = frozenset(
    {
        "password_reset",
        "transfer",
        "exemption_set",
        "exemption_clear",
        "exam_registration",
        "exam_registration_cancel",
    }
)
ENVELOPE = ("id", "kind", "account", "unit_code", "requested_by", "requested_at")
GARBLED = b"<html><body>502 Bad Gateway</body></html>"

Json = dict[str, Any]
A = TypeVar("A", Answer, Answer | None)


@dataclass
class Fault:
    """What to do to one request instead of (or around) answering it normally.

    ``error``: answer ``status`` (429: with ``Retry-After``); ``delay``: wait ``seconds``, then
    answer normally; ``drop``: close the connection, nothing applied; ``apply_hang``: apply the
    task, then keep the connection waiting (until ``release()``, ``seconds`` or the stop) and
    close it without an answer; ``apply_garble``: apply it and answer 200 with a body that is
    not JSON."""

    kind: str
    status: int = 500
    seconds: float = 0.0
    retry_after: str | None = None


@dataclass
class PlatformRequest:
    """One request the fake received, and how it was answered (``status`` None: no answer)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int | None = None
    outcome: str = ""  # applied | repeat | refused | unauthorized | invalid | fault:<kind>
    fault: str | None = None

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def task_id(self) -> str | None:
        data = self.json
        return str(data["id"]) if isinstance(data, dict) and "id" in data else None

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class Application:
    """A task the platform carried out."""

    task_id: str
    body: Json
    at: float = field(default_factory=time.time)

    @property
    def kind(self) -> str:
        return str(self.body.get("kind"))

    @property
    def account(self) -> str:
        return str(self.body.get("account"))


def _json(status: int, body: Json, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(body, ensure_ascii=False).encode("utf-8"), headers or {})


class FakePlatform:
    """The fake on 127.0.0.1:<port>; ``with FakePlatform() as platform: platform.url``.

    ``stop()`` then ``start()`` takes it down and brings it back on the same port with its
    state (a platform outage: connections are refused meanwhile)."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, port: int = 0) -> None:
        self.token = token
        self.cond = threading.Condition(threading.RLock())
        self.requests: list[PlatformRequest] = []
        self.applications: list[Application] = []
        self.applied: dict[str, Json] = {}
        self.refused: dict[str, str] = {}
        self.refuse_accounts: dict[str, str] = {}
        self.refuse_kinds: dict[str, str] = {}
        self._faults: deque[Fault] = deque()
        self._released = threading.Event()
        self._stopping = threading.Event()
        self._port = port
        self._server: ServerThread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakePlatform:
        if self._server is None:
            self._stopping.clear()
            self._server = serve(self._respond, self._port)
            self._port = self._server.port
        return self

    def stop(self) -> None:
        """Stop listening (connections are refused from now on); hanging answers end."""
        self._stopping.set()
        with self.cond:
            self.cond.notify_all()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("FakePlatform has not started")
        return self._port

    @property
    def url(self) -> str:
        """For PLATFORM_API_URL."""
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def environ(self) -> dict[str, str]:
        return {"PLATFORM_API_URL": self.url, "PLATFORM_API_TOKEN": self.token}

    # ---------------------------------------------------------------- what the platform does

    def refuse_account(self, account: str, reason: str) -> None:
        """Refuse (422) every new task for ``account``."""
        with self.cond:
            self.refuse_accounts[account] = reason

    def refuse_kind(self, kind: str, reason: str) -> None:
        with self.cond:
            self.refuse_kinds[kind] = reason

    # ---------------------------------------------------------------- faults, in order

    def _push(self, fault: Fault, times: int) -> None:
        with self.cond:
            self._faults.extend(Fault(**vars(fault)) for _ in range(times))

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: float | None = None,
        as_date: bool = False,
    ) -> None:
        """Answer the next ``times`` task requests with ``status``; a 429 carries
        ``Retry-After`` (seconds, or with ``as_date`` an HTTP date that far ahead)."""
        header = None
        if retry_after is not None:
            header = (
                email.utils.formatdate(time.time() + retry_after, usegmt=True)
                if as_date
                else str(int(retry_after))
            )
        self._push(Fault("error", status=status, retry_after=header), times)

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Answer normally, but only after ``seconds`` (longer than the client waits?)."""
        self._push(Fault("delay", seconds=seconds), times)

    def drop_next(self, *, times: int = 1) -> None:
        """Close the connection without answering; nothing is applied."""
        self._push(Fault("drop"), times)

    def apply_then_hang_next(self, seconds: float = 3600.0) -> None:
        """Apply the next task, then hold the connection open without answering."""
        self._released.clear()
        self._push(Fault("apply_hang", seconds=seconds), 1)

    def apply_then_garble_next(self) -> None:
        """Apply the next task and answer 200 with a body that is not JSON (a proxy's page)."""
        self._push(Fault("apply_garble"), 1)

    def release(self) -> None:
        """End the hanging answers (they close without answering)."""
        self._released.set()

    def clear_faults(self) -> None:
        with self.cond:
            self._faults.clear()

    # ---------------------------------------------------------------- what the tests read

    def task_requests(self) -> list[PlatformRequest]:
        with self.cond:
            return [r for r in self.requests if r.method == "POST" and r.path.endswith("/tasks")]

    def requests_for(self, task_id: str) -> list[PlatformRequest]:
        return [r for r in self.task_requests() if r.task_id == task_id]

    def applications_of(self, task_id: str) -> list[Application]:
        with self.cond:
            return [a for a in self.applications if a.task_id == task_id]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until ``condition()`` (checked whenever a request is recorded)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake platform: condition not met; {self.requests!r}")
                self.cond.wait(min(left, 0.1))

    def wait_applied(self, task_id: str, timeout: float = 10.0) -> Application:
        self.wait_until(lambda: task_id in self.applied, timeout)
        return self.applications_of(task_id)[0]

    # ---------------------------------------------------------------- answering

    def _respond(self, incoming: Incoming) -> Answer | None:
        request = PlatformRequest(
            incoming.method, incoming.path, incoming.headers, incoming.body, time.time()
        )
        with self.cond:
            self.requests.append(request)
            self.cond.notify_all()
        answer = self._answer(request)
        with self.cond:
            request.status = answer.status if answer is not None else None
            self.cond.notify_all()
        return answer

    def _answer(self, request: PlatformRequest) -> Answer | None:
        if request.method != "POST" or request.path.rstrip("/") != "/api/tasks":
            return self._mark(request, "invalid", _json(404, {"error": "not found"}))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._mark(request, "unauthorized", _json(401, {"error": "unauthorized"}))
        with self.cond:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            request.fault = fault.kind
            if fault.kind == "error":
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                answer = _json(fault.status, {"error": "injected"}, headers)
                return self._mark(request, f"fault:{fault.kind}", answer)
            if fault.kind == "drop":
                return self._mark(request, "fault:drop", None)
            if fault.kind == "delay":
                self._stopping.wait(fault.seconds)
        answer = self._task(request)
        if fault is not None and fault.kind == "apply_hang":
            self._hang(fault.seconds)
            return None
        if fault is not None and fault.kind == "apply_garble":
            return Answer(200, GARBLED, {"Content-Type": "text/html"})
        return answer

    def _hang(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            if self._released.wait(0.05):
                return

    def _mark(self, request: PlatformRequest, outcome: str, answer: A) -> A:
        request.outcome = outcome
        return answer

    def _invalid(self, body: Any, request: PlatformRequest) -> str:
        """What is wrong with a task request, by the contract; empty when nothing is."""
        if not request.headers.get("content-type", "").startswith("application/json"):
            return "Content-Type must be application/json"
        if not isinstance(body, dict):
            return "the body must be a JSON object"
        missing = [name for name in ENVELOPE if name not in body]
        if missing:
            return f"missing fields: {', '.join(missing)}"
        if body["kind"] not in KINDS:
            return f"unknown kind {body['kind']!r}"
        if request.idempotency_key != str(body["id"]):
            return "Idempotency-Key must be the task id"
        return ""

    def _task(self, request: PlatformRequest) -> Answer:
        body = request.json
        problem = self._invalid(body, request)
        if problem:
            return self._mark(request, "invalid", _json(400, {"error": problem}))
        task_id = str(body["id"])
        with self.cond:
            if task_id in self.applied:
                answer = _json(409, {"error": "already applied", "id": task_id})
                return self._mark(request, "repeat", answer)
            reason = self.refused.get(task_id) or self.refuse_accounts.get(
                str(body["account"]), self.refuse_kinds.get(str(body["kind"]), "")
            )
            if reason:
                self.refused[task_id] = reason
                return self._mark(request, "refused", _json(422, {"error": reason}))
            self.applied[task_id] = body
            self.applications.append(Application(task_id, body))
            self.cond.notify_all()
        answer = _json(200, {"id": task_id, "status": "applied"})
        return self._mark(request, "applied", answer)
