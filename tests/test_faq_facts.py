"""Reading a question before ranking it: normalisation, the facts it states (dates, times,
counts, credits, scores), the answers computed from them, the contacts when the notice is
silent, who a group message is for, and follow-ups in private chat."""

from __future__ import annotations

import datetime as dt

import pytest

from faq import checks, facts, forms, reason, told
from faq.engine import GROUP, PRIVATE, engine_for
from faq.followup import FollowUps
from faq.text import normalise

TODAY = dt.date(2022, 9, 14)  # a Wednesday


@pytest.fixture(scope="module")
def engine(campaign_config):
    return engine_for(campaign_config)


@pytest.fixture
def now(campaign_config):
    return dt.datetime(2022, 9, 14, 10, tzinfo=campaign_config.tz)


def days(question: str, today: dt.date = TODAY) -> list[dt.date]:
    return facts.read(question, today).days


def times(question: str) -> list[dt.time | None]:
    return [s.time for s in facts.read(question, TODAY).times]


# --- normalisation ---------------------------------------------------------------------------


def test_traditional_and_full_width_are_read_as_simplified():
    assert normalise("補考報名是幾號") == "补考报名是几号"
    assert normalise("９月２０號ＡＰＰ") == "9月20号app"


def test_chinese_numerals_become_digits_only_where_they_count():
    assert facts.with_digits("九月二十三号下午三点半") == "9月23号下午3点半"
    assert facts.with_digits("十月二十八补考") == "10月28补考"
    assert facts.with_digits("一百多人") == "100多人"
    # Words with a numeral in them stay words.
    assert facts.with_digits("第一次考试问一下") == "第1次考试问一下"
    assert facts.with_digits("能不能快一点") == "能不能快一点"


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["9.13能报名吗", "9/13能报名吗", "9月13号能报名吗", "九月十三能报名吗", "13号能报名吗", "9-13"],
)
def test_a_day_in_every_usual_form(question):
    assert days(question) == [dt.date(2022, 9, 13)]


def test_relative_days_are_read_against_the_moment_asked():
    assert days("明天能考吗") == [dt.date(2022, 9, 15)]
    assert days("后天呢") == [dt.date(2022, 9, 16)]
    assert days("下周一能考试吗") == [dt.date(2022, 9, 19)]
    assert days("这周五截止吗") == [dt.date(2022, 9, 16)]
    assert days("国庆还能考吗") == [dt.date(2022, 10, 1)]


def test_spans_months_and_years():
    span = facts.read("13号到16号报名对吧", TODAY).dates[0]
    assert (span.day, span.ends) == (dt.date(2022, 9, 13), dt.date(2022, 9, 16))
    week = facts.read("下周还能报名吗", TODAY).dates[0]
    assert (week.day, week.ends) == (dt.date(2022, 9, 19), dt.date(2022, 9, 25))
    month = facts.read("2024年3月退休", TODAY).dates[0]
    assert month.month_only and month.day == dt.date(2024, 3, 1)
    assert days("7月份能考吗") == []  # a month is no day


def test_numbers_that_are_not_dates():
    assert days("衡法办14号文") == []
    assert days("考试时长90分钟") == []
    assert days("技术服务电话0731-84586345") == []


# --- times -----------------------------------------------------------------------------------


def test_times_with_their_part_of_the_day():
    assert times("下午3点半有场次吗") == [dt.time(15, 30)]
    assert times("15:30那场") == [dt.time(15, 30)]
    assert times("晚上8点还有吗") == [dt.time(20, 0)]
    assert times("晚上八点还有吗") == [dt.time(20, 0)]
    assert times("中午12点有没有场次") == [dt.time(12, 0)]
    assert times("4点那场还赶得上不") == [dt.time(16, 0)]  # no exam at 4 a.m.
    assert times("8点半有场次吗") == [dt.time(8, 30)]
    assert times("考试时间是多久") == []


def test_a_time_belongs_to_the_date_before_it():
    read = facts.read("我们报的9月20号考 19号晚上10点前刷完学分行吗", TODAY)
    assert read.days == [dt.date(2022, 9, 20), dt.date(2022, 9, 19)]
    assert read.time_of(read.dates[1]) == dt.time(22, 0)


# --- counts, credits, scores -----------------------------------------------------------------


def test_counts_of_people_and_units():
    about = facts.read("我们单位一百多人 一场能坐下吗", TODAY)
    assert (about.people_about, about.people) == (100, 101)
    assert facts.read("我们单位８５人集中考", TODAY).people == 85
    assert facts.read("县里安排了6个单位集中考", TODAY).units == 6
    assert facts.read("人社局报什么题", TODAY).people is None
    assert facts.read("加起来要考的有150多个", TODAY).people == 150
    counted = facts.read("我们单位一共18个人", TODAY)
    assert (counted.total, counted.people) == (None, 18)  # people, not credits
    assert facts.read("我们单位一百二十来号人", TODAY).people == 121  # 号人: heads


def test_points_of_study_are_no_exam_score():
    """ "学满50分必修": 50 required credits, stated before the word; "必修学满50分" is no score
    and no complete required part; quoting the rule ("60分必修学分指的是…") states nothing."""
    before = facts.read("学满50分必修就能考了吧", TODAY)
    assert (before.required, before.score) == (50, None)
    after = facts.read("必修学满50分能考吗", TODAY)
    assert (after.score, after.required_complete) == (None, False)
    assert facts.read("必修学满了能考吗", TODAY).required_complete
    assert facts.read("60分必修学分指的是哪些内容", TODAY).required is None
    assert facts.read("考了50分能过吗", TODAY).score == 50


def test_credits_and_scores():
    parts = facts.read("必修62 选修40 总共102 可以考试了吧", TODAY)
    assert (parts.required, parts.elective, parts.total) == (62, 40, 102)
    total = facts.read("总学分95了 必修都修满了 能考不", TODAY)
    assert total.total == 95 and total.required_complete and total.score is None
    assert facts.read("考了55分算过了吗", TODAY).score == 55
    assert facts.read("考了五十八分要补考吧", TODAY).score == 58
    assert facts.read("考试时长90分钟", TODAY).score is None


# --- answers computed from the facts ---------------------------------------------------------


def ask(engine, question, now, mode=GROUP):
    return engine.decide(question, mode=mode, now=now)


def test_a_day_against_the_windows(engine, now):
    early = ask(engine, "9月18号能考吗", now).answer_text
    assert early.startswith("不能") and "9月19日" in early
    assert "第一次" in ask(engine, "9月21号考试属于哪一次", now).answer_text
    late = ask(engine, "国庆10月1号还能考吗", now).answer_text
    assert late.startswith("不能") and "10月27日" in late
    closed = ask(engine, "现在报试题还来得及不", now).answer_text
    assert "6月15日" in closed and "截止" in closed
    # on an exam day, "以后还有没有机会" is told what comes after it too
    last_day = now.replace(day=30, hour=16)
    today = ask(engine, "今天是最后一天考试了吧", last_day).answer_text
    assert "10月27日" not in today
    after = ask(engine, "今天是最后一天考试了吧，以后还有没有机会", last_day).answer_text
    assert after.startswith("有") and "10月27日至31日" in after


def test_what_is_open_now_lists_every_window(engine, campaign_config):
    between = dt.datetime(2022, 9, 19, 9, tzinfo=campaign_config.tz)
    text = ask(engine, "今天报名还来得及不", between).answer_text
    assert text.startswith("来不及") and "9月23日" in text and "10月25日" in text


def test_sessions_at_a_time(engine, campaign_config, now):
    noon = ask(engine, "中午12点有没有场次", now).answer_text
    assert noon.startswith("没有") and "10:30" in noon and "15:30" in noon
    evening = dt.datetime(2022, 9, 20, 20, 30, tzinfo=campaign_config.tz)
    over = ask(engine, "今天还有场吗", evening).answer_text
    assert over.startswith("没有") and "20:00" in over
    soon = dt.datetime(2022, 9, 21, 15, tzinfo=campaign_config.tz)
    assert ask(engine, "下午4点那场还赶得上不", soon).answer_text.startswith("来得及")


def test_study_deadline(engine, campaign_config, now):
    late = ask(engine, "我们报的9月20号考 19号晚上10点前刷完学分行吗", now).answer_text
    assert late.startswith("不行") and "9月19日21:00" in late
    in_time = ask(engine, "十月二十八补考 前一天晚上8点修满学分可以不", now).answer_text
    assert in_time.startswith("可以") and "21:00" in in_time


def test_counts_against_the_rules(engine, now):
    assert "2场" in ask(engine, "150人要分几场", now).answer_text
    assert "坐不下" in ask(engine, "我们单位一百多人 一场能坐下吗", now).answer_text
    assert ask(engine, "县里安排了6个单位集中考 够不够", now).answer_text.startswith("够")
    assert ask(engine, "总学分95了 必修都修满了 能考不", now).answer_text.startswith("不能")
    failed = ask(engine, "考了５８分 要参加补考吧", now).answer_text
    assert "不及格" in failed and "10月27日" in failed


def test_a_named_unit_through_attachment_1(engine, now):
    county = ask(engine, "耒阳市公安局参加哪个考试", now).answer_text
    assert "省公安厅" in county and "分类组考" in county
    assert "分众组考" in ask(engine, "县科技局是参加分类还是分众", now).answer_text
    assert "省税务局" in ask(engine, "耒陽市稅務局參加哪個考試", now).answer_text
    duty = ask(engine, "市公安局考分类的话 还要不要报分众的题", now).answer_text
    assert "省公安厅" in duty and "禁毒法" in duty


# --- the notice is silent, or the message is not for us --------------------------------------


def test_platform_problems_get_the_technical_service(engine, campaign_config, now):
    c = campaign_config.contacts
    for question in (
        "人脸识别一直失败怎么办",
        "能用平板考试吗",
        "网站打不开 一直在转圈圈",
        "考试界面是什么样的",
        "调动人员的时候点了没反应",  # a button that does nothing: no rule of 调动 answers it
        "刷了半天学分没涨",
        "换了手机 登不上了",  # no question marker: a login failure asks for help
        "人脸识别老是通不过，上午10点那场卡了好久",  # a fault, not whether 10:00 is a session
    ):
        result = ask(engine, question, now)
        assert result.kind == "contact" and c.tech_phone in result.answer_text, question
        assert c.tech_qq_group in result.answer_text


def test_rules_the_notice_lacks_get_the_policy_phone(engine, campaign_config, now):
    result = ask(engine, "考试能不能翻书", now, mode=PRIVATE)
    assert result.kind == "contact"
    assert campaign_config.contacts.policy_phone in result.answer_text


def test_a_ground_of_exemption_the_notice_does_not_list_is_none(engine, campaign_config, now):
    """The notice's grounds of exemption are all there are: any other ("陪产假", "出差", a
    sickness "不算重大疾病") gets them, that it is not one, and the policy phone."""
    c = campaign_config
    for question in ("陪产假能不能免考", "出差在外地能免考吗", "长期病假但不算重大疾病 能免考不"):
        for mode in (GROUP, PRIVATE):
            reply = ask(engine, question, now, mode=mode).answer_text
            assert reply.startswith("不属于"), (question, mode)
            assert c.contacts.policy_phone in reply and c.exemption.reasons[1] in reply
    listed = ask(engine, "休产假能免考吗", now).answer_text
    assert listed.startswith("可以申请")


def test_a_listed_ground_said_in_other_words_is_never_told_it_is_none(engine, now):
    """ "病重住了ICU", "马上要退了", "怀孕": the notice's own grounds in other words. However weakly
    the ranking matches them, they are never told "不属于通知规定的免考情形"; a leave that only
    holds a ground's word ("陪产假") still is."""
    for question in (
        "单位有个同志病重住了ICU 这种能免吗",
        "同事得了重症 能不能免考",
        "我们局一个老科长马上要退了 免考行不行",
        "有个同事怀孕七个月了 能免考不",
    ):
        assert reason.names_ground(question, now), question
        for mode in (GROUP, PRIVATE):
            reply = ask(engine, question, now, mode=mode).answer_text or ""
            assert not reply.startswith("不属于"), (question, mode)
    assert ask(engine, "同事得了重症 能不能免考", now).answer_text.startswith("可以申请")
    assert not reason.names_ground("我们科长休陪产假 能免考不", now)


def test_a_question_for_a_kind_of_fact_the_entry_lacks_gets_the_contacts(
    engine, campaign_config, now
):
    """ "…什么时候通报" asks for a date and "替考会怎么处理" for a consequence: the rule the
    ranking finds holds neither, so the notice is silent on what was asked."""
    policy = campaign_config.contacts.policy_phone
    for question in ("考试结果什么时候通报", "如果发现有人找人替考，会怎么处理"):
        for mode in (GROUP, PRIVATE):
            result = ask(engine, question, now, mode=mode)
            assert result.kind == "contact" and policy in result.answer_text, (question, mode)
    # The same kinds, asked of entries that give them, are answered.
    dated = ask(engine, "补考什么时候报名", now)
    makeup = campaign_config.makeup.registration.start
    assert dated.kind == "answer" and f"{makeup.month}月{makeup.day}日" in dated.answer_text
    assert ask(engine, "技术服务电话是几号", now).kind == "answer"  # a number, not a day
    assert ask(engine, "补考不合格会怎么样", now).kind == "answer"


def test_a_rule_for_the_negative_of_the_askers_case_is_not_applied(engine, campaign_config, now):
    """The rule is for those who failed the makeup: it says no to one who failed, and nothing
    to one who passed (the notice is silent on that case)."""
    failed = ask(engine, "补考不合格，年度考核还能评优秀吗？", now)
    assert failed.kind == "answer" and failed.answer_text.startswith("不能")
    passed = ask(engine, "补考合格了，年度考核还能评优秀吗", now)
    assert passed.kind == "contact"
    assert campaign_config.contacts.policy_phone in passed.answer_text


def test_the_campaigns_name_is_no_talk_of_studying(engine, campaign_config, now):
    """ "没办法参加在线学法考法" names the campaign, not study: a question on exemption for a
    grave illness gets the ground, not what exempted learners need not study."""
    reply = ask(engine, "同事做了大手术还在住院 没办法参加在线学法考法 能申请免考吗", now)
    assert reply.entry is not None and reply.entry.id == "exemption-illness"
    assert reply.answer_text.startswith("可以申请")


