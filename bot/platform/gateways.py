"""Choosing the gateway from ``[platform] gateway`` (and, for ``http``, the environment)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.core.config import Config
from bot.platform.gateway import Gateway
from bot.platform.operator import OperatorGateway
from bot.platform.sandbox import SandboxGateway


def gateway_for(config: Config, environ: Mapping[str, str] = os.environ) -> Gateway:
    """The configured gateway. ``http`` reads PLATFORM_API_URL and PLATFORM_API_TOKEN from the
    environment and raises ConfigError naming the variable that is missing or wrong."""
    kind = config.platform.gateway
    if kind == "sandbox":
        return SandboxGateway()
    if kind == "operator":
        return OperatorGateway()
    from bot.platform.http import HttpGateway

    return HttpGateway.from_environment(config, environ)
