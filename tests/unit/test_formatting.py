"""French presentation: euros, dates in Europe/Paris, and parsing what a cashier types."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from maelis_desk.formatting import NBSP, AmountError, age_fr, euros, fr_date, fr_datetime, parse_amount

NB = "\u00a0"


# --- euros -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, text",
    [
        ("1234.56", f"1{NB}234,56{NB}€"),
        ("0", f"0,00{NB}€"),
        ("0.5", f"0,50{NB}€"),
        ("28.98", f"28,98{NB}€"),
        ("999.99", f"999,99{NB}€"),
        ("1000", f"1{NB}000,00{NB}€"),
        ("1234567.8", f"1{NB}234{NB}567,80{NB}€"),
        ("12345678.90", f"12{NB}345{NB}678,90{NB}€"),
        ("-5", f"\u22125,00{NB}€"),
        ("-1234.5", f"\u22121{NB}234,50{NB}€"),
    ],
)
def test_euros(amount, text):
    assert euros(Decimal(amount)) == text


def test_euros_uses_no_break_spaces_only():
    text = euros(Decimal("1234567.89"))
    assert NBSP == NB
    assert " " not in text  # never a plain space: the figure must not wrap
    assert text.count(NB) == 3


def test_euros_sign_and_none():
    assert euros(Decimal("3"), sign=True) == f"+3,00{NB}€"
    assert euros(Decimal("0"), sign=True) == f"0,00{NB}€"
    assert euros(Decimal("-3"), sign=True) == f"\u22123,00{NB}€"
    assert euros(None) == ""


def test_euros_negative_zero_is_plain_zero():
    assert euros(Decimal("-0.00")) == f"0,00{NB}€"


# --- dates -------------------------------------------------------------------------


def test_fr_date_invoice_date_is_the_paris_day_not_the_utc_day():
    value = datetime.fromisoformat("2023-02-24T00:00:00+01:00")
    assert value.astimezone(timezone.utc).day == 23
    assert fr_date(value) == "24/02/2023"
    assert fr_date(value.astimezone(timezone.utc)) == "24/02/2023"  # same instant, same day


def test_fr_date_summer_time():
    # 22:30 UTC on 30 June is 00:30 on 1 July in Paris (UTC+2)
    assert fr_date(datetime(2023, 6, 30, 22, 30, tzinfo=timezone.utc)) == "01/07/2023"
    assert fr_datetime(datetime(2023, 6, 30, 22, 30, tzinfo=timezone.utc)) == "01/07/2023 00:30"
    # and 22:30 UTC in winter is 23:30 the same day
    assert fr_datetime(datetime(2023, 1, 10, 22, 30, tzinfo=timezone.utc)) == "10/01/2023 23:30"


def test_fr_date_none():
    assert fr_date(None) == "" and fr_datetime(None) == ""


def test_age_fr():
    now = datetime(2023, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert age_fr(None, now) == "jamais lu"
    assert age_fr(now - timedelta(seconds=30), now) == "à l'instant"
    assert age_fr(now - timedelta(minutes=5), now) == "il y a 5 min"
    assert age_fr(now - timedelta(hours=3, minutes=59), now) == "il y a 3 h"
    assert age_fr(now - timedelta(days=2), now) == "le 27/02/2023 13:00"


# --- parse_amount -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [
        ("12,50", "12.50"),
        ("12.5", "12.50"),
        ("12,5", "12.50"),
        (f"1{NB}234,56{NB}€", "1234.56"),
        ("1 234,56 €", "1234.56"),
        ("1\u202f234,56\u202f€", "1234.56"),  # narrow no-break space, as some keyboards type
        (" 7 ", "7.00"),
        ("7€", "7.00"),
        ("300", "300.00"),
        ("0,01", "0.01"),
    ],
)
def test_parse_amount_accepts(text, value):
    result = parse_amount(text)
    assert isinstance(result, Decimal)
    assert result == Decimal(value) and str(result) == value  # always two decimals


@pytest.mark.parametrize(
    "text, message",
    [
        ("-3", "Le montant doit être positif."),
        ("- 3", "Le montant doit être positif."),
        ("abc", "Montant invalide : « abc » (exemple : 12,50)."),
        ("12,345", "Au plus deux chiffres après la virgule."),
        ("12.999", "Au plus deux chiffres après la virgule."),
        ("1e3", "Montant invalide : « 1e3 » (exemple : 12,50)."),
        ("12,5,0", "Montant invalide : « 12,5,0 » (exemple : 12,50)."),
        ("1.234,56", "Montant invalide : « 1.234,56 » (exemple : 12,50)."),
        ("", "Saisissez un montant."),
        ("   ", "Saisissez un montant."),
        ("€", "Saisissez un montant."),
        ("NaN", "Montant invalide : « NaN » (exemple : 12,50)."),
        ("Infinity", "Montant invalide : « Infinity » (exemple : 12,50)."),
        ("inf", "Montant invalide : « inf » (exemple : 12,50)."),
        ("+5", "Montant invalide : « +5 » (exemple : 12,50)."),
        ("0x10", "Montant invalide : « 0x10 » (exemple : 12,50)."),
        ("12,", "Montant invalide : « 12, » (exemple : 12,50)."),
        (",5", "Montant invalide : « ,5 » (exemple : 12,50)."),
    ],
)
def test_parse_amount_refuses_with_a_french_message(text, message):
    with pytest.raises(AmountError) as refused:
        parse_amount(text)
    assert str(refused.value) == message
    assert isinstance(refused.value, ValueError)