def test_a_level_and_a_kind_alone_name_no_unit():
    from faq.names import unit_mention

    assert unit_mention("考试要求是听市里的还是听省厅的") is None
    assert unit_mention("市妇联参加分类组考吗") == "市妇联"


def test_one_of_two_opposites_where_the_rule_names_the_other_is_a_no(engine, now):
    reply = ask(engine, "人员调出，是不是调出单位管理员去操作异动", now).answer_text
    assert reply.startswith("不是") and "调入单位管理员" in reply
    assert not ask(engine, "人员异动是调入单位管理员操作吧", now).answer_text.startswith("不")
    manuals = ask(engine, "操作手册是不是要登录管理员账号才能下载", now).answer_text
    assert manuals.startswith("不是")


def test_someone_else_named_to_do_what_the_rule_has_another_do_is_a_no(engine, now):
    """Who does it: the asker's own unit, a province-level body or another unit, where the
    rule names the city office (or the city) as the doer or the receiver."""
    for question in (
        "集中考试的最终场次是我们单位自己定吗",
        "试题是直接报给市司法局吗",
        "分众考的题库是省里统一出的吗",
    ):
        assert ask(engine, question, now).answer_text.startswith("不是"), question
    # The rule's own doer is borne out, never denied.
    assert ask(engine, "学习读本是市司法局编的吧", now).answer_text.startswith("是")
    assert ask(engine, "补考是单位管理员报名吧", now).answer_text.startswith("是")


def test_a_place_said_with_li_is_said_by_the_place(engine, now):
    reply = ask(engine, "县里不参加分类组考的单位，参加的是市本级分众组考对吧", now)
    assert reply.answer_text.startswith("是的")


def test_a_zone_rounds_first_day_is_checked_when_other_exams_share_the_day(
    engine, campaign_config, now
):
    zone1 = campaign_config.zone_round(1)
    assert zone1 is not None
    later = zone1.exam.start + dt.timedelta(days=1)
    reply = ask(engine, f"分众考试是不是{later.month}月{later.day}号开始考？", now).answer_text
    assert reply.startswith("不是"), reply
    assert f"{zone1.exam.start.month}月{zone1.exam.start.day}日" in reply


def test_whether_an_exam_is_over_is_answered_as_of_now(engine, campaign_config):
    zone1 = campaign_config.zone_round(1)
    assert zone1 is not None
    before = dt.datetime.combine(zone1.exam.start, dt.time(9), campaign_config.tz)
    after = before + dt.timedelta(days=(zone1.exam.end - zone1.exam.start).days + 1)
    question = "第一次分众考试是不是已经考完了"
    assert ask(engine, question, before - dt.timedelta(days=3)).answer_text.startswith("不是")
    assert ask(engine, question, after).answer_text.startswith("是")


def test_how_to_exempt_a_retiring_learner_is_not_whether_he_may_be(engine, now):
    """ "12月退休…我直接给他在系统上设置免考就行了吧" asks how an exemption is made, not
    whether the retirement date qualifies (which would answer "可以申请")."""
    reply = ask(engine, "老王今年12月份就退休了 我直接给他在系统上设置免考就行了吧", now)
    assert reply.entry is None or reply.entry.id != "exemption-retirement"
    assert not (reply.answer_text or "").startswith("可以申请")


def test_a_matter_the_notice_does_not_rule_on_is_not_computed_past(engine, campaign_config, now):
    """A named unit's centralized exam is computed, but late registration (补报) is nothing the
    notice rules on."""
    unit = campaign_config.centralized.units[0]
    reply = ask(engine, f"我们{unit}集中考试的预报名场次错过了，现在补报还行不行", now)
    assert reply.kind == "contact"
    assert campaign_config.contacts.policy_phone in reply.answer_text


def test_run_on_speech_and_adverbs_are_read_for_what_they_are(engine, campaign_config, now):
    assert engine.detector.has_question_marker("晚上八点半还有一场吧我记得有个八点半的")
    assert ask(engine, "这个如法网还是蛮好用的", now).answer_html is None
    assert ask(engine, "系统又卡了 烦死了", now).answer_html is None
    turned = ask(engine, "免考已经设置好了 但是学员那边还显示要考试", now)
    assert turned.kind == "contact" and campaign_config.contacts.tech_phone in turned.answer_text
    assert ask(engine, "免考已经设置好了", now).answer_html is None  # a report, nothing asked
    fault = ask(engine, "免考已经在系统设置了，学员那边还是显示要学习，怎么回事", now)
    assert fault.kind == "contact"
    assert campaign_config.contacts.tech_phone in fault.answer_text


def test_a_long_message_telling_its_circumstances_is_ranked_by_what_it_asks(
    engine, campaign_config, now
):
    message = "我们单位好几个同志来问我能不能免考 理由五花八门的 通知里到底免考有哪几种情况"
    reply = ask(engine, message, now)
    assert reply.kind == "answer" and reply.entry is not None
    assert reply.entry.id == "exemption-overview"
    assert all(reason in reply.answer_text for reason in campaign_config.exemption.reasons[1:])


def test_a_past_day_told_as_what_happened_is_not_the_day_asked(engine, campaign_config):
    """ "昨天忘记报了，还来得及不" asks of now: the day after the first round's registration
    closed, it is too late (and the next windows follow), whatever happened yesterday."""
    zone1 = campaign_config.zone_round(1)
    assert zone1 is not None
    after = dt.datetime.combine(
        zone1.registration.end + dt.timedelta(days=1), dt.time(10), campaign_config.tz
    )
    reply = ask(engine, "第一次报名还来得及不 我们单位昨天忘记报了", after).answer_text
    assert reply.startswith("来不及"), reply


def test_a_part_of_today_already_begun_and_the_next_exam_after_the_last_session(
    engine, campaign_config
):
    tz, zone1 = campaign_config.tz, campaign_config.zone_round(1)
    assert zone1 is not None
    sessions = campaign_config.online_sessions
    last_morning = max(s.time for s in sessions if s.period == "上午")
    after_morning = dt.datetime.combine(
        zone1.exam.start,
        (dt.datetime.combine(TODAY, last_morning) + dt.timedelta(minutes=15)).time(),
        tz,
    )
    morning = ask(engine, "上午还有场吗", after_morning).answer_text
    assert morning.startswith("没有") and "上午的场次都已开始" in morning
    afternoon = min(s.time for s in sessions if s.period == "下午")
    assert f"{afternoon:%H:%M}" in morning  # what is left today follows
    night = dt.datetime.combine(zone1.exam.end, dt.time(23), tz)
    reply = ask(engine, "今天还有场吗", night).answer_text
    zone2 = campaign_config.zone_round(2)
    assert zone2 is not None and reply.startswith("没有")
    assert f"{zone2.exam.start.month}月{zone2.exam.start.day}日" in reply


def test_a_score_question_gets_its_yes_or_no_first(engine, campaign_config, now):
    passed = campaign_config.exam.pass_mark
    assert ask(engine, f"考了{passed}分算合格吗", now).answer_text.startswith("是的")
    assert ask(engine, f"考了{passed - 2}分能过吗", now).answer_text.startswith("不能")


def test_an_entry_giving_the_kind_of_fact_asked_is_preferred_when_close(engine, now):
    """ "会怎么样" asks for a consequence: the rule on exemptions set without filing gives it,
    the rule on who sets exemptions (ranked a little higher) does not."""
    reply = ask(engine, "没备案就在系统里设了免考会怎么样", now, mode=PRIVATE)
    assert reply.kind == "answer" and reply.entry is not None
    assert reply.entry.id == "exemption-forbidden"


def test_in_private_a_message_mostly_of_words_the_notice_lacks_still_gets_buttons(
    engine, campaign_config, now
):
    """ "考试时间多长 我们有些老同志眼睛花看屏幕吃力" is mostly about failing eyesight, which
    the notice never mentions, but asks the exam's duration: the asker gets the buttons and,
    under them, both contacts. A matter the notice does not rule on still gets the contacts
    alone."""
    reply = ask(engine, "考试时间多长 我们有些老同志眼睛花看屏幕吃力", now, mode=PRIVATE)
    assert reply.kind == "suggest" and "exam-duration" in [e.id for e in reply.choices]
    c = campaign_config.contacts
    assert c.tech_phone in reply.answer_text and c.policy_phone in reply.answer_text
    assert ask(engine, "考试能不能翻书", now, mode=PRIVATE).kind == "contact"


def test_a_runner_up_saying_much_the_same_is_no_rival_in_the_group(engine, campaign_config, now):
    """Who resets a password and what it becomes: two entries whose answers both give the
    default password. A group question close to both is answered, in traditional characters
    too."""
    reply = ask(engine, "學員密碼重置以後是多少", now)
    assert reply.kind == "answer"
    assert campaign_config.platform.default_password in reply.answer_text


def test_facts_told_as_circumstances_are_not_what_is_asked(engine, campaign_config, now):
    """A date, time or count in the part of a message that only tells its circumstances does
    not turn a plain question into a calendar, session or credits answer; a fact in the part
    that asks still does."""
    books = ask(
        engine,
        "我们党组9月8号开会集中学了民法典，顺便问下今年公共必学必考的内容到底是哪两本书",
        now,
    )
    assert books.entry is not None and books.entry.id == "required-books"
    assert all(title in books.answer_text for title in campaign_config.books.titles)
    paper = ask(
        engine,
        "我们镇上想在10月份组织一次年度学法考法的纸质考试，大概60人，要经过哪个部门同意",
        now,
    )
    assert paper.entry is None or paper.entry.id != "registration-status"  # not the calendar
    short = ask(
        engine, "我们有200人集中考 要几场", now
    )  # a short asking piece asks of the one before
    assert short.entry is not None and short.entry.id == "centralized-batching"
    evening = dt.datetime.combine(TODAY, dt.time(10), campaign_config.tz)
    deadline = ask(engine, "我们单位明天考，现在还能刷学分吗", evening)
    assert deadline.entry is not None and deadline.entry.id == "study-deadline"
    seats = ask(engine, "市烟草局这边一共有95个人要参加集中考试，能不能一场就全部考完", now)
    assert seats.entry is not None and seats.entry.id == "centralized-batching"  # not credits


def test_a_missed_exam_is_answered_by_the_makeup(engine, campaign_config):
    last_evening = dt.datetime(2022, 9, 30, 21, tzinfo=campaign_config.tz)
    reply = ask(engine, "错过了今天的考试 还有机会吗", last_evening).answer_text
    makeup = campaign_config.makeup
    assert f"{makeup.exam.start.month}月{makeup.exam.start.day}日" in reply
    assert f"{makeup.registration.start.month}月{makeup.registration.start.day}日" in reply


def test_a_day_of_a_rounds_registration_names_its_exam_days(engine, campaign_config, now):
    zone2 = campaign_config.zone_round(2)
    assert zone2 is not None
    day = zone2.registration.end
    reply = ask(engine, f"{day.month}月{day.day}号报名的人最早哪天能考", now).answer_text
    exam = zone2.exam.start
    assert f"考试{exam.month}月{exam.day}日" in reply


def test_group_questions_by_their_form(engine, now):
    assert ask(engine, "必修62 选修40 总共102 可以考试了吧", now).kind == "answer"
    assert ask(engine, "下属二级单位的学员算不算我们一级单位的通过率", now).kind == "answer"
    for chatter in ("考试太难了吧哈哈", "今天中午食堂吃啥", "我们局长说明天去考"):
        assert ask(engine, chatter, now).answer_html is None, chatter


def test_messages_for_someone_else_get_silence(engine, now):
    for message in (
        "张科长你们单位报了吗",
        "@陈主任 学分统计表发你了",
        "王姐 补考什么时候报名",
        "要是年底考核评不上优秀，奖金会不会少啊？问问人事的老陈",  # turned to him at the end
    ):
        assert ask(engine, message, now).answer_html is None, message
    assert ask(engine, "补考什么时候报名？我问一下", now).kind == "answer"  # asks us
    mentioned = ask(engine, "@管理员 补考什么时候报名", now)
    assert mentioned.kind == "answer"
    # The mention says whom the question is for: 管理员 does not pull it to "who registers".
    assert mentioned.entry is not None and mentioned.entry.id == "makeup-registration"


# --- follow-ups ------------------------------------------------------------------------------


def test_a_follow_up_replaces_the_same_kind_of_word(now):
    follow = FollowUps()
    assert follow.merge("第一次考试什么时候报名", "第二次", now) == "第二次考试什么时候报名"
    assert follow.merge("上午有几场", "下午", now) == "下午有几场"
    assert follow.merge("9月20号能考吗", "21号", now) == "21号能考吗"
    assert follow.merge("市公安局参加哪个考试", "县科技局", now) == "县科技局参加哪个考试"
    assert follow.fragment("那第二次呢") == "第二次"
    assert follow.fragment("补考什么时候报名") is None  # a question of its own


def test_follow_ups_are_per_chat_bounded_and_forgotten(now):
    follow = FollowUps()
    follow.remember(1, "第一次考试什么时候报名", now)
    assert follow.resolve(1, "那第二次呢", now) == "第二次考试什么时候报名"
    assert follow.resolve(2, "那第二次呢", now) == "那第二次呢"  # another chat
    later = now + follow.window + dt.timedelta(minutes=1)
    assert follow.resolve(1, "那第二次呢", later) == "那第二次呢"  # too long ago
    for chat in range(follow.words["max_chats"] + 5):
        follow.remember(chat, "补考什么时候报名", now)
    assert len(follow._last) == follow.words["max_chats"]


def test_the_engine_reads_a_follow_up_in_private_chat(campaign_config, now):
    engine = engine_for(campaign_config)
    first = engine.decide("第一次考试什么时候报名", mode=PRIVATE, now=now, chat=77)
    assert "9月13日" in first.answer_text
    second = engine.decide("那第二次呢", mode=PRIVATE, now=now, chat=77)
    assert second.kind == "answer" and "9月23日" in second.answer_text
    third = engine.decide("补考呢", mode=PRIVATE, now=now, chat=77)
    assert "10月25日" in third.answer_text
    engine.followups.forget(77)


def test_a_window_closes_at_the_hour_register_closes(engine, campaign_config):
    """The one closing-hour rule (bot.core.windows): the FAQ says what /register does."""
    closes = campaign_config.reminders.day_deadline
    last_day = dt.datetime.combine(dt.date(2022, 9, 16), closes, tzinfo=campaign_config.tz)
    before = ask(engine, "现在还能报名第一次考试吗", last_day - dt.timedelta(minutes=30))
    after = ask(engine, "现在还能报名第一次考试吗", last_day + dt.timedelta(minutes=30))
    assert before.answer_text.startswith("可以")
    assert after.answer_text.startswith("不能") and "9月23日" in after.answer_text


