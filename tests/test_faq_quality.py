"""FAQ quality on the held-out evaluation set, and the `python -m faq ask` contract."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from faq.evaluate import evaluate, load_eval

ROOT = Path(__file__).resolve().parent.parent


def test_eval_set_is_big_enough():
    data = load_eval()
    assert len(data["answerable"]) >= 150 and len(data["silent"]) >= 40


def test_accuracy_does_not_regress(ctx, config):
    figures = evaluate(ctx.faq, dt.datetime(2022, 9, 14, 10, tzinfo=config.tz))
    # Measured 95.3% / 98.6% when written; these floors catch regressions.
    assert figures.answer_rate >= 0.93, "\n".join(figures.misses)
    assert figures.silence_rate >= 0.95, "\n".join(figures.misses)
    assert figures.answered_wrong <= 10


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
