"""A fake of the platform's task API (docs/platform-api.md) for the tests: standard library only.

Usage::

    with FakePlatform() as platform:
        gateway = HttpGateway(platform.url, platform.token, timeout=2)   # or env platform.environ
        platform.fail_next(500, times=2)          # faults apply to the next requests, in order
        platform.fail_next(429, retry_after=30)   # Retry-After: 30 (as_date=True: an HTTP date)
        platform.delay_next(5)                    # answer later than the client waits
        platform.drop_next()                      # close the connection, nothing applied
        platform.apply_then_hang_next()           # apply, then never answer (the kill test)
        platform.refuse_account("acc", "账号已注销")   # 422 {"error": ...}
        ...
        platform.applications                     # what the platform carried out, once per id
        platform.task_requests()                  # every POST /tasks, with headers and body

``stop()`` and ``start()`` take the platform down and up again on the same port.
"""

from harness.fakeplatform.api import (
    DEFAULT_TOKEN,
    KINDS,
    Application,
    FakePlatform,
    PlatformRequest,
)

__all__ = ["DEFAULT_TOKEN", "KINDS", "Application", "FakePlatform", "PlatformRequest"]