def test_can_i_still_register_speaks_of_every_window_at_that_moment(engine, campaign_config):
    """ "还能报名吗" with no date: as of now, every registration window, not only the makeup's."""
    tz = campaign_config.tz
    open_now = ask(engine, "还能报名吗", dt.datetime(2022, 9, 14, 10, tzinfo=tz)).answer_text
    assert open_now.startswith("可以") and "第一次" in open_now
    between = ask(engine, "还能报名吗", dt.datetime(2022, 9, 20, 10, tzinfo=tz)).answer_text
    assert between.startswith("不能") and "9月23日" in between and "10月25日" in between


def test_who_must_take_the_makeup_depends_on_whether_it_is_over(engine, campaign_config):
    """Before the makeup: 可以, with its dates; its registration closed: said so; after its
    last day: 不能, as the notice says (五（三）)."""
    mk = campaign_config.makeup
    tz = campaign_config.tz
    before = dt.datetime.combine(mk.registration.start, dt.time(10), tz)
    between = dt.datetime.combine(mk.exam.start, dt.time(10), tz)
    after = dt.datetime.combine(mk.exam.end + dt.timedelta(days=1), dt.time(10), tz)
    question = "考试没通过能不能补考"
    assert ask(engine, question, before, PRIVATE).entry.id == "makeup-who"
    early = ask(engine, question, before, PRIVATE).answer_text
    assert early.startswith("可以") and "报名已" not in early
    late = ask(engine, question, between, PRIVATE).answer_text
    assert late.startswith("可以") and "补考报名已于" in late
    over = ask(engine, question, after, PRIVATE).answer_text
    assert over.startswith("不能") and mk.after in over


def test_can_i_still_register_gets_its_yes_or_no_first(engine, campaign_config):
    """A yes-or-no question about a registration window ("能报第二次不", "来得及吗") starts
    with the answer for the moment asked: yes until the window has closed, then no; a
    question asking for the dates gets no lead."""
    zone2 = campaign_config.zone_round(2)
    assert zone2 is not None
    tz = campaign_config.tz
    before = dt.datetime.combine(zone2.registration.start - dt.timedelta(days=3), dt.time(10), tz)
    closed = dt.datetime.combine(zone2.registration.end + dt.timedelta(days=1), dt.time(10), tz)
    polar = "第一次报名没报上 能报第二次不"
    assert ask(engine, polar, before, PRIVATE).answer_text.startswith("可以")
    assert ask(engine, polar, closed, PRIVATE).answer_text.startswith("不能")
    facts = ask(engine, "第二次什么时候报名", before, PRIVATE).answer_text
    assert not facts.startswith(("可以", "不能"))
    makeup = campaign_config.makeup.registration
    early = dt.datetime.combine(makeup.start - dt.timedelta(days=10), dt.time(10), tz)
    late = dt.datetime.combine(makeup.end + dt.timedelta(days=1), dt.time(10), tz)
    assert ask(engine, "补考报名还来得及吗", early, PRIVATE).answer_text.startswith("来得及")
    assert ask(engine, "补考报名还来得及吗", late, PRIVATE).answer_text.startswith("来不及")


# --- how a yes-or-no answer starts ------------------------------------------------------------


def test_a_yes_is_said_in_the_form_of_the_question(engine, now):
    """An answer that bears out every fact a yes-or-no question names starts with yes, said
    the way the question asks ("是不是" -> 是的)."""
    assert ask(engine, "考试是不是90分钟", now).answer_text.startswith("是的")


def test_a_number_the_answer_states_otherwise_gets_no(engine, campaign_config, now):
    default = campaign_config.platform.default_password
    for question in ("重置密码是123456吧", "重置后的密码是不是888888"):
        reply = ask(engine, question, now).answer_text
        assert reply.startswith("不是") and default in reply, question
    assert ask(engine, "考试是不是60分钟", now, PRIVATE).answer_text.startswith("不是")
    assert checks.quantities("90分钟，共30道，密码000000，9月13日") == {
        ("90", "分钟"),
        ("30", "道"),
        ("000000", ""),
        ("9", "月"),
        ("13", "日"),
    }


def test_a_premise_the_rule_denies_gets_no(engine, now):
    """ "学员自己报" where the unit's administrator registers, "重新注册" where the original
    account is changed over: no "是的" for a question that names a part the answer never says."""
    for question in ("管理员换人了 新管理员自己重新注册个账号就行吧", "学员可以自己报名补考吗"):
        reply = ask(engine, question, now, PRIVATE).answer_text
        assert reply.startswith(("不能", "不是", "不用")), question
        assert not reply.startswith("是的")
    told = ask(engine, "补考是不是单位管理员报名", now).answer_text
    assert told.startswith("是的")


def test_greetings_to_the_group_and_plans_with_a_time_get_silence(engine, now):
    for chatter in ("晚上好各位", "谢谢各位领导", "晚上8点老地方见", "下午3点开会"):
        assert ask(engine, chatter, now).answer_html is None, chatter
    assert ask(engine, "大家好，请问补考什么时候报名", now).kind == "answer"
    assert ask(engine, "补考报名时间", now).kind == "answer"


def test_described_platform_faults_get_the_technical_service_in_the_group(
    engine, campaign_config, now
):
    tech = campaign_config.contacts.tech_phone
    for problem in (
        "学员说视频看完了学分没加上",
        "有个学员身份证号提示已注册 账号被别人占了",
        "刚考完成绩显示0分 是不是系统出问题了",  # a fault, not a question about a score
    ):
        result = ask(engine, problem, now)
        assert result.kind == "contact" and tech in result.answer_text, problem
    # "能不能用" asks whether something may be used: a rule, not a fault of the platform.
    rule = ask(engine, "去年多修的学分今年能不能用", now)
    assert rule.kind == "contact"
    assert campaign_config.contacts.policy_phone in rule.answer_text
    assert tech not in rule.answer_text


def test_an_exempted_learner_earns_no_credits_whatever_else_the_question_says(engine, now):
    for question in (
        "老张2024年11月退休 今年给他免考的话他还要看视频挣学分不",
        "免考的还要刷学分不",
    ):
        reply = ask(engine, question, now).answer_text
        assert reply.startswith("不需要"), question


def test_dialect_words_for_how_many(engine, campaign_config, now):
    reply = ask(engine, "依法治市办政策咨询电话是好多", now).answer_text
    assert campaign_config.contacts.policy_phone in reply


def test_a_countys_bureau_is_not_the_citys_namesake(engine, now):
    """ "衡东县教育局" belongs to the provincial education system's exam; the question-bank duty
    of 市教育局 is the city's bureau's, not the county's."""
    reply = ask(engine, "衡东县教育局呢", now, PRIVATE).answer_text
    assert "省教育厅" in reply and "分类" in reply
    assert "未成年人保护法" not in reply
    assert ask(engine, "衡东县教育局呢", now).answer_html is None  # a fragment, in the group
    city = ask(engine, "市教育局报什么题", now, PRIVATE).answer_text
    assert "未成年人保护法" in city


def test_a_number_is_checked_against_the_clause_about_its_subject(engine, now):
    """ "公共试题是占60%吧": the answer gives 60% too, for the other share; the clause about
    公共试题 says 40%. An hour is 60 minutes."""
    shares = ask(engine, "公共试题是占60%吧", now).answer_text
    assert shares.startswith("不是") and "40%" in shares
    assert ask(engine, "考试是一个小时吧？", now).answer_text.startswith("不是")
    assert checks.quantities("两场共3小时") == {("180", "分钟")}


def test_the_exam_a_question_proposes_for_a_unit_is_confirmed_or_denied(engine, now):
    provincial = ask(engine, "县法院要参加分众考吗", now).answer_text
    assert provincial.startswith("不用") and "省高院" in provincial
    assert ask(engine, "市委网信办考分众吧", now).answer_text.startswith("不是")
    city = ask(engine, "县科技局考分众吧", now).answer_text  # 省科技厅 covers no county
    assert city.startswith("是的") and "分众" in city


def test_counts_and_dates_against_the_rules_say_yes_or_no_first(engine, now):
    assert ask(engine, "集中考每场能坐100人吧", now).answer_text.startswith("不能")
    assert ask(engine, "每场考试是一个钟头吧", now).answer_text.startswith("不是")
    assert ask(engine, "50人一场坐得下吗", now).answer_text.startswith("可以，坐得下")
    too_many = ask(engine, "我们公司要考的有一百五十多个，集中考试一场装得下不", now).answer_text
    assert too_many.startswith("不行，一场坐不下")
    assert ask(engine, "2025年3月退休的能免考吗", now).answer_text.startswith("不能")
    assert ask(engine, "2024年3月退休的能免考吗", now).answer_text.startswith("可以")


def test_the_first_or_last_day_of_a_window(engine, campaign_config, now):
    zone1 = campaign_config.zone_round(1)
    assert zone1 is not None
    start = zone1.exam.start
    wrong = ask(engine, f"第一次考试是{start.month}月{start.day + 1}号开始吧", now).answer_text
    assert wrong.startswith("不是") and f"从{start.month}月{start.day}日开始" in wrong
    right = ask(engine, f"第一次考试是{start.month}月{start.day}号开始吗", now).answer_text
    assert right.startswith("是的")
    makeup = campaign_config.makeup.registration.end
    late = ask(engine, f"补考报名{makeup.month}月{makeup.day + 1}号截止吗", now).answer_text
    assert late.startswith("不是") and f"{makeup.month}月{makeup.day}日截止" in late


def test_the_clause_that_answers_is_the_one_about_the_subject(engine, now):
    """ "单选题要报30道吗": 30道 is the total; the clause about 单选 says 20. "多选要报10道吧"
    is right."""
    assert ask(engine, "单选题要报30道吗", now).answer_text.startswith("不是")
    assert ask(engine, "多选要报10道吧", now).answer_text.startswith("要")


def test_the_pass_mark_asked_is_not_a_score_someone_got(engine, now):
    mark = ask(engine, "及格线是80分吧", now).answer_text
    assert mark.startswith("不是") and "60分" in mark
    assert "不及格" in ask(engine, "考了58分算过吗", now).answer_text
    assert ask(engine, "满分是150分吗", now).answer_text.startswith("不是")


def test_a_score_asked_of_the_makeup_is_answered_for_the_makeup(engine, now):
    """A fail is the makeup's yes ("考了58分还能补考吗": 可以), a pass its no; a score told to
    ask about sitting again to score higher is not judged: the notice has no such rule."""
    assert ask(engine, "考了58分还能补考吗", now).answer_text.startswith("可以")
    assert ask(engine, "考了58分要补考吗", now).answer_text.startswith("要")
    passed = ask(engine, "考了65分要补考吗", now).answer_text
    assert passed.startswith("不用") and "不用补考" in passed
    assert ask(engine, "考了58分算过吗", now).answer_text.startswith("不是")
    again = ask(engine, "同事考了62分及格了嫌低，能不能再考一次提高分数", now)
    assert again.entry is None or again.entry.id != "exam-score" or again.kind != "answer"


def test_a_question_naming_the_remedy_gets_its_yes_when_the_check_fails(engine, now):
    """ "100人要分批吗": too many for a session is the batching's yes; "90分要补学吗": too few
    credits is the studying's yes."""
    assert ask(engine, "我们100人集中考试要分批吗", now).answer_text.startswith("要")
    assert ask(engine, "我们50人集中考试要分批吗", now).answer_text.startswith("不用")
    assert ask(engine, "我们50人集中考试一场坐得下吗", now).answer_text.startswith("可以")
    assert ask(engine, "总学分90分要补学吗", now).answer_text.startswith("要")
    # whether to go at all is the list's to say, not the seats'
    assert not ask(engine, "我们单位3个人也要去电大考吗", now).answer_text.startswith("要")
    assert ask(engine, "总学分90分能参加考试吗", now).answer_text.startswith("不能")


def test_a_day_named_before_a_window_is_not_yet_in_it(engine, now):
    """ "9月22号还能报第二次吗": that day is before the window, so no, though asked today the
    window is still to come."""
    before = ask(engine, "9月22号还能报第二次吗", now).answer_text
    assert before.startswith("不能") and "还差1天" in before
    assert ask(engine, "9月27号还能报第二次吗", now).answer_text.startswith("不能")
    assert ask(engine, "第二次还能报吗", now).answer_text.startswith("可以")


def test_today_after_the_last_session_began_is_no_chance_to_sit(engine, now):
    """At 20:10 on an exam day every session has begun: "今天还能考吗" is a no, with the next
    day's first session; at 19:10 the evening sessions are still to come."""
    late = ask(engine, "今天还能考吗", now.replace(day=20, hour=20, minute=10)).answer_text
    assert late.startswith("不能") and "9月21日还有10场，第一场8:30" in late
    evening = ask(engine, "今天还能考吗", now.replace(day=20, hour=19, minute=10)).answer_text
    assert evening.startswith("可以") and "19:30，20:00" in evening


def test_asked_whether_a_deadline_is_over(engine, now):
    early = ask(engine, "试题报送截止了没", now.replace(month=6, day=10)).answer_text
    assert early.startswith("不是") and "今天还在期限内" in early
    late = ask(engine, "试题报送截止了没", now.replace(month=6, day=20)).answer_text
    assert late.startswith("是的") and "已截止" in late


def test_a_clock_time_is_no_score_and_the_makeup_has_no_sessions_in_the_notice(engine, now):
    """ "现在9点10分，下一场是几点": 9:10, not a score of 10; the makeup's sessions are not the
    zone exam's (the notice does not give them: the policy phone)."""
    at = now.replace(day=20, hour=9, minute=10)
    assert facts.read("现在9点10分，下一场是几点的", at.date()).score is None
    assert "9:30" in ask(engine, "现在9点10分，下一场是几点的", at).answer_text
    for message in ("补考每天有几场？几点开始", "补考晚上8点有场次吗"):
        reply = ask(engine, message, now)
        assert reply.kind == "contact" and "19:30" not in reply.answer_text, message


