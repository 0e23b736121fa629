"""FAQ quality on the evaluation sets, and the `python -m faq ask` contract.

The blind sets (tests/data/faq_eval_blind*.toml, five of them) were each written from the
notice alone, by authors who saw neither the knowledge base nor the other sets; their tune
halves may be studied, their holdout halves are measured as totals only. Floors below are the
issue's targets where the engine reaches them, else what it measured when written (a floor
against regressions; the unmet target is an xfail).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from faq.engine import GROUP, PRIVATE, engine_for
from faq.evaluate import HOLDOUT, TUNE, Report, evaluate_all, load_blind_sets, load_eval, part

ROOT = Path(__file__).resolve().parent.parent
BLIND_TUNE = part("blind", TUNE)
BLIND2_TUNE = part("blind2", TUNE)


@pytest.fixture(scope="module")
def report(campaign_config) -> Report:
    now = dt.datetime(2022, 9, 14, 10, tzinfo=campaign_config.tz)
    return evaluate_all(engine_for(campaign_config), now)


def test_eval_sets_are_big_enough():
    data = load_eval()
    assert len(data["answerable"]) >= 150 and len(data["silent"]) >= 40
    sets = load_blind_sets()
    assert set(sets) == {"blind", *(f"blind{n}" for n in range(2, 19))}
    for name, blind in sets.items():
        # The ninth is a smaller set of long messages telling their circumstances.
        assert len(blind) >= (200 if name in ("blind9", "blind13", "blind15") else 300), name
        for half in (TUNE, HOLDOUT):
            kinds = {c["kind"] for c in blind if c["half"] == half}
            assert kinds == {"answer", "contact", "silent"}, (name, half)


def test_tune_half_meets_the_targets(report):
    group, private = report.get(BLIND_TUNE, GROUP), report.get(BLIND_TUNE, PRIVATE)
    misses = "\n".join(group.misses + private.misses)
    assert group.answer_rate >= 0.95, misses
    assert group.wrong_rate <= 0.01, misses
    assert group.silence_rate >= 0.97, misses
    assert group.contact_rate >= 0.80, misses
    assert private.answer_rate >= 0.98, misses


def test_second_set_tune_half_does_not_regress(report):
    """The second set came after the engine was tuned on the first: measured 86.3% right, 2.8%
    wrong (4 of 142), contacts 16 of 18 in the group; 96.8% right in private chat."""
    group, private = report.get(BLIND2_TUNE, GROUP), report.get(BLIND2_TUNE, PRIVATE)
    misses = "\n".join(group.misses + private.misses)
    assert group.answer_rate >= 0.85, misses
    assert group.wrong_rate <= 0.03, misses
    assert group.silence_rate >= 0.97, misses
    assert group.contact_rate >= 0.80, misses
    assert private.answer_rate >= 0.95, misses


@pytest.mark.parametrize(
    ("name", "right", "wrong", "private", "contacts"),
    [
        # Measured when each set came (before tuning on it), group right / wrong: 87.6% / 5.6%,
        # 77.5% / 12.9%, 82.6% / 7.9%, 69.7% / 9.5%, 81.2% / 12.3%, 84.1% / 11.2%, 48.7% /
        # 37.9%, 85.1% / 6.2%, 63.2% / 9.2%, 84.3% / 10.9% and 83.5% / 7.6%; now (after the
        # lessons of its tune half) 97.5% / 0.7%, 96.1% / 0.7%, 97.2% / 1.6%, 88.2% / 0%, 93.2%
        # / 0.7%, 94.4% / 3.2%, 76.3% / 3.4%, 93.9% / 0.8%, 88.6% / 1.5%, 90.3% / 4.1%, 89.0% /
        # 2.5% and 86.9% / 3.4% (the fourteenth measured 70.0% / 18.6% when it came).
        ("blind3", 0.96, 0.01, 0.97, 0.80),
        ("blind4", 0.95, 0.01, 0.97, 0.80),
        ("blind5", 0.95, 0.02, 0.96, 0.80),
        ("blind6", 0.86, 0.01, 0.92, 0.80),
        ("blind7", 0.92, 0.01, 0.95, 0.80),
        ("blind8", 0.92, 0.04, 0.95, 0.80),
        ("blind9", 0.72, 0.05, 0.92, 0.60),  # long messages telling their circumstances
        ("blind10", 0.92, 0.02, 0.96, 0.80),  # the everyday group traffic, terse
        ("blind11", 0.87, 0.025, 0.91, 0.80),  # short, one-fact and long; wrong premises
        ("blind12", 0.89, 0.05, 0.93, 0.80),  # one administrator's campaign, in order
        ("blind13", 0.88, 0.03, 0.92, 0.80),  # the busy weeks of September, each at its moment
        ("blind14", 0.86, 0.04, 0.92, 0.80),  # beliefs stated for confirmation, half of them false
        # county and township liaisons' day-to-day mix, measured 80.4% / 8.5% when it came
        ("blind15", 0.83, 0.07, 0.93, 0.85),
        # relayed questions and mixed registers, measured 90.2% / 0.8% when it came
        ("blind16", 0.92, 0.01, 0.98, 0.80),
        # the quiet months and the campaign's tail, measured 79.5% / 6.2% when it came
        ("blind17", 0.79, 0.063, 0.92, 0.80),
        # conditions, consequences, edge cases and comparisons, measured 81.2% / 7.1% when it came
        ("blind18", 0.83, 0.05, 0.91, 0.80),
    ],
)
def test_later_sets_tune_halves_do_not_regress(report, name, right, wrong, private, contacts):
    group = report.get(part(name, TUNE), GROUP)
    direct = report.get(part(name, TUNE), PRIVATE)
    misses = "\n".join(group.misses + direct.misses)
    assert group.answer_rate >= right, misses
    assert group.wrong_rate <= wrong, misses
    assert group.silence_rate >= 0.97, misses
    assert group.contact_rate >= contacts, misses
    assert direct.answer_rate >= private, misses


def test_group_answers_only_what_the_ranking_is_sure_of(campaign_config):
    """Held-out phrasings of the knowledge base: the answers the group gate lets through are
    right far more often than those it holds back (``faq.calibrate``)."""
    from faq.calibrate import calibrate

    tallies = calibrate(campaign_config, folds=3)
    agreed, held = tallies["agreed"], tallies["held back"]
    assert agreed.answered > 5 * held.answered > 0
    assert agreed.right / agreed.answered >= held.right / held.answered + 0.25


def test_existing_set_does_not_regress(report):
    group, private = report.get("existing", GROUP), report.get("existing", PRIVATE)
    misses = "\n".join(group.misses + private.misses)
    assert group.answer_rate >= 0.95, misses
    assert group.silence_rate >= 0.97, misses
    assert private.answer_rate >= 0.98, misses
    assert group.wrong_rate <= 0.01, misses


def test_holdout_half_is_reported_as_totals_only(report):
    """No holdout question or miss is ever written down (so none can be printed)."""
    for name, mode in ((n, m) for n in load_blind_sets() for m in (GROUP, PRIVATE)):
        figures = report.get(part(name, HOLDOUT), mode)
        assert figures.misses == []
        assert figures.answerable + figures.uncovered + figures.chatter > 0 or mode == PRIVATE


@pytest.mark.parametrize(
    ("name", "ceiling"),
    [
        # First measured 11.2%, 5.8%, 7.2%, 11.3%, 5.8%, 14.4%, 14.2%, 8.3%, 28.6%, 11.8%,
        # 15.4%, 12.3%, 12.4%, 19.6%, 3.6%, 2.5% and 15.0% wrong; now 4.2%, 3.6%, 3.6%, 4.3%,
        # 2.5%, 6.8%, 6.7%, 2.5%, 11.9%, 10.1%, 10.3%, 8.7%, 12.4%, 15.9%, 3.6%, 2.5% and 13.3%.
        ("blind", 0.045),
        ("blind2", 0.04),
        ("blind3", 0.04),
        ("blind4", 0.045),
        ("blind5", 0.03),
        ("blind6", 0.07),
        ("blind7", 0.07),
        ("blind8", 0.03),
        ("blind9", 0.125),
        ("blind10", 0.105),
        ("blind11", 0.11),
        ("blind12", 0.09),
        ("blind13", 0.13),
        ("blind14", 0.165),
        ("blind15", 0.04),  # measured 3.6% wrong when it came, after the rest of the tuning
        ("blind16", 0.035),  # measured 2.5% wrong when it came
        ("blind17", 0.15),  # measured 15.0% wrong when it came
        ("blind18", 0.02),  # measured 1.7% wrong when it came
    ],
)
def test_holdout_half_wrong_answers_do_not_regress(report, name, ceiling):
    """Far from the issue's target (1%): a floor against regressions, nothing more."""
    group = report.get(part(name, HOLDOUT), GROUP)
    assert group.wrong_rate <= ceiling, f"{group.wrong_rate:.1%} wrong on {name}'s holdout"


