"""The campaign configuration: config.toml loaded into typed, validated models.

Every fact of the notice lives in config.toml. Loading validates all of it; a wrong or missing key
raises :class:`ConfigError` whose message names the key and what was expected, in Chinese and
English, on one line. The command line turns that into exit code 2.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.core import config_errors
from bot.core.config_base import (
    ConfigError,
    NonEmpty,
    Percent,
    Positive,
    Window,
    _check_order,
    _Model,
)
from bot.core.config_deploy import Admin, Imports, Reminders, SandboxSettings, Storage, Telegram

__all__ = [
    "Admin",
    "ConfigError",
    "Imports",
    "NonEmpty",
    "Percent",
    "Positive",
    "Reminders",
    "SandboxSettings",
    "Storage",
    "Telegram",
    "Window",
]

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.toml"


class Campaign(_Model):
    year: Annotated[int, Field(ge=2000, le=2100)]
    timezone: NonEmpty
    title: NonEmpty
    notice_title: NonEmpty
    notice_number: NonEmpty
    issuer: NonEmpty
    city_office: NonEmpty
    city: NonEmpty
    provincial_notice: NonEmpty
    purpose: NonEmpty

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value


class Platform(_Model):
    name: NonEmpty
    short_name: NonEmpty
    site: NonEmpty
    app: NonEmpty
    default_password: Annotated[str, StringConstraints(pattern=r"^\S{4,32}$")]
    forgot_password_entry: NonEmpty
    manual_entry: NonEmpty
    # How actions reach the platform (bot.platform): "http" (its API, PLATFORM_API_URL and
    # PLATFORM_API_TOKEN from the environment), "operator" (a person works a task queue), or
    # "sandbox" (an in-process stand-in; the offline sandbox always uses it).
    gateway: Literal["http", "operator", "sandbox"] = "operator"
    # A transfer from outside the receiving administrator's county waits for the origin unit's
    # (or the city office's) approval before its task is sent.
    cross_county_transfer_approval: bool = True
    delivery_interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 5
    request_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10
    retry_max_seconds: Annotated[int, Field(ge=1, le=86400)] = 600
    # Open operator tasks older than this are reminded to the operator (once per period).
    operator_reminder_hours: Annotated[int, Field(ge=1, le=720)] = 24


class Participants(_Model):
    scope: NonEmpty
    short_name: NonEmpty
    zone_rule: NonEmpty
    paper_exam_rule: NonEmpty


class Books(_Model):
    compiler: NonEmpty
    publisher: NonEmpty
    titles: Annotated[list[NonEmpty], Field(min_length=1)]
    role: NonEmpty


class Study(_Model):
    start: dt.date
    public_share_percent: Percent
    elective_share_percent: Percent
    required_credits: Positive
    total_credits: Positive
    deadline_time: dt.time
    deadline_days_before_exam: Annotated[int, Field(ge=0, le=30)]
    # A roster's credits above this many times the year's requirement are a typing error.
    max_credits_factor: Annotated[int, Field(ge=1, le=100)] = 3

    @model_validator(mode="after")
    def _shares(self) -> Study:
        if self.public_share_percent + self.elective_share_percent != 100:
            raise ValueError("public_share_percent + elective_share_percent must be 100")
        if self.required_credits > self.total_credits:
            raise ValueError("required_credits must not exceed total_credits")
        return self


class Exam(_Model):
    public_share_percent: Percent
    group_share_percent: Percent
    duration_minutes: Positive
    full_marks: Positive
    pass_mark: Positive

    @model_validator(mode="after")
    def _consistent(self) -> Exam:
        if self.public_share_percent + self.group_share_percent != 100:
            raise ValueError("public_share_percent + group_share_percent must be 100")
        if self.pass_mark > self.full_marks:
            raise ValueError("pass_mark must not exceed full_marks")
        return self


class QuestionSubmission(_Model):
    deadline: dt.date
    single_choice: Positive
    multiple_choice: Positive
    receiver: NonEmpty
    template_source: NonEmpty
    compiler: NonEmpty

    @property
    def total(self) -> int:
        return self.single_choice + self.multiple_choice


class CategoryExam(_Model):
    name: NonEmpty
    rounds: Positive
    start: dt.date
    end: dt.date
    authority: NonEmpty

    @model_validator(mode="after")
    def _order(self) -> CategoryExam:
        _check_order(self, ("start", "end"))
        return self

    @property
    def window(self) -> Window:
        return Window(start=self.start, end=self.end)


class CountyPlans(_Model):
    deadline: dt.date
    min_units: Positive
    receiver: NonEmpty


class _RegistrationThenExam(_Model):
    """A registration window followed by an exam window (a zone round, the makeup)."""

    registration_start: dt.date
    registration_end: dt.date
    exam_start: dt.date
    exam_end: dt.date

    @model_validator(mode="after")
    def _order(self) -> _RegistrationThenExam:
        _check_order(
            self,
            ("registration_start", "registration_end"),
            ("registration_end", "exam_start"),
            ("exam_start", "exam_end"),
        )
        return self

    @property
    def registration(self) -> Window:
        return Window(start=self.registration_start, end=self.registration_end)

    @property
    def exam(self) -> Window:
        return Window(start=self.exam_start, end=self.exam_end)


class ZoneRound(_RegistrationThenExam):
    number: Positive


class OnlineSession(_Model):
    time: dt.time
    period: NonEmpty


class Makeup(_RegistrationThenExam):
    scope: NonEmpty
    who: NonEmpty
    registered_by: NonEmpty
    after: NonEmpty
    sessions: list[OnlineSession] = Field(
        default_factory=list
    )  # none in the notice: the platform schedules


class Slot(_Model):
    label: NonEmpty
    start: dt.time
    end: dt.time

    @model_validator(mode="after")
    def _order(self) -> Slot:
        _check_order(self, ("start", "end"))
        return self


class Centralized(_Model):
    preregistration_start: dt.date
    preregistration_end: dt.date
    exam_start: dt.date
    exam_end: dt.date
    capacity_per_slot: Positive
    address: NonEmpty
    receiver: NonEmpty
    batch_rule: NonEmpty
    units: Annotated[list[NonEmpty], Field(min_length=1)]
    slots: Annotated[list[Slot], Field(min_length=1)]

    @model_validator(mode="after")
    def _order(self) -> Centralized:
        _check_order(
            self,
            ("preregistration_start", "preregistration_end"),
            ("preregistration_end", "exam_start"),
            ("exam_start", "exam_end"),
        )
        if len(set(self.units)) != len(self.units):
            raise ValueError("units must not repeat")
        return self

    @property
    def preregistration(self) -> Window:
        return Window(start=self.preregistration_start, end=self.preregistration_end)

    @property
    def exam(self) -> Window:
        return Window(start=self.exam_start, end=self.exam_end)


class QuestionDepartment(_Model):
    department: NonEmpty
    laws: Annotated[list[NonEmpty], Field(min_length=1)]
    topic: NonEmpty


class Exemption(_Model):
    retirement_cutoff: dt.date
    retirement_within_years: Positive
    reasons: Annotated[list[NonEmpty], Field(min_length=1)]
    application: NonEmpty
    steps: Annotated[list[NonEmpty], Field(min_length=1)]
    benefit: NonEmpty
    forbidden: NonEmpty


class Assignment(_Model):
    rules: Annotated[list[NonEmpty], Field(min_length=1)]
    provincial_enterprises: NonEmpty
    scope_table: NonEmpty  # where the category exams' departments are listed


class AdminDuties(_Model):
    liaison_group: NonEmpty
    liaison_group_source: NonEmpty
    who_joins: NonEmpty
    transfers: NonEmpty
    admin_change: NonEmpty
    pass_rate_base: NonEmpty
    verify_items: Annotated[list[NonEmpty], Field(min_length=1)]
    county_duty: NonEmpty
    city_unit_duty: NonEmpty
    first_level_duty: NonEmpty
    learner_check: NonEmpty


class Consequences(_Model):
    assessment: NonEmpty
    review: NonEmpty
    absent: NonEmpty
    failed_makeup: NonEmpty
    basis: NonEmpty


class Contacts(_Model):
    people: Annotated[list[NonEmpty], Field(min_length=1)]
    tech_phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\-\s]{5,20}$")]
    tech_qq_group: Annotated[str, StringConstraints(pattern=r"^[0-9]{5,12}$")]
    policy_phone: Annotated[str, StringConstraints(pattern=r"^[0-9+\-\s]{5,20}$")]
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class CategoryDepartment(_Model):
    """A row of attachment 1: a provincial department running its own category exam."""

    name: NonEmpty
    province: bool = False
    city: bool = False
    county: bool = False
    note: str = ""
    members: list[NonEmpty] = Field(default_factory=list)
    sectors: list[NonEmpty] = Field(default_factory=list)  # name words of the row's system

    def covers(self, level: str) -> bool:
        """Whether the category exam covers units at ``level`` (province / city / county)."""
        if self.members:  # the scope is the listed member units, whatever their level
            return True
        return bool(getattr(self, level))

    @property
    def levels(self) -> list[str]:
        names = {"province": "省本级", "city": "市州", "county": "县市区"}
        return [label for key, label in names.items() if getattr(self, key)]


class Config(_Model):
    campaign: Campaign
    platform: Platform
    participants: Participants
    books: Books
    study: Study
    exam: Exam
    question_submission: QuestionSubmission
    category_exam: CategoryExam
    county_plans: CountyPlans
    zone_rounds: Annotated[list[ZoneRound], Field(min_length=1)]
    online_sessions: Annotated[list[OnlineSession], Field(min_length=1)]
    makeup: Makeup
    centralized: Centralized
    question_bank: Annotated[list[QuestionDepartment], Field(min_length=1)]
    exemption: Exemption
    assignment: Assignment
    admin_duties: AdminDuties
    consequences: Consequences
    contacts: Contacts
    category_departments: Annotated[list[CategoryDepartment], Field(min_length=1)]
    telegram: Telegram = Field(default_factory=Telegram)
    storage: Storage
    admin: Admin
    reminders: Reminders = Field(default_factory=Reminders)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    imports: Imports = Field(default_factory=Imports)

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        numbers = [r.number for r in self.zone_rounds]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("zone_rounds must be numbered 1, 2, ... in order")
        times = [s.time for s in self.online_sessions]
        if times != sorted(set(times)):
            raise ValueError("online_sessions times must be distinct and in order")
        depts = [q.department for q in self.question_bank]
        if len(set(depts)) != len(depts):
            raise ValueError("question_bank departments must not repeat")
        return self

    # --- conveniences used by services and templates -------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.campaign.timezone)

    def zone_round(self, number: int) -> ZoneRound | None:
        return next((r for r in self.zone_rounds if r.number == number), None)

    def category_department(self, name: str) -> CategoryDepartment | None:
        return next((d for d in self.category_departments if d.name == name), None)

    def question_department(self, name: str) -> QuestionDepartment | None:
        return next((q for q in self.question_bank if q.department == name), None)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate config.toml (``CONFIG_PATH`` env var or the repository's own)."""
    path = Path(path or os.environ.get("CONFIG_PATH") or DEFAULT_CONFIG_PATH)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(config_errors.message("not_found", path=path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(config_errors.message("unreadable", path=path, error=exc)) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(config_errors.toml_error(path, text, exc)) from exc
    return config_from_dict(data, source=str(path))


def config_from_dict(data: dict[str, Any], source: str = "config.toml") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise ConfigError(config_errors.describe(dict(first), source)) from exc