def test_a_session_asked_as_the_days_last_or_first(engine, now):
    last = ask(engine, "今晚8点那场是最后一场吧", now.replace(day=21)).answer_text
    assert last.startswith("是的") and "最后一场是20:00" in last
    assert ask(engine, "晚上7点半是最后一场吗", now).answer_text.startswith("不是")
    assert ask(engine, "8点半是第一场吧", now).answer_text.startswith("是的")
    assert ask(engine, "早上9点是第一场吗", now).answer_text.startswith("不是")


def test_a_deed_done_for_the_learner_is_no_premise_of_the_learner_doing_it(engine, now):
    """ "管理员能帮学员报考吗" holds no "学员报" (the rule denies learners registering), and
    sitting the exam for someone is a matter the notice does not rule on."""
    assert not ask(engine, "管理员能帮学员报考吗", now).answer_text.startswith("不")
    assert ask(engine, "学员自己报名可以吗", now).answer_text.startswith("不能")
    assert ask(engine, "管理员能帮学员考吗", now).kind == "contact"


def test_a_weekend_is_its_saturday_and_sunday(engine, now):
    wednesday = now.replace(day=21)
    weekend = facts.read("这周末有考试吗", wednesday.date()).dates[0]
    assert (weekend.day, weekend.ends) == (dt.date(2022, 9, 24), dt.date(2022, 9, 25))
    assert ask(engine, "这周末有考试吗", wednesday).answer_text.startswith("没有")
    later = facts.read("下周末能考吗", wednesday.date()).dates[0]
    assert later.day == dt.date(2022, 10, 1)
    saturday = now.replace(day=24)
    assert ask(engine, "周末能报名不", saturday).answer_text.startswith("可以")


def test_a_clock_time_asked_of_a_rule_of_days_gets_the_contacts(engine, now):
    """The notice gives the makeup's and the registrations' days, not their hours."""
    for message in ("补考几点开始", "几点截止报名"):
        reply = ask(engine, message, now)
        assert reply.kind == "contact" and "21:00" not in reply.answer_text, message
    assert "8:30" in ask(engine, "每天几点开考", now).answer_text
    assert "21:00" in ask(engine, "考前一天几点前要学完", now).answer_text


def test_after_the_makeup_there_is_no_exam(engine, now):
    reply = ask(engine, "补考完了还能考吗", now).answer_text
    assert reply.startswith("不能") and "补考工作结束后不再进行在线考试" in reply


def test_a_condition_that_no_longer_holds_or_holds_the_other_way(engine, now):
    """A maternity leave that is over is no ground ("产假结束了还能免考吗": 不能); a makeup passed
    is not the rule on those who failed it (及格 is 合格); the notice says nothing of 通报."""
    assert ask(engine, "产假结束了还能免考吗", now).answer_text.startswith("不能")
    assert ask(engine, "休产假的可以免考吧", now).answer_text.startswith("可以申请")
    assert ask(engine, "补考及格了能评优秀吗", now).kind == "contact"
    assert ask(engine, "补考没及格还能评优秀吗", now).answer_text.startswith("不能")
    assert ask(engine, "考试不及格会通报吗", now).kind == "contact"


def test_a_county_exam_is_not_the_citys_centralized_exam(engine, now):
    """The county's centralized exams are at its own centres, not at the city's address; a
    listed unit asking where it sits the exam gets no yes before the place."""
    county = ask(engine, "县里集中考试在哪里考", now).answer_text
    assert "广播电视大学" not in county and "学法考法中心" in county
    listed = ask(engine, "市医保局集中考试在哪考", now).answer_text
    assert not listed.startswith("要") and "广播电视大学" in listed


def test_credits_asked_whether_enough_are_answered_enough_or_not(engine, now):
    short = ask(engine, "必修学了60分选修20分够了吗", now).answer_text
    assert short.startswith("不够") and "还差20分" in short
    assert ask(engine, "必修学了60分选修50分够了吗", now).answer_text.startswith("够了")
    assert ask(engine, "必修要80分吧", now).answer_text.startswith("不是")


def test_a_deadline_told_and_today_asked(engine, campaign_config, now):
    """ "报题截止是15号，我们今天才交，还收不收": the 15th is the rule's day, told; today is asked,
    which is past it, and what happens when late is for the policy phone."""
    june = now.replace(month=6, day=16)
    reply = ask(engine, "报题截止是15号，我们今天才交，还收不收", june).answer_text
    assert reply.startswith("不是") and "已截止" in reply
    assert campaign_config.contacts.policy_phone in reply
    open_now = ask(engine, "16号截止，今天还能报吗", now.replace(day=15)).answer_text
    assert open_now.startswith("可以") and campaign_config.contacts.policy_phone not in open_now


def test_a_day_asked_with_before_or_after(engine, now):
    """ "国庆前还有考试吗" on 9月25日: the days up to 9月30日 hold the second round; "国庆以后"
    holds only the makeup."""
    sunday = now.replace(day=25)
    before = ask(engine, "国庆前还有考试吗", sunday).answer_text
    assert before.startswith("有") and "9月27日至30日" in before and "正在进行" not in before
    after = ask(engine, "国庆以后还有考试吗", sunday).answer_text
    assert after.startswith("有") and "10月27日至31日" in after and "9月27日" not in after
    assert ask(engine, "国庆后还能考吗", sunday).answer_text.startswith("可以")


def test_the_exam_paper_is_not_the_question_bank_submission(engine, now):
    """The notice gives what each department submits (30 questions), not how many an exam
    paper holds; the question bank is the city's own, compiled by 市司法局."""
    assert ask(engine, "考试有多少道题", now).kind == "contact"
    assert "30道" in ask(engine, "每个单位报几道题", now).answer_text
    assert "市司法局" in ask(engine, "题库谁出的", now).answer_text


def test_an_age_is_never_told_it_is_no_ground(engine, now):
    """An age says nothing the notice rules on (it counts the time to retirement): never "不属于"."""
    reply = ask(engine, "今年58岁能免考吗", now)
    assert not (reply.answer_text or "").startswith("不属于")
    assert ask(engine, "感冒了能免考吗", now).answer_text.startswith("不属于")


def test_an_administrators_own_password_is_not_a_learners(engine, now):
    """The notice says how a learner's password is found or reset, not an administrator's."""
    assert ask(engine, "单位管理员自己的密码忘了怎么办", now).kind == "contact"
    assert "忘记密码" in ask(engine, "学员密码忘了怎么办", now).answer_text


def test_a_months_end(engine, now):
    october = now.replace(month=10, day=20)
    assert facts.read("月底还能考吗", october.date()).days == [dt.date(2022, 10, 31)]
    reply = ask(engine, "月底前还能报名吗", october).answer_text
    assert reply.startswith("可以") and "补考报名" in reply
    assert facts.read("下个月底", dt.date(2022, 12, 5)).days == [dt.date(2023, 1, 31)]


def test_a_month_of_next_year(engine, now):
    assert days("明年3月退休") == [] and facts.read("明年3月退休", TODAY).dates[0].day.year == (
        TODAY.year + 1
    )
    assert "2023年3月" in ask(engine, "明年3月退休能免考吗", now).answer_text


def test_years_left_to_retirement(engine, now):
    late = ask(engine, "离退休还有两年半，能申请免考吗", now).answer_text
    assert late.startswith("不能") and "约" in late
    assert ask(engine, "还有一年半退休 能免考吗", now).answer_text.startswith("可以")
    assert reason.months_to("离退休还有2年半") == 30
    assert reason.months_to("还差1年03个月退休") == 15
    assert reason.months_to("再过18个月退休") == 18


def test_a_described_fault_quoting_the_platform_is_no_report_of_work_done(
    engine, campaign_config, now
):
    reply = ask(engine, "系统显示账号已在其他设备登录", now)
    assert reply.kind == "contact" and campaign_config.contacts.tech_phone in reply.answer_text


def test_a_true_premise_gets_yes_and_the_deadline_hour_itself_is_in_time(engine, now):
    for question in ("每个单位报30道题吧", "公共试题占40%吗", "重置后密码是000000吧"):
        assert ask(engine, question, now).answer_text.startswith("是的"), question
    evening = ask(engine, "考试前一天晚上9点前要学完吧", now).answer_text
    assert evening.startswith("可以") and "早于" not in evening and "正是截止时间" in evening


def test_a_phone_number_stated_otherwise_is_not_the_contacts(engine, campaign_config, now):
    phone = campaign_config.contacts.policy_phone
    assert ask(engine, f"政策咨询电话是{phone}对吧", now).answer_text.startswith("是的")
    wrong = phone[:-1] + str((int(phone[-1]) + 1) % 10)
    assert ask(engine, f"政策咨询电话是{wrong}吧", now).answer_text.startswith("不是")


def test_a_weakly_matched_ground_of_exemption_gets_the_grounds(engine, now):
    reply = ask(engine, "普通感冒请了两天病假，这种能申请免考不", now).answer_text
    assert reply.startswith("不属于")
    process = ask(engine, "免考怎么申请", now).answer_text  # not a yes-or-no question
    assert not process.startswith("不属于")


def test_a_centralized_unit_may_not_sit_the_exam_online_on_its_own(engine, now):
    alone = ask(engine, "市机关事务局的人能各自在办公室网上考吗", now).answer_text
    assert alone.startswith("不能") and "集中考试" in alone
    assert ask(engine, "市机关事务局要参加集中考试吗", now).answer_text.startswith("要")
    # a category unit asking whether its exam is still on is told it is over, and of the makeup
    over = ask(engine, "县税务局还有人没参加分类考试，现在还能在分类里考吗", now.replace(day=2))
    assert over.answer_text.startswith("不能") and "10月27日至31日" in over.answer_text
    assert "分众组考" not in over.answer_text and "集中考试" not in over.answer_text
    # a listed unit asking of a day is told of the day, not that it is on the list
    late = now.replace(day=17)
    reply = ask(engine, "市公交公司集中考试预报名冇报，今天报还行不", late).answer_text
    assert reply.startswith("不能") and "已截止" in reply


def test_premises_of_written_applications_and_whole_categories(engine, now):
    assert ask(engine, "免考申请口头说一声就可以了吧", now).answer_text.startswith("不")
    assert ask(engine, "市直单位是不是统统都参加市本级分众考", now).answer_text.startswith("不是")


def test_dialect_and_platform_faults_by_address(engine, campaign_config, now):
    assert "优秀" in ask(engine, "补考冇过会么样", now).answer_text
    fault = ask(engine, "hn.12348.gov.cn一直转圈打不开", now)
    assert fault.kind == "contact" and campaign_config.contacts.tech_phone in fault.answer_text


def test_a_rule_with_an_exception_reads_whether_the_question_meets_it(engine, now):
    """Paper exams need the city office's consent; a unit of a category exam needs its
    provincial department's, not the city's, to sit the city's exam."""
    consented = ask(engine, "市委依法治市办同意的话能组织纸质考试吗", now).answer_text
    assert consented.startswith("可以")
    assert ask(engine, "我们想线下发卷子考一下行不行", now).answer_text.startswith("不能")
    city = ask(engine, "分类组考的单位经市里同意就能考分众吧", now).answer_text
    assert city.startswith("不") and "省级" in city


@pytest.mark.parametrize(
    "message",
    [
        "报名的事我去问下领导",  # asking someone else, later
        "9月19号我们单位统一考",  # the speaker's own plan
        "今晚八点有没有人一起刷学分",  # an invitation
        "考试的事情下午再说吧",
        "10月份国庆放假安排出来了吗",
        "你们单位今天考了几个人",  # for the other members
        "学习强国积分怎么一直不涨",  # another app's credits
        "考试题目好多是民法典的",  # a remark, no question
        "楼上说得对，是9月19号开考",  # agreeing with another member
        "大家记得21点前修满学分",  # a reminder to the group
        "有没有哪个单位已经考完了，难不难",  # other units' experience
    ],
)
def test_plans_invitations_and_asides_get_silence(engine, now, message):
    assert ask(engine, message, now).answer_html is None


def test_questions_in_the_first_person_are_still_questions(engine, now):
    for question in (
        "我们单位补考什么时候报名",
        "我想问下补考什么时候报名",
        "补考报名时间",
        "我们单位补考报名时间",  # a keyword phrase that ends in what it wants to know
        "学习强国和如法网都要学吗",
    ):
        assert ask(engine, question, now).kind == "answer", question


def test_still_possible_is_answered_for_the_moment_asked(engine, campaign_config):
    tz = campaign_config.tz
    zone2 = campaign_config.zone_round(2)
    assert zone2 is not None
    closed_tonight = dt.datetime.combine(zone2.registration.end, dt.time(21, 30), tz)
    tonight = ask(engine, "今晚还能报名吗", closed_tonight).answer_text
    assert tonight.startswith("不能") and "第二次" in tonight and "今天" in tonight
    makeup = campaign_config.makeup.exam
    early = dt.datetime.combine(makeup.start - dt.timedelta(days=30), dt.time(10), tz)
    late = dt.datetime.combine(makeup.end + dt.timedelta(days=5), dt.time(10), tz)
    assert ask(engine, "补考还能考吗", early).answer_text.startswith("可以")
    assert ask(engine, "补考还能考吗", late).answer_text.startswith("不能")
    assert ask(engine, "今天能考补考吗", early).answer_text.startswith("不能")
    after = ask(engine, "补考没过还能考吗", late).answer_text  # the rule after the makeup
    assert after.startswith("不能") and campaign_config.makeup.after in after


@pytest.mark.parametrize(
    ("question", "unit", "expected"),
    [
        ("县团委参加什么考试", "县团委", "团省委"),  # 团委 is the youth league's system
        ("市中级人民法院考哪个", "市中级人民法院", "省高院"),  # 中级 is part of the name
        ("县妇联考什么", "县妇联", "分众"),  # not in attachment 1
    ],
)
def test_units_of_every_kind_resolve_through_attachment_1(engine, now, question, unit, expected):
    reply = ask(engine, question, now).answer_text
    assert unit in reply and expected in reply


def test_an_answer_computed_from_the_askers_numbers_is_not_refuted_by_them(engine, now):
    """ "我们县8个单位可以搞集中组考吗": the answer restates 8 and the rule's 5; it says yes."""
    enough = ask(engine, "我们县8个单位可以搞集中组考吗", now).answer_text
    assert enough.startswith("可以") and "不是" not in enough
    assert ask(engine, "我们县3个单位可以搞集中组考吗", now).answer_text.startswith("不能")
    # A look-up restates nothing of the asker's: its clause about 单选 says 20.
    assert ask(engine, "市民政局报十道单选就够了吧", now).answer_text.startswith("不是")


