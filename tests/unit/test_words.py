"""Sums in words, as printed on receipts."""

from decimal import Decimal

import pytest

from maelis_desk.formatting import euros_in_words


@pytest.mark.parametrize(
    "amount,words",
    [
        ("1", "un euro"),
        ("0.01", "un centime"),
        ("0.50", "cinquante centimes"),
        ("21.21", "vingt-et-un euros et vingt-et-un centimes"),
        ("71", "soixante-et-onze euros"),
        ("80", "quatre-vingts euros"),
        ("81", "quatre-vingt-un euros"),
        ("91", "quatre-vingt-onze euros"),
        ("99.99", "quatre-vingt-dix-neuf euros et quatre-vingt-dix-neuf centimes"),
        ("100", "cent euros"),
        ("200", "deux-cents euros"),
        ("201", "deux-cent-un euros"),
        ("300.01", "trois-cents euros et un centime"),
        ("1000", "mille euros"),
        ("1234.56", "mille-deux-cent-trente-quatre euros et cinquante-six centimes"),
        ("80000", "quatre-vingt-mille euros"),
        ("200000", "deux-cent-mille euros"),
        ("1000000", "un-million d'euros"),
    ],
)
def test_euros_in_words(amount, words):
    assert euros_in_words(Decimal(amount)) == words
