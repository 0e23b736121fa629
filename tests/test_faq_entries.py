"""faq/entries.toml: every entry well formed, every answer renders, no fact written outside config."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from bot.core.config import Config, load_config
from bot.core.render import make_environment, strip_html
from faq.compiled import compiled
from faq.compute import COMPUTES, base_context

ENTRIES_PATH = Path(__file__).resolve().parent.parent / "faq" / "entries.toml"
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
JINJA_BLOCK = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)

NOWS = [
    (2022, 5, 1, 9, 0),  # before everything
    (2022, 6, 10, 12, 0),  # question submission open
    (2022, 9, 14, 10, 0),  # zone round 1 + centralized pre-registration open
    (2022, 9, 24, 8, 0),  # zone round 2 open
    (2022, 10, 25, 9, 0),  # makeup registration open
    (2022, 10, 28, 9, 0),  # everything closed, makeup exam running
    (2022, 12, 1, 9, 0),  # after the campaign
]

COMPUTE_QUESTIONS = {
    "unit_exam": [
        "耒阳市公安局参加哪个考试",
        "县科技局参加分类还是分众",
        "市文旅广电局在不在分类名单里",
        "市公安局考分类的话 还要不要报分众的题",
        "省科技厅的分类组考包括县里吗",
        "省卫健委系统参加分类考试吗",
        "衡阳海关参加哪个考试",
        "长沙海关的考试范围",
        "某某局参加分类组考吗",
        "",
    ],
    "centralized_unit": [
        "市医疗保障局要集中考试吗",
        "民盟参加集中考试吗",
        "市财政局参加集中考试吗",
        "",
    ],
    "question_department": [
        "市公安局报什么题",
        "禁毒法的题谁出",
        "食品安全法由哪个单位出题",
        "耕地保护的题谁报",
        "市财政局报什么题",
        "",
    ],
    "calendar": ["9月18号能考吗", "明天能报第二次了吧", "现在报试题还来得及不", "7月份能考吗", ""],
    "sessions": [
        "中午12点有没有场次",
        "今天还有场吗",
        "集中考试有晚上场吗",
        "上午有几场",
        "一共多少场",
        "",
    ],
    "study_check": ["明天上午考试 现在补学分还来得及吗", "考前一天晚上十点刷完学分行吗", ""],
    "score_check": ["考了55分算过了吗", "考了65分及格了吧", ""],
    "credits_check": ["总学分95了 必修都修满了 能考不", "必修62 选修40 总共102 可以考试了吧", ""],
    "seats_check": ["我们单位一百多人 一场能坐下吗", "60人一场够吗", ""],
    "county_units_check": ["县里安排了6个单位集中考 够不够", "县里3个单位行不行", ""],
    "retirement_check": ["2024年3月退休 能免考吗", "2025年退休的能免考不", ""],
    "participant_level": ["厅级干部要考吗", "调研员不用参加了吧", "只有科级才算学员吧", ""],
}


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config()


@pytest.fixture(scope="module")
def entries() -> list[dict]:
    with ENTRIES_PATH.open("rb") as fh:
        data = tomllib.load(fh)
    assert set(data) == {"entry"}, f"unexpected top-level keys: {set(data)}"
    return data["entry"]


@pytest.fixture(scope="module")
def env():
    return make_environment()


def by_id(entries: list[dict], entry_id: str) -> dict:
    matches = [e for e in entries if e["id"] == entry_id]
    assert len(matches) == 1, entry_id
    return matches[0]


def render(env, config: Config, entry: dict, question: str = "", now: dt.datetime | None = None):
    now = now or dt.datetime(2022, 9, 14, 10, 0, tzinfo=config.tz)
    extra = COMPUTES[entry["compute"]](config, question, now) if entry.get("compute") else {}
    text = compiled(entry["answer"]).render(**{**base_context(config, now, question), **extra})
    return strip_html(text).strip()


def fact_strings(config: Config) -> list[str]:
    """Strings that must only reach an answer through config, never as literal template text."""
    c = config
    facts = [
        c.contacts.tech_phone,
        c.contacts.tech_qq_group,
        c.contacts.policy_phone,
        c.contacts.email,
        *c.contacts.people,
        c.centralized.address,
        *c.centralized.units,
        *(q.department for q in c.question_bank),
        *(d.name for d in c.category_departments),
        *(m for d in c.category_departments for m in d.members),
        *c.books.titles,
        c.books.compiler,
        c.books.publisher,
        c.platform.name,
        c.platform.short_name,
        c.platform.site,
        c.platform.default_password,
        c.campaign.notice_number,
        c.campaign.provincial_notice,
        c.campaign.issuer,
        c.campaign.city_office,
        c.campaign.city,
        c.question_submission.compiler,
        c.question_submission.receiver,
        c.admin_duties.liaison_group,
    ]
    return sorted({f for f in facts if f}, key=len, reverse=True)


# --- structure ------------------------------------------------------------------------------


def test_entry_count(entries):
    assert 75 <= len(entries) <= 100, len(entries)


def test_ids_unique_and_well_formed(entries):
    ids = [e.get("id") for e in entries]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for entry_id in ids:
        assert isinstance(entry_id, str) and ID_RE.match(entry_id), entry_id


def test_required_fields(entries):
    allowed = {"id", "section", "question", "phrasings", "answer", "compute", "denies", "not_of"}
    for e in entries:
        assert set(e) <= allowed, (e.get("id"), set(e) - allowed)
        for key in ("id", "section", "question", "answer"):
            assert isinstance(e.get(key), str) and e[key].strip(), (e.get("id"), key)
        phrasings = e.get("phrasings")
        assert isinstance(phrasings, list) and len(phrasings) >= 4, e["id"]
        assert all(isinstance(p, str) and p.strip() for p in phrasings), e["id"]
        assert len(set(phrasings)) == len(phrasings), e["id"]
        if "compute" in e:
            assert e["compute"] in COMPUTES, (e["id"], e["compute"])
        for key in ("denies", "not_of"):
            words = e.get(key, [])
            assert isinstance(words, list) and all(isinstance(d, str) and d for d in words)


def test_every_compute_is_used(entries):
    used = {e["compute"] for e in entries if "compute" in e}
    assert used == set(COMPUTES)


def test_questions_not_duplicated_across_entries(entries):
    seen: dict[str, str] = {}
    for e in entries:
        for text in [e["question"], *e["phrasings"]]:
            key = re.sub(r"[\s？?！!。，,]", "", text)
            assert key not in seen or seen[key] == e["id"], (text, seen.get(key), e["id"])
            seen[key] = e["id"]


# --- no literal facts -----------------------------------------------------------------------


def test_answers_have_no_literal_digits_or_facts(entries, config):
    facts = fact_strings(config)
    for e in entries:
        literal = JINJA_BLOCK.sub("", e["answer"])
        assert not re.search(r"[0-9]", literal), (
            e["id"],
            re.findall(r".{0,8}[0-9].{0,8}", literal),
        )
        for fact in facts:
            assert fact not in literal, (e["id"], fact)


def test_answers_have_no_markdown(entries):
    for e in entries:
        literal = JINJA_BLOCK.sub("", e["answer"])
        assert "**" not in literal and "`" not in literal and "](" not in literal, e["id"]


# --- rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment", NOWS, ids=lambda m: "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}".format(*m)
)
def test_every_answer_renders(entries, config, env, moment):
    now = dt.datetime(*moment, tzinfo=config.tz)
    for e in entries:
        questions = COMPUTE_QUESTIONS[e["compute"]] if e.get("compute") else [e["question"]]
        for question in questions:
            text = render(env, config, e, question, now)
            assert text, (e["id"], question)
            assert "None" not in text, (e["id"], question, text)
            assert len(text.splitlines()) <= 30, e["id"]


# --- content spot checks --------------------------------------------------------------------


def test_makeup_registration(entries, config, env):
    text = render(env, config, by_id(entries, "makeup-registration"))
    assert "10月25日" in text and "26日" in text
    assert "单位管理员" in text
    during = dt.datetime(2022, 10, 25, 9, 0, tzinfo=config.tz)
    assert "还剩2天" in render(env, config, by_id(entries, "makeup-registration"), now=during)


def test_password_entries_show_default_password(entries, config, env):
    for entry_id in ("password-reset-default", "password-forgot", "password-who-resets"):
        assert config.platform.default_password in render(env, config, by_id(entries, entry_id))


def test_category_department_customs_member(entries, config, env):
    text = render(env, config, by_id(entries, "category-department-scope"), "衡阳海关参加哪个考试")
    assert "长沙海关" in text and "衡阳海关" in text


def test_category_department_not_county(entries, config, env):
    entry = by_id(entries, "category-department-scope")
    text = render(env, config, entry, "省科技厅的分类组考包括县里吗")
    assert "省科技厅" in text and "不覆盖县市区" in text
    full = render(env, config, entry, "省卫健委系统参加分类考试吗")
    assert "县市区" in full and "不覆盖" not in full


def test_category_department_unknown_lists_all(entries, config, env):
    text = render(env, config, by_id(entries, "category-department-scope"), "某某局参加分类组考吗")
    for d in config.category_departments:
        assert d.name in text
    assert "衡阳海关" in text


def test_centralized_unit(entries, config, env):
    entry = by_id(entries, "centralized-units")
    named = render(env, config, entry, "市医疗保障局要集中考试吗")
    assert "市医疗保障局" in named and config.centralized.address in named
    unknown = render(env, config, entry, "市财政局参加集中考试吗")
    for unit in config.centralized.units:
        assert unit in unknown
    assert str(len(config.centralized.units)) in unknown


def test_question_department(entries, config, env):
    entry = by_id(entries, "question-department-laws")
    police = render(env, config, entry, "市公安局报什么题")
    assert "禁毒法" in police and "道路交通安全法" in police and "30道" in police
    by_law = render(env, config, entry, "食品安全法由哪个单位出题")
    assert "市市场监督管理局" in by_law
    unknown = render(env, config, entry, "市财政局报什么题")
    for q in config.question_bank:
        assert q.department in unknown


def test_registration_status(entries, config, env):
    entry = by_id(entries, "registration-status")

    def at(*moment):
        return render(env, config, entry, now=dt.datetime(*moment, tzinfo=config.tz))

    during = at(2022, 9, 14, 10, 0)
    assert "分众组考第一次考试报名" in during and "还剩3天" in during and "9月16日" in during
    assert "集中考试预报名" in during
    between = at(2022, 10, 1, 9, 0)
    assert "补考报名" in between and "10月25日" in between and "24天" in between
    after = at(2022, 12, 1, 9, 0)
    assert config.makeup.after in after


def test_zone_rounds_and_sessions(entries, config, env):
    assert "9月13日至16日" in render(env, config, by_id(entries, "zone1-registration"))
    assert "9月19日至22日" in render(env, config, by_id(entries, "zone1-exam"))
    assert "9月23日至26日" in render(env, config, by_id(entries, "zone2-registration"))
    assert "9月27日至30日" in render(env, config, by_id(entries, "zone2-exam"))
    sessions = render(env, config, by_id(entries, "session-times"))
    for s in config.online_sessions:
        assert f"{s.time.hour}:{s.time.minute:02d}" in sessions
    assert "10场" in sessions and "上午5场" in sessions and "晚上2场" in sessions


def test_contacts_split(entries, config, env):
    tech = render(env, config, by_id(entries, "contact-tech"))
    assert config.contacts.tech_phone in tech and config.contacts.tech_qq_group in tech
    assert config.contacts.policy_phone not in tech
    policy = render(env, config, by_id(entries, "contact-policy"))
    assert config.contacts.policy_phone in policy and config.contacts.tech_phone not in policy


def test_study_and_exam_rules(entries, config, env):
    assert "考试的前一天21:00前" in render(env, config, by_id(entries, "study-deadline"))
    eligibility = render(env, config, by_id(entries, "exam-eligibility"))
    assert "60分必修学分" in eligibility and "100分以上" in eligibility
    assert "90分钟" in render(env, config, by_id(entries, "exam-duration"))


def test_exam_count_covers_category_and_zone_rounds(entries, config, env):
    """Issue 15 item 6: "考试考几次" names the category exam's rounds and the zone exam's rounds."""
    from bot.core.render import cn_count
    from faq.engine import engine_for

    for question in ("考试考几次", "一共考几次", "考试总共有几次"):
        best = engine_for(config).rank(question, k=1)[0][0]
        assert best.id == "exam-rounds-overview", (question, best.id)
    text = render(env, config, by_id(entries, "exam-rounds-overview"))
    assert f"{config.category_exam.name}安排{cn_count(config.category_exam.rounds)}次" in text
    assert f"分众组考安排{cn_count(len(config.zone_rounds))}次" in text  # 两次, as it is said
    for label in ("9月19日至22日", "9月27日至30日", "7月1日至8月31日", "10月27日至31日"):
        assert label in text


def test_an_entry_about_one_matter_yields_to_one_the_question_fits(config):
    """Nearly every phrasing of "补考由谁报名" names 补考: a question of who registers that
    never names it ("报考是学员自己报还是管理员统一报") is the regular exams' question."""
    from faq.engine import engine_for

    engine = engine_for(config)
    makeup = engine.index.position["makeup-registered-by"]
    assert "补考" in engine.index.qualifiers[makeup]
    now = dt.datetime(2022, 9, 14, 10, tzinfo=config.tz)
    for question in ("报考是学员自己报还是管理员统一报", "谁负责报考？学员自己报还是管理员报"):
        result = engine.decide(question, now=now)  # in the group: sure enough to answer
        assert result.kind == "answer" and result.entry.id == "exam-registration-who", result
    assert engine.rank("补考是学员自己报还是管理员统一报", k=1)[0][0].id == "makeup-registered-by"


def test_a_law_named_in_a_questions_own_words(config):
    """ "秸秆焚烧那个条例" is the 市农业局's law; a word that several departments' laws share
    ("安全") or one pair alone ("交通") names none."""
    from faq.units import law_in_words

    for words, department in (
        ("秸秆露天焚烧那个条例的题", "市农业局"),
        ("安全生产那块的题", "市应急管理局"),
        ("食品安全的题", "市市场监督管理局"),
    ):
        found = law_in_words(config, words)
        assert found is not None and found[0].department == department, (words, found)
    for words in ("交通不方便去考点", "安全的题", "考试资格", "老年人的题"):
        assert law_in_words(config, words) is None, words
    from faq.engine import engine_for

    engine = engine_for(config)
    now = dt.datetime(2022, 6, 8, 10, 40, tzinfo=config.tz)
    text = engine.decide("秸秆露天焚烧那个条例的题是市生态环境局报吧", now=now).answer_text
    assert text.startswith("不是") and "由市农业局报送" in text, text