def test_is_it_over_is_answered_the_right_way_round(engine, campaign_config):
    tz = campaign_config.tz
    zone1 = campaign_config.zone_round(1)
    assert zone1 is not None
    during = dt.datetime.combine(zone1.registration.start, dt.time(10), tz)
    after = dt.datetime.combine(zone1.registration.end + dt.timedelta(days=2), dt.time(10), tz)
    assert ask(engine, "报名截止了吗", during).answer_text.startswith("不是")
    assert ask(engine, "第一次报名截止了吗", during).answer_text.startswith("不是")
    assert ask(engine, "第一次报名截止了吗", after).answer_text.startswith("是的")
    assert ask(engine, "补考结束后还能考吗", during).answer_text.startswith("不能")


def test_a_rule_said_in_the_negative_answers_no(engine, now):
    """ "二级及以下单位管理员不须进群" answers "二级单位的管理员要进群吗" with no; a question
    that is itself negative is not turned round."""
    assert ask(engine, "二级单位的管理员要进群吗", now).answer_text.startswith("不用")
    negative = ask(engine, "二级单位管理员不用进群吧", now).answer_text
    assert not negative.startswith(("不用", "不是", "不能"))


def test_still_time_tonight_is_counted_from_the_moment_asked(engine, campaign_config):
    zone1 = campaign_config.zone_round(1)
    assert zone1 is not None
    eve = zone1.exam.start - dt.timedelta(days=1)
    tz = campaign_config.tz
    early = dt.datetime.combine(eve, dt.time(20), tz)
    late = dt.datetime.combine(eve, dt.time(21, 30), tz)
    assert ask(engine, "明天考试今晚还能刷学分吗", early).answer_text.startswith("可以")
    assert ask(engine, "明天考试今晚还能刷学分吗", late).answer_text.startswith("不行")


def test_a_law_the_answer_does_not_name_gets_no(engine, now):
    assert ask(engine, "市住建局报题是禁毒法吗", now).answer_text.startswith("不是")
    assert ask(engine, "市教育局报禁毒法的题吧", now).answer_text.startswith("不是")
    assert ask(engine, "市公安局报的是禁毒法吧", now).answer_text.startswith("是的")


def test_a_day_after_a_window_is_past_it_even_before_it_starts(engine, now):
    reply = ask(engine, "集中考试能选9月25号吗", now).answer_text
    assert reply.startswith("不能") and "还没开始" not in reply and "已结束" in reply


def test_only_the_facts_an_answer_is_computed_from_count_in_the_part_that_asks(engine, now):
    """A computed answer stands on the facts it is computed from, said where the message asks:
    a meeting's time told in passing makes no session answer, a count in the piece just before
    the question is the count asked about, and "现在" after a told circumstance is the moment."""
    site = ask(engine, "平台网址是多少，我们局明天上午9点开会要用", now)
    assert not (
        site.kind == "answer" and site.entry is not None and site.entry.id in told.FROM_FACTS
    )
    seats = ask(engine, "我们处室62人，集中考一场坐得下吗", now)
    assert seats.entry is not None and seats.entry.id == "centralized-batching"
    assert seats.answer_text.startswith("可以") and "62人" in seats.answer_text
    late = ask(engine, "我们县的集中组考安排还没交，现在交还来得及不", now)
    assert late.entry is not None and late.entry.id == "registration-status"
    assert late.answer_text.startswith("来不及")


def test_a_count_asked_after_is_no_count_stated():
    assert facts.read("通知里的联系人是哪两位", TODAY).people is None
    assert facts.read("要报哪几个单位", TODAY).units is None
    assert facts.read("我们两位联系人都在", TODAY).people == 2


def test_a_month_named_and_both_rounds_missed_get_the_makeup(engine, campaign_config, now):
    """Naming both zone rounds names neither; "10月还能考吗" asks of October, not of today."""
    makeup = campaign_config.makeup.exam.start
    for question in (
        "他第一次第二次都没考，10月还能考吗",
        "第一轮第二轮都没赶上，10月份还有考试吗",
    ):
        reply = ask(engine, question, now).answer_text
        assert f"{makeup.month}月{makeup.day}日" in reply, question
        assert not reply.startswith(("不能", "不是", "没有")), question


def test_a_day_told_of_an_exemption_is_no_calendar_question(engine, now):
    reply = ask(engine, "她7月5号生的孩子现在休产假能申请免考吗", now)
    assert reply.entry is not None and reply.entry.id.startswith("exemption")


def test_a_day_done_wrong_is_not_a_month_asked(engine, campaign_config):
    zone1 = campaign_config.zone_round(1)
    assert zone1 is not None
    day_after = zone1.registration.end + dt.timedelta(days=1)
    after = dt.datetime.combine(day_after, dt.time(10), campaign_config.tz)
    reply = ask(engine, "第一次报名还来得及不 我们单位昨天忘了报", after).answer_text
    assert reply.startswith("来不及")
    assert "月30日" not in reply.split("接下来")[0]  # no month from "昨天"


def test_whether_a_count_fits_is_no_claim_to_refute(now):
    rule = "集中考试每场最多可容纳80人考试"
    assert not checks.refutes("75人一场坐得下吗", rule, now)
    assert checks.refutes("一场能坐70人吗", rule, now)


def test_a_category_units_rules_come_from_its_provincial_department(engine, now):
    reply = ask(engine, "我们是衡南县卫健局，组考的具体要求听谁的", now).answer_text
    assert "省级部门" in reply and "省卫健委" in reply
    assert "同意" in reply  # joining the city's exam needs the department's consent


def test_must_he_still_take_part_is_answered_the_right_way_round(engine, now):
    """Near retirement, "还要学习考试吗" is answered by the exemption the other way round from
    "能免考吗"; the retirement month told before the question is the one read."""
    soon = ask(engine, "科里老李今年11月退休，现在还要学习考试吗", now).answer_text
    assert soon.startswith("申请免考后就不用了") and "可以申请免考" in soon
    later = ask(engine, "老李2026年5月退休还要考试吗", now).answer_text
    assert later.startswith("要") and "不符合" in later
    assert ask(engine, "老李今年11月退休能免考吗", now).answer_text.startswith("可以")


def test_not_on_attachment_1_is_not_taking_a_category_exam(engine, now):
    """Attachment 1 lists the units taking a provincial category exam: not being on it is the
    notice's premise "不参加分类组考"; asking whether a unit is on it states nothing."""
    assert "不参加分类组考" in normalise("我们单位不在附件1名单里")
    assert normalise("市文旅局在不在分类名单里") == "市文旅局在不在分类名单里"
    reply = ask(engine, "我们单位没在附件1里，是不是参加市本级分众组考", now).answer_text
    assert reply.startswith("是的") and "分众组考" in reply


def test_a_closed_registration_names_the_chance_still_to_come(engine, campaign_config):
    """ "第一次还能报吗" after the first round's registration: no, and the second round's; after
    the second's, the makeup's. The makeup's own answer gives its exam days too."""
    c, tz = campaign_config, campaign_config.tz
    second, makeup = c.zone_round(2), c.makeup
    between = dt.datetime.combine(c.zone_round(1).registration.end, dt.time(9), tz)
    between += dt.timedelta(days=1)
    reply = ask(engine, "第一次还能报名吗", between).answer_text
    assert reply.startswith("不能") and f"{second.registration.start.day}日" in reply
    after = dt.datetime.combine(second.registration.end + dt.timedelta(days=2), dt.time(9), tz)
    reply = ask(engine, "第二次报名是哪几天", after).answer_text
    assert "已结束" in reply and f"{makeup.registration.start.month}月" in reply
    later = dt.datetime.combine(makeup.registration.end + dt.timedelta(days=1), dt.time(9), tz)
    reply = ask(engine, "第一次报名是哪几天", later).answer_text
    assert "补考：" not in reply and "还可以报第二次" not in reply
    plain = ask(engine, "补考报名是哪几天", between).answer_text
    assert f"{makeup.exam.end.day}日" in plain


def test_a_unit_told_before_another_question_is_no_which_exam_question(engine, now):
    """ "县卫健局有个医生没参加考法，年度考核还能评等次吗" tells the unit and asks of the
    appraisal: not which exam 县卫健局 takes. Asked of the unit or its exam, it still is."""
    for question in (
        "县卫健局有个医生没参加考法，年度考核还能评等次吗",
        "县教育局有个老师考试没及格，年度考核会不会受影响",
    ):
        for mode in (GROUP, PRIVATE):
            result = ask(engine, question, now, mode=mode)
            assert result.entry is None or result.entry.id != reason.UNIT_EXAM, (question, mode)
    for question in ("我们是县税务局的，我们参加哪个考试", "衡南县公安局参加哪个考试"):
        assert ask(engine, question, now).entry.id == reason.UNIT_EXAM, question


def test_a_password_said_digit_by_digit_is_the_password(engine, now):
    """ "六个零", "6个1": the digits written out, then checked like any number the question
    states; a count of a number ("两个1000人") is left alone."""
    assert "000000" in normalise("重置后是不是六个零") and "111111" in normalise("是6个1吗")
    assert normalise("两个1000人") == "两个1000人"
    assert ask(engine, "管理员帮我重置了 是六个零吧", now).answer_text.startswith("是的")
    assert ask(engine, "重置后密码是六个1吗", now).answer_text.startswith("不是")


def test_a_unit_off_the_question_list_is_told_it_submits_none(engine, now):
    """ "市统计局需要报送试题不": no, 市统计局 is not among the departments that submit questions;
    a county's namesake of a listed city department submits none either."""
    for question, unit in (
        ("市统计局需要报送试题不", "市统计局"),
        ("衡东县教育局要报题吗", "衡东县教育局"),
    ):
        reply = ask(engine, question, now).answer_text
        assert reply.startswith("不用") and f"{unit}不在报送试题的单位之中" in reply, question
    assert ask(engine, "市教育局要报送试题吗", now).answer_text.startswith("要")


def test_a_count_told_beside_a_question_about_the_list_is_no_seat_question(engine, now):
    """ "我们是市档案馆的，有70多人，集中考试名单里有没我们" asks whether the unit is on the
    centralized list, not whether 70 fit in a session; "30来个人" counts people, not units."""
    reply = ask(engine, "我们是市档案馆的，有70多人，集中考试名单里有没我们", now)
    assert reply.entry.id == reason.CENTRALIZED_UNIT and "名单内" in reply.answer_text
    told_count = facts.read("我们这有30来个人，集中考几场", now.date())
    assert told_count.people == 31 and told_count.units is None


def test_a_count_told_beside_a_session_asked_by_its_time_is_no_seat_question(engine, now):
    """The centralized exam has no evening session, however few come; the online exam has no
    seats to count."""
    evening = ask(engine, "我们单位30个人，都安排在晚上那场集中考试行不行", now).answer_text
    assert evening.startswith("不能") and "80人" not in evening
    online = ask(engine, "我们单位30个人，都安排在晚上那场考行不行", now).answer_text
    assert "19:30" in online and "80人" not in online
    assert "至少分3场" in ask(engine, "我们有200人集中考试 要几场", now).answer_text


def test_a_wh_word_before_a_closing_ma_is_an_indefinite(engine, now):
    """ "请了几天病假能免吗": 几天 is "a few days" and the question wants yes or no; "知道补考是
    哪天吗" still asks for the day."""
    assert forms.polar("出差了几天 还能考吗") and forms.polar("有什么要注意的吗")
    assert not forms.polar("知道补考是哪天吗") and not forms.polar("补考是哪天")
    reply = ask(engine, "普通感冒请了几天病假能免吗", now).answer_text
    assert reply.startswith("不属于")


def test_who_compiled_the_books_is_checked_against_the_notice(engine, now):
    """The public books are 省司法厅's, the city's reader and exercises 市司法局's: a yes-or-no
    question naming the right body gets yes, another body no."""
    assert ask(engine, "八五普法导读是省司法厅编的对吧", now).answer_text.startswith("是的")
    assert ask(engine, "普法导读是市司法局编的吧", now).answer_text.startswith("不是")
    assert ask(engine, "习题是市司法局组编的吧", now).answer_text.startswith("是的")


def test_the_campaigns_own_word_for_its_exam_names_no_topic(engine, now):
    """ "…也是参加市本级分众考试吧": 考试, in nearly every entry, is no topic the answer must
    repeat before it may say yes."""
    reply = ask(engine, "县里不在附件1的单位也是参加市本级分众考试吧", now).answer_text
    assert reply.startswith("是的") and "分众组考" in reply


def test_a_session_named_by_its_time_is_looked_up_even_when_it_is_to_be_registered(engine, now):
    """ "想给同事报晚上20:30那场，有这个场次吗" asks of a session at 20:30, which there is not."""
    reply = ask(engine, "想给同事报晚上20:30那场，有这个场次吗", now).answer_text
    assert reply.startswith("没有") and "20:30没有场次" in reply


def test_a_count_of_questions_is_no_credit_total(now):
    """ "一共30道" counts questions (no "总学分30分，还差70分")."""
    told = facts.read("单选多选各几道？一共30道对吧", now.date())
    assert told.total is None


def test_where_a_thing_is_sent_is_checked_against_the_rule(engine, now):
    """The pre-registered sessions go to 市委依法治市办 ("报送市委依法治市办"): 市司法局 is not it."""
    assert ask(engine, "集中考试预报名的场次是报给市司法局吧", now).answer_text.startswith("不是")


def test_asking_which_attachment_holds_a_code_is_no_which_exam_question(engine, now):
    reply = ask(engine, "我是市财政局新来的管理员，联络群二维码在哪个附件里？", now)
    assert reply.entry.id != reason.UNIT_EXAM and "附件2" in reply.answer_text


def test_a_fixed_yes_is_taken_back_for_a_number_stated_otherwise(engine, now):
    """ "距退休3年以内的都可以免考吧": the rule says 2周年, so 不是 — not "可以申请。…2周年内".
    "今晚还赶得上一场不" asks for any one session: it claims no count."""
    for question in ("距离退休3年以内的同志都能免考吧", "退休前3年内的都可以申请免考对吧"):
        reply = ask(engine, question, now).answer_text
        assert reply.startswith("不是") and "可以申请。" not in reply, question
    assert not ask(engine, "离退休2年以内的可以申请免考吧", now).answer_text.startswith("不")
    evening = dt.datetime(2022, 9, 20, 19, 40, tzinfo=now.tzinfo)
    assert ask(engine, "今晚还赶得上一场不", evening).answer_text.startswith("来得及")


