"""The command line builds only what a command needs: ``FEATURE_CLIS`` says which module adds
which commands, and it must say it truly (a command missing from it would be unreachable when
named on the command line)."""

from __future__ import annotations

import argparse
import importlib

import pytest

from bot import cli


@pytest.mark.parametrize("module", list(cli.FEATURE_CLIS))
def test_each_feature_module_adds_exactly_the_commands_it_is_listed_with(module):
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    importlib.import_module(module).add_commands(sub)
    assert tuple(sub.choices) == cli.FEATURE_CLIS[module]


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--limit", "3"],
        ["--config", "config.toml", "results", "show"],
        ["--now", "2022-09-14T10:00", "platform", "tasks"],
        ["questions", "template", "x.xlsx"],
    ],
)
def test_a_command_named_after_options_parses_as_with_the_whole_parser(argv):
    whole = vars(cli.build_parser().parse_args(argv))
    narrow = vars(cli.build_parser(argv).parse_args(argv))
    assert narrow == whole


def test_an_unknown_command_is_refused_listing_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser(["bogus"]).parse_args(["bogus"])
    err = capsys.readouterr().err
    assert all(c in err for commands in cli.FEATURE_CLIS.values() for c in commands)
