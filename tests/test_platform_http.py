"""The http gateway against the fake platform (harness.fakeplatform): what it sends (the bearer
token, the task id as Idempotency-Key, the envelope as JSON), what each answer means (2xx and
409 applied, 422 refused with the reason, 429/5xx/time-outs/drops retried, a bad token or URL
retried and logged, never told as a refusal), its settings from the environment (exit 2 naming
the variable) and the token kept out of every log line."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.core.config import ConfigError
from bot.platform.gateway import APPLIED, REFUSED, RETRY
from bot.platform.gateways import gateway_for
from bot.platform.http import MAX_REASON, HttpGateway, retry_after
from bot.serve import platform_secrets, run, serving_from
from harness.fakeplatform import FakePlatform
from tests.botproc import free_port, write_config

ROOT = Path(__file__).resolve().parent.parent


def body(task_id: str = "0123456789abcdef0123456789abcdef", **fields) -> dict:
    return {
        "id": task_id,
        "kind": "password_reset",
        "account": "ly1zhang",
        "unit_code": "LY-JY-1",
        "requested_by": "耒阳市教育局",
        "requested_at": "2022-09-14T02:00:00Z",
        **fields,
    }


def http_config(config):
    return config.model_copy(
        update={"platform": config.platform.model_copy(update={"gateway": "http"})}
    )


@pytest.fixture
def platform():
    with FakePlatform() as fake:
        yield fake


@pytest.fixture
async def gateway(platform):
    gw = HttpGateway(platform.url, platform.token, timeout=1.0)
    yield gw
    await gw.close()


def mocked(handler, timeout: float = 1.0) -> HttpGateway:
    """A gateway whose answers come from ``handler`` (for bodies the fake never sends)."""
    return HttpGateway(
        "https://platform.example/api",
        "tok",
        timeout=timeout,
        transport=httpx.MockTransport(handler),
    )


# --- what is sent ----------------------------------------------------------------------------


async def test_a_task_is_one_post_with_the_token_the_key_and_the_envelope(platform, gateway):
    task = body(round="zone1", exam_date="2022-09-20")
    outcome = await gateway.deliver(task)
    assert outcome.kind == APPLIED
    [request] = platform.task_requests()
    assert request.path == "/api/tasks" and request.method == "POST"
    assert request.headers["authorization"] == f"Bearer {platform.token}"
    assert request.headers["idempotency-key"] == task["id"]
    assert request.headers["content-type"] == "application/json"
    assert request.json == task  # every field, Chinese as it is
    assert [a.task_id for a in platform.applications] == [task["id"]]


async def test_a_repeat_of_an_applied_id_is_409_and_counts_as_applied(platform, gateway):
    assert (await gateway.deliver(body())).kind == APPLIED
    assert (await gateway.deliver(body())).kind == APPLIED
    assert [r.status for r in platform.task_requests()] == [200, 409]
    assert len(platform.applications) == 1


async def test_422_is_a_refusal_with_the_platforms_reason(platform, gateway):
    platform.refuse_account("ly1zhang", "该账号已注销，不能重置")
    outcome = await gateway.deliver(body())
    assert (outcome.kind, outcome.reason) == (REFUSED, "该账号已注销，不能重置")
    assert platform.applications == []


async def test_429_is_retried_after_retry_after_in_seconds_or_as_a_date(platform, gateway):
    platform.fail_next(429, retry_after=90)
    outcome = await gateway.deliver(body())
    assert (outcome.kind, outcome.retry_after) == (RETRY, 90.0)
    platform.fail_next(429, retry_after=120, as_date=True)
    outcome = await gateway.deliver(body())
    assert outcome.kind == RETRY and 118 <= (outcome.retry_after or 0) <= 121
    platform.fail_next(429)  # without Retry-After: the usual back-off
    outcome = await gateway.deliver(body())
    assert (outcome.kind, outcome.retry_after) == (RETRY, None)
    assert platform.applications == []
    assert (await gateway.deliver(body())).kind == APPLIED


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_retried(platform, gateway, status):
    platform.fail_next(status)
    outcome = await gateway.deliver(body())
    assert (outcome.kind, outcome.reason) == (RETRY, f"HTTP {status}")
    assert (await gateway.deliver(body())).kind == APPLIED


async def test_a_time_out_is_retried_and_the_platform_may_have_applied_it(platform, gateway):
    platform.delay_next(3)  # longer than the gateway's 1 s
    started = time.monotonic()
    outcome = await gateway.deliver(body())
    assert (outcome.kind, outcome.reason) == (RETRY, "timeout")
    assert time.monotonic() - started < 2.5
    platform.wait_applied(body()["id"], timeout=5)  # it did apply, after the client gave up
    assert (await gateway.deliver(body())).kind == APPLIED  # the repeat: 409
    assert [r.status for r in platform.task_requests()] == [200, 409]


async def test_a_dropped_or_refused_connection_is_retried(platform, gateway):
    platform.drop_next()
    outcome = await gateway.deliver(body())
    assert outcome.kind == RETRY and platform.applications == []
    nobody = HttpGateway(f"http://127.0.0.1:{free_port()}", "tok", timeout=1.0)
    try:
        outcome = await nobody.deliver(body())
    finally:
        await nobody.close()
    assert (outcome.kind, outcome.reason) == (RETRY, "ConnectError")


async def test_an_answer_that_is_not_the_platforms_is_retried_and_the_repeat_applies(
    platform, gateway
):
    platform.apply_then_garble_next()  # applied, but the 200 carries an HTML page
    assert (await gateway.deliver(body())).kind == RETRY
    assert (await gateway.deliver(body())).kind == APPLIED
    assert len(platform.applications) == 1


async def test_a_platform_that_stops_while_hanging_leaves_a_retry(platform, gateway):
    platform.apply_then_hang_next()
    outcome = await gateway.deliver(body())  # the gateway gives up after its time-out
    assert (outcome.kind, outcome.reason) == (RETRY, "timeout")
    platform.release()
    assert (await gateway.deliver(body())).kind == APPLIED
    assert len(platform.applications) == 1


# --- an installation problem is never the platform's refusal ----------------------------------


async def test_a_wrong_token_is_retried_and_logged_never_refused(platform, caplog):
    wrong = HttpGateway(platform.url, "not-the-token", timeout=1.0)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.platform.http"):
            outcome = await wrong.deliver(body())
    finally:
        await wrong.close()
    assert outcome.kind == RETRY and "PLATFORM_API_TOKEN" in outcome.reason
    assert "401" in caplog.text and "PLATFORM_API_TOKEN" in caplog.text
    assert "not-the-token" not in caplog.text + outcome.reason


@pytest.mark.parametrize(("status", "check"), [(400, "URL"), (403, "TOKEN"), (404, "URL")])
async def test_400_403_404_are_retried_with_an_error_logged(
    platform, gateway, caplog, status, check
):
    platform.fail_next(status)
    with caplog.at_level(logging.ERROR, logger="bot.platform.http"):
        outcome = await gateway.deliver(body())
    assert outcome.kind == RETRY and f"PLATFORM_API_{check}" in outcome.reason
    assert f"answered {status}" in caplog.text


async def test_a_wrong_path_is_a_404_retried(platform):
    wrong = HttpGateway(platform.url + "/v9", platform.token, timeout=1.0)
    try:
        outcome = await wrong.deliver(body())
    finally:
        await wrong.close()
    assert outcome.kind == RETRY and "HTTP 404" in outcome.reason


async def test_the_fake_refuses_a_request_off_the_contract_with_400(platform):
    """The fake checks the contract: the Idempotency-Key must be the task's id."""
    headers = {
        "Authorization": f"Bearer {platform.token}",
        "Idempotency-Key": "another",
        "Content-Type": "application/json",
    }
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{platform.url}/tasks", json=body(), headers=headers)
        assert answer.status_code == 400 and "Idempotency-Key" in answer.json()["error"]
        answer = await client.post(
            f"{platform.url}/tasks", json=body(kind="delete_everything"), headers=headers
        )
        assert answer.status_code == 400
    assert platform.applications == []