def test_hunan_speech_is_read(engine, now):
    """ "冇得2年" is less than two years; "搞忘" is forgetting."""
    assert reason.months_to(facts.read("离退休冇得2年哒，能不能免考咯", now.date()).text) == 24
    assert ask(engine, "密码搞忘哒咯", now).entry.id == "password-forgot"


def test_an_instruction_to_the_group_is_not_answered(engine, now):
    for message in ("补考的同志请记得按时参加", "报名的事请大家抓紧"):
        assert ask(engine, message, now).answer_html is None, message


def test_a_look_up_answers_for_each_unit_named(engine, now):
    """ "县公安局、县税务局分别参加什么考试": each unit's exam, under one source line."""
    reply = ask(engine, "县公安局、县税务局分别参加什么考试", now).answer_text
    assert "县公安局属于省公安厅系统" in reply and "县税务局属于省税务局系统" in reply
    assert reply.count("来源") == 1
    duties = ask(engine, "市教育局和市统计局要报什么题", now).answer_text
    assert "市教育局需要报送" in duties and "市统计局不在报送试题的单位之中" in duties


def test_a_place_named_for_the_centralized_exam_is_checked(engine, now):
    """It is held at 广播电视大学 (电大 for short): 市司法局 is not the place."""
    assert ask(engine, "集中考试是在市司法局考吧", now).answer_text.startswith("不是")
    for place in ("电大", "广播电视大学", "普法考试中心"):
        reply = ask(engine, f"集中考试是在{place}考吗", now).answer_text
        assert reply.startswith("是的"), place


def test_a_message_asking_several_questions_gets_each_answer(engine, now):
    """ "…：一场考试多长时间、满分是多少、多少分算合格？" asks two things the whole message
    matches loosely: each is answered surely on its own, so both answers are given. A message
    whose questions are not each answered surely stays as it was."""
    reply = ask(engine, "新来的同事问我：一场考试考多长时间、满分多少分、几分算合格？", now)
    assert reply.kind == "answer"
    assert "90分钟" in reply.answer_text and "60分以上为合格" in reply.answer_text
    loose = ask(engine, "有几个人情况特殊，能不能先设个免考，手续后面补行不行", now)
    assert "80人" not in (loose.answer_text or "")


def test_each_question_of_a_message_asks_of_the_exam_and_count_told_before_it(engine, now):
    """ "集中考试在哪考？上午有几场": the centralized exam's morning sessions, not the online
    exam's; "我们一共62个人，能不能一场考完？上午可以选哪些时间": the seats for 62 people."""
    place = ask(engine, "集中考試在哪裡考？上午有幾個場次？", now).answer_text
    assert "广播电视大学" in place and "8:30-10:00" in place
    assert "上午5场" not in place  # the online exam's morning
    seats = ask(engine, "我们单位要集中考试，一共62个人，能不能一场考完？上午可以选哪些时间？", now)
    assert "62人一场就够" in seats.answer_text and "10:00-11:30" in seats.answer_text
    # a kind said in the negative is no kind a later question asks of
    zone = ask(engine, "我们单位不在附件1里，参加哪个考试？考试是几号？", now).answer_text
    assert "分类（系统）组考安排两次" not in zone


def test_several_questions_addressed_to_a_colleague_stay_unanswered(engine, now):
    for message in ("@王科长 你们报了没？补考几号报名？", "张科长，补考几号报名？集中考试在哪考？"):
        assert ask(engine, message, now).answer_html is None, message


def test_asking_everyone_or_urging_them_is_not_for_the_bot(engine, now):
    for message in (
        "今晚8点那场大家都进去了吗",
        "各位 第二次报名明天截止 抓紧",
        "报名截止了 赶紧报",
    ):
        assert ask(engine, message, now).answer_html is None, message
    assert ask(engine, "第二次报名明天截止吗", now).answer_html is not None


def test_the_list_of_question_duties_is_no_attachment(engine, now):
    """ "好多局都要报30道题，我们单位不在那个名单里，也要报吗": the list of the departments that
    submit questions, not attachment 1's."""
    reply = ask(engine, "看到好多局都要报30道题，我们市统计局不在那个名单里，是不是也要报", now)
    assert "市统计局不在报送试题的单位之中" in reply.answer_text


def test_a_dated_clause_that_tells_is_not_the_day_asked(engine, now):
    """ "今天报名截止了，明天开考第一场几点": today's clause tells what has happened; tomorrow's
    sessions are asked. A clause that asks keeps its day ("昨天考完了，今天还能考吗")."""
    last_day = now.replace(day=26)
    reply = ask(engine, "今天报名截止了，明天开考第一场几点", last_day).answer_text
    assert "9月27日" in reply and "8:30" in reply and "报名" not in reply.split("。")[0]
    today = ask(engine, "昨天考完了，今天还能考吗", now.replace(day=20)).answer_text
    assert today.startswith("可以") and "9月20日（今天）" in today


def test_a_bare_weekday_said_at_the_weekend_is_the_coming_one(engine, now):
    """ "周一截止报名，周二开考，对吧" on Sunday 9月25日: tomorrow and the day after (the second
    round's last registration day and first exam day); "这周一" is still the Monday gone, and on
    a weekday a bare "周一" is this week's."""
    sunday = now.replace(day=25)
    reply = ask(engine, "周一截止报名，周二开考，对吧", sunday).answer_text
    assert reply.startswith("是的") and "9月26日" in reply
    assert "9月19日" in ask(engine, "这周一考了吗", sunday).answer_text
    assert "9月19日" in ask(engine, "周一考了吗", now.replace(day=21)).answer_text


def test_a_problem_that_lasts_after_the_remedy_gets_the_technical_service(
    engine, campaign_config, now
):
    """ "密码重置了还是登不上": the reset was done and did not help; the rule on resets is no
    answer, the technical service is. Before the remedy, the rule answers."""
    tech = campaign_config.contacts.tech_phone
    for asked in ("密码重置了还是登不上", "重置以后还是进不去", "学分修满了还是显示不够"):
        result = ask(engine, asked, now)
        assert result.kind == "contact" and tech in result.answer_text, asked
    first = ask(engine, "忘记密码了怎么办", now)
    assert first.kind == "answer" and "000000" in first.answer_text


def test_a_unit_told_before_an_exemption_question_is_no_which_exam_question(engine, now):
    """ "我们是县教育局，免考要备案吗" asks the exemption's rule, not the unit's exam; an exempt
    learner takes no exam at all, whatever the unit's exam is."""
    filed = ask(engine, "我们是县教育局，免考要备案吗", now)
    assert filed.entry.id == "exemption-filing" and "备案" in filed.answer_text
    exempt = ask(engine, "县教育局的免考人员还要参加分类考试吗", now).answer_text
    assert exempt.startswith("不需要") and "分类组考" not in exempt


def test_a_receiver_named_otherwise_takes_back_the_answers_yes(engine, now):
    """ "免考要报市司法局备案吗": the rule files it with the city office, so its "需要" becomes
    "不是"; naming the city office keeps it."""
    assert ask(engine, "免考要报市司法局备案吗", now).answer_text.startswith("不是")
    assert ask(engine, "免考是报市委依法治市办备案吧", now).answer_text.startswith("需要")


def test_still_asked_of_this_week_is_the_rest_of_it(engine, now):
    """ "这周还有考试没" on Saturday 9月24日: the rest of the week, which holds no exam (the first
    round ended on the 22nd); on the 20th it holds the first round."""
    saturday = ask(engine, "这周还有考试没", now.replace(day=24)).answer_text
    assert saturday.startswith("没有") and "9月27日至30日" in saturday
    tuesday = ask(engine, "这周还有考试没", now.replace(day=20)).answer_text
    assert tuesday.startswith("有") and "9月19日至22日" in tuesday


def test_a_weekday_or_weekend_asked_of_a_window_is_within_it(engine, now):
    """ "补考周末能考吗": the makeup's weekend (10月29日–30日), not this one; "第二次考试可以选周末
    考吗": the second round (Tuesday to Friday) has none; "补考周一还能考吗": its Monday, the
    last day. With no window named, "周末能考吗" is this weekend."""
    weekend = ask(engine, "补考周末能考吗", now).answer_text
    assert weekend.startswith("可以") and "10月29日" in weekend
    assert ask(engine, "第二次考试可以选周末考吗", now).answer_text.startswith("不能")
    monday = ask(engine, "补考周一还能考吗", now).answer_text
    assert monday.startswith("可以") and "10月31日" in monday
    this_week = ask(engine, "周末能考吗", now).answer_text
    assert this_week.startswith("不能") and "9月17日" in this_week
    assert facts.read("周末", TODAY).dates[0].floating == (5, 6)
    assert facts.read("这周末", TODAY).dates[0].floating == ()


def test_the_study_deadline_of_a_round_named_without_a_day(engine, now):
    """ "第二次考试几号前要把学分修满": the round's first exam day (9月27日) is due by 9月26日
    21:00; "补考的…" by 10月26日 21:00; a time the day before is judged against it."""
    second = ask(engine, "第二次考试几号前要把学分修满", now).answer_text
    assert "9月27日至30日" in second and "9月26日21:00" in second
    assert "10月26日21:00" in ask(engine, "补考的学分什么时候前要修满", now).answer_text
    late = ask(engine, "第二次考试前一天晚上10点修满学分行吗", now).answer_text
    assert late.startswith("不行") and "9月26日22:00" in late


def test_a_ground_named_in_a_long_can_question_gets_its_rule(engine, now):
    """ "单位里有个女同志8月20号刚生小孩现在在休产假她今年…能申请免考吗": the maternity rule,
    however long the message; a leave that is over, or not begun, is no ground ("不能"), a leave
    still to end is ("产假到明年3月才结束"). 陪产假 is no 产假."""
    long = "单位里有个女同志8月20号刚生小孩现在在休产假她今年学法考法能申请免考吗"
    assert ask(engine, long, now).answer_text.startswith("可以申请")
    for over in (
        "产假今年3月结束了，能免考吗",
        "她生完孩子已经回单位上班了，还能免考吗",
        "我们单位有个同志下个月就要生小孩了，现在还在上班，她能申请免考吗",
    ):
        assert ask(engine, over, now).answer_text.startswith("不能"), over
    assert ask(engine, "产假到明年3月才结束，今年能免考吗", now).answer_text.startswith("可以申请")
    assert ask(engine, "陪产假能免考吗", now).entry.id != "exemption-maternity"
    assert reason.ground_asked("休产假免考的人年底能评优秀吗", now) is None  # exempt already


def test_numbers_of_a_document_or_a_day_are_no_dates_or_credits(engine, now):
    """ "衡法办〔2022〕12号" is a document's number, no day; "学分26号晚上九点前学完" names a day,
    not 26 credits, and beside the exam day it asks the study deadline."""
    assert facts.read("通知文号是衡法办〔2022〕12号吧", TODAY).days == []
    assert facts.read("学分26号晚上九点前学完", TODAY).total is None
    assert facts.read("总学分95了", TODAY).total == 95
    asked = "我们报的是9月27号的，那学分26号晚上九点前学完就行吧"
    reply = ask(engine, asked, now.replace(day=24)).answer_text
    assert reply.startswith("可以") and "9月26日21:00" in reply
    number = ask(engine, "通知文号是衡法办〔2022〕12号吧", now).answer_text
    assert number.startswith("不是") and "14号" in number


def test_bodies_named_in_a_belief_are_checked_against_the_rule(engine, now):
    """ "市医保局是参加省里分类组考的吧": it is on the centralized list, so no; "分众组考的学习
    读本…是省司法厅编的吧": the province's body compiles the public books, the city's the zone
    exam's reader, so no; a province's body takes none of the city's exams."""
    listed = ask(engine, "市医保局是参加省里分类组考的吧？", now).answer_text
    assert listed.startswith("不是") and "集中考试" in listed
    reader = ask(engine, "分众组考的学习读本和习题是省司法厅编的吧", now).answer_text
    assert reader.startswith("不是") and "市司法局" in reader
    assert ask(engine, "市医保局要参加集中考试吧", now).answer_text.startswith("要")
    assert (
        reason.named_unit(
            engine.config, "读本是省司法厅编的吧", reason.read_cues("读本是省司法厅编的吧")
        )
        is None
    )


def test_a_belief_about_the_rules_own_numbers(engine, now):
    """ "考试要70分才算及格吧" states a pass mark, not a score: no, 60; "距退休2年…是按今年年底
    12月31号来算的吧" the day the rule reckons from, no retirement day: no, 12月30日."""
    mark = ask(engine, "考试要70分才算及格吧", now).answer_text
    assert mark.startswith("不是") and "60分" in mark
    reckoned = ask(engine, "距退休2年那个，是按今年年底12月31号来算的吧", now).answer_text
    assert reckoned.startswith("不是") and "12月30日" in reckoned
    assert ask(engine, "考了70分算及格吧", now).answer_text.startswith("是的")


def test_a_belief_that_there_is_none_is_corrected_where_there_is(engine, now):
    """ "晚上冇得考试场次吧，都是白天考": there are two in the evening, so the belief is wrong."""
    reply = ask(engine, "晚上冇得考试场次吧，都是白天考", now).answer_text
    assert reply.startswith("不是，有") and "19:30" in reply


def test_beliefs_confirmed_or_corrected_in_their_own_words(engine, now):
    """Beliefs told with the group's words: an email's @ mentions no one; 啵 and 真的假的 ask;
    the one of 分类/分众 named last is the one claimed; "市里自己定" is the city's own; a law's
    question sent by another body is a no; a tie to promotion the rule makes is a yes."""
    email = ask(engine, "邮箱是hyfz8194586@qq.com吧", now)
    assert email.answer_html is not None
    zone = ask(engine, "市检察院好像不在分类名单里，那就是参加分众了啵", now).answer_text
    assert zone.startswith("不是") and "分类组考" in zone
    assert ask(engine, "集中考试是在广播电视大学北校区吧", now).answer_text.startswith("不是")
    city = ask(engine, "今年分众组考的学习内容和题库是我们市里自己定的吧", now).answer_text
    assert city.startswith("是的")
    law = ask(engine, "消费者权益保护法的题是市商务局报吧", now).answer_text
    assert law.startswith("不是") and "市市场监督管理局" in law
    tie = ask(engine, "学法考法跟干部任用晋升冇得关系吧", now).answer_text
    assert tie.startswith("不是，有")


