"""config.toml: the whole notice as typed data; a bad key exits 2 naming it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import DEFAULT_CONFIG_PATH, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_notice_is_in_the_config(config):
    assert config.campaign.timezone == "Asia/Shanghai"
    assert config.platform.default_password == "000000"
    assert config.study.required_credits == 60 and config.study.total_credits == 100
    assert config.study.deadline_time == dt.time(21, 0)
    assert (config.exam.duration_minutes, config.exam.full_marks, config.exam.pass_mark) == (
        90,
        100,
        60,
    )
    r1, r2 = config.zone_rounds
    assert (r1.registration_start, r1.registration_end) == (
        dt.date(2022, 9, 13),
        dt.date(2022, 9, 16),
    )
    assert (r2.exam_start, r2.exam_end) == (dt.date(2022, 9, 27), dt.date(2022, 9, 30))
    assert [s.time.strftime("%H:%M") for s in config.online_sessions] == [
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "15:30",
        "16:00",
        "16:30",
        "19:30",
        "20:00",
    ]
    assert config.makeup.registration.days() == [dt.date(2022, 10, 25), dt.date(2022, 10, 26)]
    assert len(config.centralized.units) == 14 and config.centralized.capacity_per_slot == 80
    assert len(config.centralized.slots) * len(config.centralized.exam.days()) == 12
    assert len(config.question_bank) == 14
    assert config.question_submission.total == 30
    assert config.exemption.retirement_cutoff == dt.date(2022, 12, 30)
    assert config.category_department("省科技厅").covers("city")
    assert not config.category_department("省科技厅").covers("county")
    assert config.category_department("省信访局").covers("county")
    assert "衡阳海关" in config.category_department("长沙海关").members
    assert config.contacts.tech_qq_group == "219418024"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            "registration_start = 2022-09-13",
            "registration_start = 2022-09-31",
            "registration_start",
        ),
        ("exam_start = 2022-10-27", 'exam_start = "next week"', "makeup.exam_start"),
        ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', "campaign.timezone"),
        ("capacity_per_slot = 80\n", "capacity_per_slot = -5\n", "centralized.capacity_per_slot"),
        ("pass_mark = 60", "pass_mark = 160", "exam"),
        ('time = "08:30"', 'time = "8点半"', "online_sessions[0].time"),
        ("deadline = 2022-06-15", "deadlin = 2022-06-15", "question_submission.deadline"),
        ("registration_end = 2022-09-16", "registration_end = 2022-09-12", "zone_rounds[0]"),
    ],
)
def test_bad_values_name_the_key(tmp_path, old, new, key):
    assert old in ORIGINAL
    path = write(tmp_path, ORIGINAL.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert key in message
    assert "配置错误" in message and "\n" not in message


def test_missing_key_is_named(tmp_path):
    path = write(tmp_path, ORIGINAL.replace('email = "hyfz8194586@163.com"\n', ""))
    with pytest.raises(ConfigError, match=r"contacts\.email.*missing"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("start = 2022-06-01", "start = 2022-02-30", "study.start"),
        ('timezone = "Asia/Shanghai"', 'timezone = "Asia/Nowhere"', "campaign.timezone"),
        ("[contacts]\n", "[contacts]\n", "contacts.people"),
    ],
)
def test_cli_exits_2_with_one_line(tmp_path, old, new, key):
    text = ORIGINAL.replace(old, new, 1)
    if key == "contacts.people":
        text = text.replace('people = ["肖海宾", "陈尔谊"]\n', "")
    path = write(tmp_path, text)
    env = {**os.environ, "CONFIG_PATH": str(path)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox"],
        cwd=ROOT,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and key in lines[0], proc.stderr