# --- bodies the fake does not send --------------------------------------------------------------


async def test_422_bodies_without_a_readable_reason_refuse_with_none():
    for content in (b"not json", b"[]", b'{"error": 7}', b'{"message": "x"}'):
        gw = mocked(lambda request, content=content: httpx.Response(422, content=content))
        outcome = await gw.deliver(body())
        assert (outcome.kind, outcome.reason) == (REFUSED, "")  # the message says: not given


async def test_a_long_or_multiline_reason_is_one_capped_line():
    reason = "第一行\n第二行\t" + "很长" * 300
    gw = mocked(lambda request: httpx.Response(422, json={"error": reason}))
    outcome = await gw.deliver(body())
    assert outcome.kind == REFUSED and len(outcome.reason) == MAX_REASON
    assert outcome.reason.startswith("第一行 第二行 很长") and "\n" not in outcome.reason


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (httpx.Response(201, json={"id": "x", "status": "applied"}), APPLIED),
        (httpx.Response(204), APPLIED),
        (httpx.Response(409, content=b"Conflict"), APPLIED),
        (httpx.Response(302, headers={"Location": "https://elsewhere/"}), RETRY),
        (httpx.Response(200, content=b"<html>login</html>"), RETRY),
        (httpx.Response(418), RETRY),
    ],
)
async def test_what_each_answer_means(answer, kind):
    assert (await mocked(lambda request: answer).deliver(body())).kind == kind