def test_an_exempted_learners_credits_are_the_exemptions_rule(engine, now):
    """ "免考的学员也还是要把100学分学满的吧": exempted learners need no credits; the 100 is no
    count to judge. A leader's signature alone is no exemption's steps (no answer says it is)."""
    reply = ask(engine, "免考的学员也还是要把100学分学满的吧", now).answer_text
    assert reply.startswith("不需要")
    signed = ask(engine, "免考申请分管领导签个字同意就可以了吧", now)
    assert signed.entry.id != "exemption-unlisted"
    assert not (signed.answer_text or "").startswith(("可以", "是的"))


def test_a_belief_that_something_is_not_so_is_corrected_by_the_rule(engine, now):
    """ "自己是搞不了的吧" of the rule that learners may recover it themselves, "我们一级管理员不用
    管吧" of the rule that they must: "不是"; a negative the rule states too stands."""
    self_help = ask(engine, "学员忘了密码只能找管理员重置，自己是搞不了的吧", now).answer_text
    assert self_help.startswith("不是") and "忘记密码" in self_help
    duty = ask(engine, "下属二级单位的信息让他们自己去弄，我们一级管理员不用管吧", now)
    assert duty.answer_text.startswith("不是")
    assert ask(engine, "免考学员不用学学分吧", now).answer_text.startswith("是的，不需要")


def test_beliefs_stating_several_numbers_or_one_of_a_pair(engine, now):
    """ "单选20道多选10道，一共30道没错吧" states three numbers the rule states: yes, read against
    the whole rule; "…二维码在附件1里吧" names the attachment the sentence about it does not."""
    count = ask(engine, "单选20道多选10道，一共30道没错吧", now).answer_text
    assert count.startswith("是的")
    assert ask(engine, "单选20道多选20道对吧", now).answer_text.startswith("不是")
    share = ask(engine, "考试题里公共试题占40%没错吧", now).answer_text
    assert share.startswith("是的")
    qr = ask(engine, "管理员联络群的二维码在附件1里吧", now).answer_text
    assert qr.startswith("不是") and "附件2" in qr


def test_beliefs_about_levels_and_rules_of_requirement(engine, now):
    """ "参加对象是科级及以下吧": 县处级, so no; "分类组考的具体要求以市里通知为准吧": 要求 is no
    "要", so the no is "不是"; "要不要考", naming nothing, gets no exempted learner's rule."""
    level = ask(engine, "参加对象是科级及以下吧", now).answer_text
    assert level.startswith("不是") and "县处级" in level
    rule = ask(engine, "分类组考的具体要求以市里通知为准吧", now).answer_text
    assert rule.startswith("不是") and "省级部门" in rule
    vague = ask(engine, "要不要考", now)
    assert vague.entry is None or vague.entry.id != "exemption-no-study" or vague.kind != "answer"


def test_the_first_or_last_session_of_a_part_of_the_day(engine, now):
    """ "下午第一场是3点半吧": the afternoon's first is 15:30, so yes; "第一场是8点半吧" the day's."""
    afternoon = ask(engine, "下午第一场是3点半吧", now).answer_text
    assert afternoon.startswith("是的") and "下午第一场是15:30" in afternoon
    assert ask(engine, "下午第一场是4点吧", now).answer_text.startswith("不是")
    assert "当天第一场是8:30" in ask(engine, "第一场是8点半吧", now).answer_text


def test_a_law_named_with_another_department_than_its_own(engine, now):
    """ "市民政局报的是未成年人保护方面的题吧": 市教育局 sends those, so no, and 市民政局's own
    laws follow; a department named with its own law is a yes."""
    other = ask(engine, "市民政局报的是未成年人保护方面的题吧", now).answer_text
    assert other.startswith("不是") and "市教育局" in other and "老年人权益保障法" in other
    own = ask(engine, "市公安局报的是禁毒法吧", now).answer_text
    assert own.startswith("是的") and "禁毒法" in own


def test_a_unit_said_to_follow_another_provinces_body(engine, now):
    """ "县公安局是跟省司法厅考的吧": its system is 省公安厅's, so no; with its own body, yes."""
    other = ask(engine, "县公安局是跟省司法厅考的吧", now).answer_text
    assert other.startswith("不是省司法厅") and "省公安厅" in other
    own = ask(engine, "县公安局参加省公安厅的分类考试吧", now).answer_text
    assert own.startswith("是的") and "省公安厅" in own


def test_today_asked_as_a_windows_last_or_first_day(engine, now):
    """ "今天是报名最后一天了吧" with two registrations open: yes on 9月16日, no on the 15th;
    "今天是报名第一天吧" yes on the 13th only (一天 is read as 1天)."""
    assert ask(engine, "今天是报名最后一天了吧", now.replace(day=16)).answer_text.startswith("是的")
    assert ask(engine, "今天是报名最后一天了吧", now.replace(day=15)).answer_text.startswith("不是")
    assert ask(engine, "今天是报名第一天吧", now.replace(day=13)).answer_text.startswith("是的")
    assert ask(engine, "今天是报名第一天吧", now.replace(day=14)).answer_text.startswith("不是")


def test_a_belief_beside_a_question_of_the_same_rule_gets_its_yes_or_no(engine, now):
    """ "单选多选各几道？一共30道对吧": the counts, opened with the belief's yes (30) or no (40)."""
    right = ask(engine, "单选多选各几道？一共30道对吧", now).answer_text
    assert right.startswith("是的。") and "20道单选" in right
    wrong = ask(engine, "单选多选各几道？一共40道对吧", now).answer_text
    assert wrong.startswith("不是。") and "30道" in wrong


def test_still_open_asked_with_the_end_negated(engine, now):
    """ "集中考试预报名还没截止吧": yes at 17:00 on its last day, no after the 18:00 close;
    "…截止了吧" the other way round."""
    last_day = now.replace(day=16)
    assert ask(
        engine, "集中考试预报名还没截止吧", last_day.replace(hour=17)
    ).answer_text.startswith("是的")
    closed = last_day.replace(hour=19)
    assert ask(engine, "集中考试预报名还没截止吧", closed).answer_text.startswith("不是")
    assert ask(engine, "集中考试预报名截止了吧", closed).answer_text.startswith("是的")


def test_started_or_over_asked_as_a_belief_of_now(engine, now):
    """ "第二次考试已经开始了吧" on 9月27日 is yes, on the 26th no; "第一次考试结束了吧" on the 23rd
    yes."""
    assert ask(engine, "第二次考试已经开始了吧", now.replace(day=27)).answer_text.startswith("是的")
    assert ask(engine, "第二次考试已经开始了吧", now.replace(day=26)).answer_text.startswith("不是")
    assert ask(engine, "第一次考试结束了吧", now.replace(day=23)).answer_text.startswith("是的")


def test_the_citys_exam_named_in_words_of_its_own(engine, now):
    """ "市税务局不用参加市里的考试吧": 市里的考试 is the city's zone exam, which it does not take."""
    reply = ask(engine, "市税务局不用参加市里的考试吧", now).answer_text
    assert reply.startswith("不用") and "分类组考" in reply
    assert ask(engine, "县科技局要参加市里的考试吧", now).answer_text.startswith("要")


def test_registration_and_submissions_as_of_now(engine, now):
    """ "现在能报名吗" in June: no exam registration is open (the questions' submission is no
    报名); "报题还来得及吗" on 6月10日 yes, on the 20th no; a county's plan on 8月30日 is before
    its 9月1日 deadline."""
    june = now.replace(month=6, day=10)
    enrol = ask(engine, "现在能报名吗", june).answer_text
    assert enrol.startswith("不能") and "试题报送" not in enrol
    assert ask(engine, "报题还来得及吗", june).answer_text.startswith("来得及")
    assert ask(engine, "报题还来得及吗", june.replace(day=20)).answer_text.startswith("来不及")
    plan = ask(engine, "县里的组考方案还来得及报吗", now.replace(month=8, day=30)).answer_text
    assert plan.startswith("来得及") and "9月1日" in plan
    soon = ask(engine, "最近有什么截止的", now.replace(month=8, day=28)).answer_text
    assert "还有4天截止" in soon


def test_the_askers_own_count_and_a_round_named_before(engine, now):
    """ "集中考试每场80人对吧？我们有120人怎么办": the asker's 120, not the rule's 80 told back;
    "第二次报名9月23号开始吧，几号截止": the second registration's end."""
    seats = ask(engine, "集中考试每场80人对吧？我们有120人怎么办", now).answer_text
    assert "坐不下" in seats and "120人" in seats
    assert facts.read("我们单位85个人，80人一场能坐下吗", TODAY).people == 85
    ends = ask(engine, "第二次报名9月23号开始吧，几号截止", now.replace(day=20)).answer_text
    assert ends.startswith("是的") and "9月23日至26日" in ends and "6月15日" not in ends


def test_the_group_talking_among_itself_and_asking_for_the_service_line(engine, now):
    """ "各位你们一般选几点的场", "今天大家考得么样啊": for the others; "技术服务电话发一下咯": the
    technical service's line; 过哒 is 过了."""
    for chat in ("各位你们一般选几点的场？我们打算上午8点半那场", "今天大家考得么样啊"):
        assert ask(engine, chat, now).answer_html is None, chat
    line = ask(engine, "技术服务电话发一下咯", now)
    assert line.kind == "answer" and "0731-84586345" in line.answer_text
    assert "过了" in facts.read("第一次报名是不是过哒", TODAY).text


def test_a_yes_or_no_clause_beside_one_that_tells_with_a_wh_word(engine, now):
    """ "今晚还有场次吗？还有几个人冇考": 几个人 tells (some people), the first clause asks yes or
    no: "有"; "第一次考试哪天开始？每天几场？" asks facts only."""
    evening = ask(
        engine, "今晚还有场次吗？还有几个人冇考", now.replace(day=22, hour=19)
    ).answer_text
    assert evening.startswith("有") and "19:30" in evening
    assert reason.lead("第一次考试哪天开始？每天几场？") is None


def test_problems_told_without_a_question_get_the_technical_service(engine, campaign_config, now):
    """ "免考已经设置好了，学员那边登录还显示要学积分": a problem after a thing done, no report;
    "视频看完哒不计学分", "单位属性选错哒，现在改不回来": platform faults."""
    tech = campaign_config.contacts.tech_phone
    for problem in (
        "免考已经设置好了，学员那边登录还显示要学积分",
        "视频看完哒不计学分，看了三遍都是0分",
        "单位属性选错哒，现在改不回来",
    ):
        result = ask(engine, problem, now)
        assert result.kind == "contact" and tech in result.answer_text, problem
    assert ask(engine, "我们单位已经报好了", now).answer_html is None


def test_a_moment_told_before_a_question_is_not_the_moment_asked(engine, now):
    """ "…第一轮有8个人出差冇考成，现在回来了。想问一下第二轮几号报名，几号考？": 现在 tells when
    they came back; the second round's registration and exam days are asked."""
    asked = (
        "我们单位一共42个人，第一轮有8个人出差冇考成，现在回来了。想问一下第二轮几号报名，几号考？"
    )
    reply = ask(engine, asked, now.replace(day=22)).answer_text
    assert "9月23日至26日" in reply and "9月27日至30日" in reply
    assert ask(engine, "现在还能报名吗", now.replace(day=22)).answer_text.startswith("不能")


def test_a_police_station_is_of_the_police_system(engine, now):
    """ "乡镇派出所的民警要不要参加市里的分众组考": 派出所 is of 公安, whose provincial category
    exam reaches the counties: no."""
    reply = ask(engine, "乡镇派出所的民警要不要参加市里的分众组考", now).answer_text
    assert reply.startswith("不用") and "省公安厅" in reply
    assert "省公安厅系统的单位属于" not in ask(engine, "派出所参加哪个考试", now).answer_text


def test_a_unit_listed_by_name_asked_yes_or_no(engine, now):
    """ "衡阳海关参加我们市里的分众考试么": a member named in attachment 1 gets its yes or no
    before its row, as a unit of a system does."""
    zone = ask(engine, "衡阳海关参加我们市里的分众考试么", now).answer_text
    assert zone.startswith("不是") and "长沙海关" in zone
    assert ask(engine, "衡阳海关是参加长沙海关的分类考吧", now).answer_text.startswith("是的")
    assert ask(engine, "衡阳海关要去电大集中考吗", now).answer_text.startswith("不用")
    assert not ask(engine, "衡阳海关在哪考", now).answer_text.startswith(("是", "不"))


def test_a_day_told_of_something_else_before_the_day_asked(engine, now):
    """ "…9月19日到22日那几天要搞活动，…集中考试能不能改到9月28号那周去考？": the clause with
    the first days tells and speaks of nothing of the campaign's; the 28th is asked. Days told
    of the campaign ("9月24日报的名") are the question's."""
    early = now.replace(day=9)
    asked = "我们单位9月19日到22日那几天要搞活动，人凑不齐，集中考试能不能改到9月28号那周去考？"
    reply = ask(engine, asked, early).answer_text
    assert reply.startswith("不能") and "9月28日" in reply and "9月19日至22日" in reply
    assert forms.polar(reason.understand(asked, early)[0].text)
    assert reason.read_cues("9月24日报的名 能选9月22号考吗").register
    assert not reason.read_cues("今天的日报交了没").register


def test_an_exam_day_asked_of_the_round_registered_for(engine, now):
    """ "9月24日报的名 能选9月22号考吗": the 24th is in the second round's registration, whose
    exam is the 27th to the 30th; the 22nd is not in it."""
    early = ask(engine, "9月24日报的名 能选9月22号考吗", now).answer_text
    assert early.startswith("不能") and "9月27日至30日" in early and "第二次考试报名" in early
    fits = ask(engine, "我9月24号报的名，能不能9月28号考", now).answer_text
    assert fits.startswith("可以") and "9月27日至30日" in fits


def test_a_rough_count_asks_nothing_and_counts_no_zero(engine, now):
    """ "三十几个人" counts roughly: no question in "…三十几个人明天上午都考 预祝顺利"; "几十个人"
    is no count of 0 (the people regex no longer starts inside a number)."""
    assert ask(engine, "我们单位三十几个人明天上午都考 预祝顺利", now).answer_html is None
    assert facts.read("几十个人分几批", now.date()).people is None
    assert "0人" not in (ask(engine, "我们有几十个人，要分几批", now).answer_text or "")


