"""Issue 9 point 9: argparse's own words (usage, headings, errors) are French in every command."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from maelis_desk.cli import build_parser

ENGLISH = ("usage:", "positional arguments", "optional arguments", "show this help", "invalid choice",
           "the following arguments", "expected one argument", "unrecognized arguments", "error:",
           "version number", "and exit")


def _subparsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _subparsers(sub)


def test_every_help_is_french():
    parsers = list(_subparsers(build_parser()))
    assert len(parsers) > 20  # the commands and their own sub-commands (session open, docket create…)
    for parser in parsers:
        text = parser.format_help()
        assert text.startswith("utilisation : "), parser.prog
        assert "afficher cette aide et quitter" in text, parser.prog
        for english in ENGLISH:
            assert english not in text, (parser.prog, english)


@pytest.mark.parametrize("argv,french", [
    (["bogus"], "choix invalide : 'bogus' (possibles : "),
    (["pay"], "arguments obligatoires manquants : FAMILLE, --regie"),
    (["pay", "1", "--regie"], "argument --regie : une valeur attendue"),
    (["regies", "--zzz"], "arguments non reconnus : --zzz"),
    (["pay", "1", "--regie", "102", "--invoice", "F%", "--amount", "1", "--mode", "especes"],
     "son n° imprimé F…"),
    (["pay", "1", "--regie", "102", "--invoice", "8", "--amount", "1", "--mode", "bitcoin"], "choix invalide"),
])
def test_errors_are_french(argv, french):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as stop:
        build_parser().parse_args(argv)
    assert stop.value.code == 2
    text = err.getvalue()
    assert french in text and " : erreur : " in text and text.startswith("utilisation : ")
    for english in ENGLISH:
        assert english not in text, english


def test_an_invoice_is_named_by_its_number_or_its_printed_number():
    args = build_parser().parse_args(["pay", "1312", "--regie", "102", "--invoice", "8", "--invoice", "F10201312320",
                                      "--amount", "1", "--mode", "especes"])
    assert args.invoice == [8, "F10201312320"]
    assert build_parser().parse_args(["pdf", "102", "f10201312320", "-o", "x.pdf"]).invoice == "f10201312320"