def test_retry_after_reads_seconds_and_http_dates():
    now = dt.datetime(2022, 9, 14, 2, 0, tzinfo=dt.UTC)
    date = email.utils.format_datetime(now, usegmt=True)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=45), usegmt=True)
    assert retry_after("120", None, lambda: now) == 120
    assert retry_after(" 7 ", None, lambda: now) == 7
    assert retry_after("-5", None, lambda: now) == 0
    assert retry_after(later, date, lambda: now + dt.timedelta(hours=1)) == 45  # their clock
    assert retry_after(later, None, lambda: now) == 45  # ours, without a Date
    assert retry_after(date, None, lambda: now + dt.timedelta(seconds=5)) == 0  # past
    for unreadable in (None, "", "soon", "nan"):
        assert retry_after(unreadable, date, lambda: now) is None


# --- the settings -------------------------------------------------------------------------------

GOOD = {"PLATFORM_API_URL": "https://ruf.example/api/", "PLATFORM_API_TOKEN": "s3cret-token"}


def test_the_http_gateway_is_chosen_by_config_and_reads_the_environment(config):
    gw = gateway_for(http_config(config), GOOD)
    assert isinstance(gw, HttpGateway)
    assert gw.endpoint == "https://ruf.example/api/tasks"
    assert gw.timeout == config.platform.request_timeout_seconds
    assert "s3cret-token" not in repr(gw) + str(vars(gw).get("url"))


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"PLATFORM_API_TOKEN": "t"}, "PLATFORM_API_URL"),
        ({**GOOD, "PLATFORM_API_URL": "  "}, "PLATFORM_API_URL"),
        ({**GOOD, "PLATFORM_API_URL": "ftp://ruf.example"}, "PLATFORM_API_URL"),
        ({**GOOD, "PLATFORM_API_URL": "ruf.example/api"}, "PLATFORM_API_URL"),
        ({**GOOD, "PLATFORM_API_URL": "https://user:pw@ruf.example"}, "PLATFORM_API_URL"),
        ({**GOOD, "PLATFORM_API_URL": "https://ruf.example/api?x=1"}, "PLATFORM_API_URL"),
        ({**GOOD, "PLATFORM_API_URL": "https://ruf.example:99999"}, "PLATFORM_API_URL"),
        ({"PLATFORM_API_URL": GOOD["PLATFORM_API_URL"]}, "PLATFORM_API_TOKEN"),
        ({**GOOD, "PLATFORM_API_TOKEN": "two words"}, "PLATFORM_API_TOKEN"),
        ({**GOOD, "PLATFORM_API_TOKEN": "令牌"}, "PLATFORM_API_TOKEN"),
    ],
)
def test_a_missing_or_malformed_setting_names_the_variable(config, environ, variable):
    with pytest.raises(ConfigError) as raised:
        HttpGateway.from_environment(http_config(config), environ)
    message = str(raised.value)
    assert variable in message and "\n" not in message
    value = environ.get(variable, "").strip()
    assert not value or value not in message  # named, never echoed


def test_the_token_and_a_url_password_are_secrets_for_the_logs():
    environ = {"PLATFORM_API_TOKEN": " tok ", "PLATFORM_API_URL": "https://u:p%40ss@h/api"}
    assert platform_secrets(environ) == ("tok", ["p%40ss", "p@ss"])
    assert platform_secrets({"PLATFORM_API_URL": "https://h:bad-port/"}) == ("", [])


def test_serving_with_a_bad_http_setup_stops_before_serving(config, ctx, monkeypatch):
    monkeypatch.delenv("PLATFORM_API_URL", raising=False)
    monkeypatch.setenv("PLATFORM_API_TOKEN", "tok")
    ctx.config = http_config(config)
    serving = serving_from(ctx.config, {"TELEGRAM_BOT_TOKEN": "123:abc"})
    with pytest.raises(ConfigError, match="PLATFORM_API_URL"):
        run(ctx, serving)


def test_python_m_bot_run_with_a_bad_http_setup_exits_2_naming_the_variable(tmp_path):
    config = write_config(tmp_path / "config.toml", platform={"gateway": '"http"'})
    env = {
        **os.environ,
        "CONFIG_PATH": str(config),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}/bot",
        "PLATFORM_API_URL": "https://ruf.example/api",
        "PLATFORM_API_TOKEN": "has a space",
    }
    env.pop("TELEGRAM_WEBHOOK_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "PLATFORM_API_TOKEN" in proc.stderr and "has a space" not in proc.stderr


# --- the token never reaches a log line ----------------------------------------------------------


async def test_the_token_is_in_no_log_record(platform, caplog):
    gw = HttpGateway(platform.url, platform.token, timeout=0.5)
    platform.fail_next(500)
    platform.fail_next(401)
    platform.delay_next(2)
    try:
        with caplog.at_level(logging.DEBUG):
            for _ in range(4):
                await gw.deliver(body())
    finally:
        await gw.close()
    records = " ".join(f"{r.getMessage()} {r.args!r} {vars(r)!r}" for r in caplog.records)
    assert caplog.records and platform.token not in records