def test_a_question_passed_on_is_read_without_who_passed_it(engine, now):
    """ "学员问我…", "领导让我问一下…", "隔壁单位的管理员说…": the question is what follows."""
    d = engine.detector
    assert d.without_relay("领导让我问一下补考几号") == "补考几号"
    assert d.without_relay("隔壁单位的管理员说免考不用备案，是真的吗") == "免考不用备案，是真的吗"
    assert d.without_relay("学员手机号问题怎么解决") == "学员手机号问题怎么解决"
    assert d.without_relay("有人问下周还有考试吗") == "下周还有考试吗"  # 下周, not 问下
    assert d.without_relay("领导让我问下补考几号") == "补考几号"
    relayed = ask(engine, "学员问不参加考试会怎么样", now)
    assert relayed.entry.id == "consequence-absent" and relayed.answer_html is not None
    fault = ask(engine, "学员问我看视频的学分一直不涨 都看了两个小时了", now).answer_text
    assert "0731-84586345" in fault


def test_credits_written_in_words_at_a_clauses_end(engine, now):
    assert facts.read("他总学分已经一百二了", now.date()).total == 120
    assert facts.read("必修学分六十，选修四十", now.date()).elective == 40
    assert facts.read("学分一直不涨", now.date()).total is None
    reply = ask(engine, "学员说他总学分已经一百二了 是不是就有考试资格了", now).answer_text
    assert "60" in reply and "120" in reply


def test_a_new_hire_is_a_matter_the_notice_does_not_rule_on(engine, now):
    reply = ask(engine, "新考录的公务员十月份才报到 今年还要考吗", now).answer_text
    assert "0734-8194586" in reply


def test_the_makeup_itself_missed(engine, campaign_config):
    """ "补考也没赶上还有机会吗": no exam after the makeup; but a makeup day missed while days of
    it are left still has them, and "第一次没赶上，补考几号" asks of the makeup."""
    tz = campaign_config.tz
    after = ask(engine, "补考也没赶上还有机会吗", dt.datetime(2022, 11, 2, 10, tzinfo=tz))
    assert after.entry.id == "after-makeup" and after.answer_text.startswith("不能")
    during = ask(engine, "今天补考没赶上，还能考吗", dt.datetime(2022, 10, 28, 10, tzinfo=tz))
    assert during.entry.id != "after-makeup" and "10月27日至31日" in during.answer_text
    whom = ask(
        engine, "补考是给第一次第二次都没赶上的人考的吧", dt.datetime(2022, 9, 14, tzinfo=tz)
    )
    assert whom.entry is None or whom.entry.id != "after-makeup"
    first = ask(engine, "第一次没赶上，补考几号", dt.datetime(2022, 10, 2, 10, tzinfo=tz))
    assert "10月27日" in first.answer_text


def test_a_belief_that_something_is_not_so_borne_out(engine, now):
    """ "补考也没赶上的话，就没有机会了吧" of "不能。…", "退休的不用参加了吧" of "已退休的不用参加":
    "是的", not the answer's bare no, nor the form's "要"; "…冇得关系吧" keeps its own form."""
    late = now.replace(month=11, day=2)
    assert ask(engine, "补考也没赶上的话，就没有机会了吧", late).answer_text.startswith(
        "是的，不能"
    )
    assert ask(engine, "退休的不用参加了吧", now).answer_text.startswith("是的，已退休的不用参加")
    assert ask(engine, "退休了还要参加吗", now).answer_text.startswith("不用")
    reply = ask(engine, "学法考法跟干部任用晋升冇得关系吧", now).answer_text
    assert reply.startswith("不是，有")


def test_a_named_units_exam_asked_of_now(engine, now):
    """ "我们是祁东县税务局的，现在还在分类组考的考试时间内吗": whether the window is open now,
    not which exam the unit takes."""
    reply = ask(engine, "我们是祁东县税务局的，现在还在分类组考的考试时间内吗", now).answer_text
    assert reply.startswith("不是") and "8月31日" in reply


def test_centralized_sessions_of_a_part_of_the_day_are_counted(engine, now):
    reply = ask(engine, "集中考试上午有几场", now).answer_text
    assert reply.startswith("2场") and "通知 五（四）" in reply and "五（二）" not in reply


def test_words_typed_in_pinyin_are_read_as_their_characters():
    assert normalise("mima重置了是多少") == "密码重置了是多少"
    assert normalise("Bukao几号") == "补考几号"
    assert reason.read_cues(normalise("第一次报名是不是过哒")).status_now


def test_a_law_believed_to_be_all_there_is_or_not_in_the_bank(engine, now):
    """ "就这一部吗", "只报…": the answer names another law of the department's, so "不是"; a
    law the bank never names ("劳动合同法") asked with a question mark alone is no yes."""
    only = ask(engine, "市公安局报的是禁毒法吧，就这一部吗？", now).answer_text
    assert only.startswith("不是") and "道路交通安全法" in only
    assert ask(engine, "民政局报题是不是只报老年人权益保障法", now).answer_text.startswith("不是")
    assert ask(engine, "市公安局报的是禁毒法吧", now).answer_text.startswith("是的")
    other = ask(engine, "市人社局报劳动合同法的题？", now).answer_text
    assert other.startswith("不是") and "社会保险法" in other


def test_a_statement_asked_with_a_question_mark_alone(engine, now):
    """ "补考是下周四开始考，一直考到下下周一？": yes or no; "补考时间？" wants the fact."""
    assert forms.polar("补考是下周四开始考,一直考到下下周一?")
    assert not forms.polar("补考时间?")
    reply = ask(engine, "补考是下周四开始考，一直考到下下周一？", now.replace(month=10, day=20))
    assert reply.answer_text.startswith("是的") and "10月27日" in reply.answer_text


def test_units_pointed_at_are_no_count_and_the_makeup_as_a_time_no_question(engine, now):
    """ "南岳区民政局、南岳区财政局这两个单位属于分类组考吗": which exam each takes, not a county
    plan of 2 units; "…分类组考还是分众组考？补考前想搞清楚" asks which exam, not of the makeup."""
    assert facts.read("这两个单位属于分类组考吗", now.date()).units is None
    both = ask(engine, "南岳区民政局、南岳区财政局这两个单位属于分类组考吗", now).answer_text
    assert "南岳区民政局" in both and "南岳区财政局" in both and "还差" not in both
    which = ask(engine, "县自然资源局到底属于分类组考还是分众组考？补考前想搞清楚", now)
    assert "省自然资源厅" in which.answer_text


def test_a_rank_of_staff_against_the_participants_scope(engine, now):
    """ "厅级干部也要考吗": no, above 县处级; "科员办事员都要考吧": yes; "只有科级干部才算学员":
    no, all up to 县处级; "调研员应该不用参加了吧": no, they take part too."""
    above = ask(engine, "衡阳市今年学法考法的参加对象是不是包括所有厅级干部？", now).answer_text
    assert above.startswith("不是") and "厅级不在参加对象范围内" in above
    assert ask(engine, "厅级干部可以不参加吧", now).answer_text.startswith("是的")
    assert ask(engine, "科级干部要参加不", now).answer_text.startswith("要")
    only = ask(engine, "是不是只有科级干部才算学员，一般干部不用学？", now).answer_text
    assert only.startswith("不是") and "县处级" in only
    told = "我们局几个调研员说他们不是领导职务了，应该不用参加学法考法了吧"
    assert ask(engine, told, now).answer_text.startswith("不是。调研员也要参加")
    three = "我们单位有三个副调研员两个四级调研员，他们今年也要参加学法考法吗还是可以不参加"
    assert "也要参加" in ask(engine, three, now).answer_text


def test_a_day_asked_for_after_days_told(engine, now):
    """ "分类组考是7月1日到8月31日之间，具体哪天考？": the day is asked for, so the rule that
    says who sets it, not whether the told days are in the window; "今天开始报名了，截止是哪
    天？" still asks of today."""
    reply = ask(engine, "分类组考是7月1日到8月31日之间，具体哪天考？", now.replace(month=6))
    assert "省级部门" in reply.answer_text and reply.entry.id != "registration-status"


def test_questions_not_yet_done_asked_of_now(engine, now):
    june = now.replace(month=6, day=20)
    late = ask(engine, "我们市卫健委的题还没弄完，现在交还来得及吗", june).answer_text
    assert late.startswith("来不及") and "6月15日" in late


def test_another_platform_said_to_be_the_campaigns(engine, now):
    """ "听说今年学法考法改到学习强国上考了，是真的吗": no, 如法网; another app's own matters stay
    another app's ("学习强国积分怎么不涨")."""
    reply = ask(engine, "听说今年学法考法改到学习强国上考了，是真的吗", now).answer_text
    assert reply.startswith("不是") and "如法网" in reply
    assert ask(engine, "听说今年换平台了，不在如法网上考了，真的假的", now).answer_text.startswith(
        "不是"
    )
    assert ask(engine, "学习强国积分怎么不涨", now).answer_html is None


def test_the_last_session_believed_at_a_time_with_none(engine, now):
    """ "上午最后一场是11点的吧": no session at 11:00; the morning's last is 10:30."""
    reply = ask(engine, "上午最后一场是11点的吧", now).answer_text
    assert reply.startswith("不是。上午最后一场是10:30") and "11:00" not in reply


def test_the_zone_exam_asked_with_no_round_named_gets_both(engine, now):
    """ "分众考试么时候报名啊": both rounds' registrations; "第一次报名几号" the first only."""
    early = now.replace(day=8)
    both = ask(engine, "分众考试么时候报名啊", early).answer_text
    assert "9月13日至16日" in both and "9月23日至26日" in both
    assert "9月23日" not in ask(engine, "第一次报名几号", early).answer_text


def test_a_bare_day_takes_the_month_of_the_day_named_before_it(engine, campaign_config):
    """ "9月份两次都错过了，今天10号能考吗" on 10月10日: 10号 is today's, not September's; asked
    of a day named, the calendar answers (with the makeup to come)."""
    today = dt.date(2022, 10, 10)
    assert dt.date(2022, 10, 10) in facts.read("9月份两次都错过了，今天10号能考吗", today).days
    at = dt.datetime(2022, 10, 10, 10, tzinfo=campaign_config.tz)
    reply = ask(engine, "9月份两次都错过了，今天10号能考吗", at).answer_text
    assert reply.startswith("不能") and "10月27日至31日" in reply


def test_a_holiday_and_days_pointed_at(engine, now):
    """ "中秋放假这几天能报名冇": 中秋 is 9月10日 in the campaign year, 这几天 points at it and
    asks nothing: no, registration opens 9月13日."""
    assert forms.polar("中秋放假这几天能报名没") and not forms.polar("几号考")
    reply = ask(engine, "中秋放假这几天能报名冇", now.replace(day=6)).answer_text
    assert reply.startswith("不能") and "9月13日至16日" in reply


def test_a_premise_denied_as_the_asker_believes(engine, now):
    """ "产假结束了就不能免考了吧": the rule denies the premise, as the asker believes, over the
    answer's own yes: "是的，不能。", then the rule; asked without the belief, "不能"."""
    ended = ask(engine, "产假结束了就不能免考了吧", now).answer_text
    assert ended.startswith("是的，不能。") and "可以申请" not in ended
    assert ask(engine, "产假结束了还能免考吗", now).answer_text.startswith("不能")


def test_a_rank_said_not_to_take_part_is_no_exemption_question(engine, now):
    """ "他说他是调研员不用考，是不是真的啵": whether 调研员 take part (they do), not an exemption;
    "调研员能免考吗" is an exemption question: no rank judged for it."""
    told = ask(engine, "县政协有个四级调研员，他说他是调研员不用考，是不是真的啵", now).answer_text
    assert told.startswith("不是。调研员也要参加")
    exempt = ask(engine, "调研员能免考吗", now).answer_text or ""
    assert "在参加对象范围内" not in exempt


def test_the_sessions_of_a_whole_window_counted(engine, now):
    """ "集中考试四天加起来一共有多少场": 4 days of 3 slots, 12; the zone exam's 4 days of 10."""
    centralized = ask(engine, "集中考试四天加起来一共有多少场可以选", now).answer_text
    assert "一共12场" in centralized and "通知 五（四）" in centralized
    assert "每次一共40场" in ask(engine, "分众考试一共多少场", now).answer_text


def test_the_two_sides_a_question_compares():
    from faq.compare import sides

    assert sides("第一次和第二次分众考试有什么不一样？") == ("第一次分众考试", "第二次分众考试")
    assert sides("不参加考试和补考不及格，在年度考核上的后果一样吗") == (
        "不参加考试,在年度考核上的后果",  # normalised: NFKC's comma
        "补考不及格,在年度考核上的后果",
    )
    assert sides("补考和正式考试的场次一样吗") == ("补考的场次", "正式考试的场次")
    assert sides("分众组考跟分类组考到底么子区别，我看了好几遍没搞懂") == ("分众组考", "分类组考")
    # one thing like another, then a question of its own; a join inside a word
    assert sides("县信访局是不是跟科技局一样，分类考只覆盖到市州那一级？") is None
    assert sides("集中考试是不是跟网上考试一样一天10场随便选") is None
    assert sides("参与考试的人一样吗") is None
    assert sides("他跟我说的不一样，到底几号考") is None


def test_a_comparison_gets_both_sides_or_nothing_in_the_group(engine, now):
    both = ask(engine, "第一次和第二次分众考试有什么不一样？", now).answer_text
    assert "9月19日" in both and "9月27日" in both and not both.startswith("是")
    rules = ask(engine, "不参加考试和补考不及格，在年度考核上的后果一样吗？", now).answer_text
    assert "暂缓" in rules and "优秀" in rules
    # the whole's answer speaks of both ("分类（…）组考", "分众（区域）组考"): it stands
    kinds = ask(engine, "学员听不懂分类组考和分众组考有啥区别", now).answer_text
    assert "分类" in kinds and "分众" in kinds
    # the place of the centralized exam says nothing of the online one: no half answer
    half = "集中考试和网上考试的地点一样吗"
    assert ask(engine, half, now).answer_html is None
    assert ask(engine, half, now, mode=PRIVATE).answer_html is not None