@pytest.mark.xfail(strict=True, reason="issue 16 target not reached: 4.2% wrong on the holdout")
def test_holdout_half_wrong_answers_meet_the_target(report):
    group = report.get(part("blind", HOLDOUT), GROUP)
    assert group.wrong_rate <= 0.02, f"{group.wrong_rate:.1%} wrong on the holdout half"


def test_faq_ask_json_contract():
    questions = "补考什么时候报名\n收到\n现在能报名吗\n"
    proc = subprocess.run(
        [sys.executable, "-m", "faq", "ask", "--json", "--now", "2022-10-25T09:00", "-"],
        cwd=ROOT,
        input=questions,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions.split()
    for row in rows:
        assert set(row) == {"question", "answer", "entry", "score", "suggestions"}
    assert rows[0]["entry"] == "makeup-registration" and "10月25日" in rows[0]["answer"]
    assert "<" not in rows[0]["answer"] and "来源" in rows[0]["answer"]
    assert rows[1]["answer"] is None and rows[1]["entry"] is None
    assert "补考报名" in rows[2]["answer"] and "2天" in rows[2]["answer"]


def test_faq_ask_private_mode_and_bad_now():
    proc = subprocess.run(
        [sys.executable, "-m", "faq", "ask", "--json", "--mode", "private", "考试"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    row = json.loads(proc.stdout)
    assert row["answer"] and len(row["suggestions"]) >= 1
    bad = subprocess.run(
        [sys.executable, "-m", "faq", "ask", "--now", "yesterday", "补考"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
