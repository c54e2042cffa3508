"""What may be paid, how (services/payments.py), and recording it end to end."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from maelis_desk.domain import Invoice, InvoiceStatus, Regie
from maelis_desk.services.payments import (
    CASH_LIMIT,
    Mode,
    PaymentRefused,
    PaymentRequest,
    PaymentService,
    accepted_modes,
    allocate,
    apply_pending,
    check_details,
    validate,
)
from maelis_desk.store import Cache, open_database
from maelis_desk.store import models
from maelis_desk.services.operators import OperatorService
from maelis_desk.store.operators import Operators
from maelis_desk.store.payments import Payments
from session_helpers import day_service

NB = "\u00a0"
PLUS1 = timezone(timedelta(hours=1))
CANTINE = Regie(102, "CANTINE / CLAE")
CRECHES = Regie(101, "CRÈCHES")
ALL = list(Mode)


def one_person(name: str) -> OperatorService:
    """A desk without accounts: its one operator, named `name`."""
    return OperatorService(Operators(), desk="poste-1", clock=lambda: NOW, fallback_name=name)


def inv(number=8, amount="28.98", paid="0", regie=CANTINE, family=1312, transmitted=None) -> Invoice:
    return Invoice(
        regie=regie,
        number=number,
        id=f"F{number:08d}",
        label="CLAE JANVIER 2023",
        family=family,
        payer_name="SIMPSON MARGE",
        date=datetime(2023, 2, 24, tzinfo=PLUS1),
        deadline=datetime(2023, 3, 31, tzinfo=PLUS1),
        amount=Decimal(amount),
        paid=Decimal(paid),
        transmitted_at=transmitted,
    )


def request(invoices, amount, mode=Mode.CHEQUE, details=None, regie=102, family=1312):
    if details is None:
        details = {"cheque_number": "1234567"}
    return PaymentRequest(family, regie, [i.number for i in invoices], Decimal(amount), mode, details)


def refused(req, invoices, modes=ALL) -> PaymentRefused:
    with pytest.raises(PaymentRefused) as info:
        validate(req, invoices, modes)
    return info.value


# --- amounts -----------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0", "0.00", "-1", "-0.01"])
def test_amount_zero_or_negative(amount):
    invoices = [inv()]
    error = refused(request(invoices, amount), invoices)
    assert str(error) == "Le montant doit être supérieur à zéro." and error.field == "amount"


def test_amount_over_remaining():
    invoices = [inv(8, "28.98", paid="8.98"), inv(9, "10.00")]
    error = refused(request(invoices, "30.01"), invoices)
    assert error.field == "amount"
    assert str(error) == (
        f"Le montant (30,01{NB}€) dépasse le reste à payer des factures choisies (30,00{NB}€)."
    )
    assert validate(request(invoices, "30.00"), invoices, ALL) == {"cheque_number": "1234567"}


def test_amount_with_three_decimals():
    invoices = [inv()]
    error = refused(request(invoices, "10.005"), invoices)
    assert str(error) == "Le montant ne peut pas avoir plus de deux décimales." and error.field == "amount"
    validate(request(invoices, "10.50"), invoices, ALL)
    validate(request(invoices, "10.5"), invoices, ALL)


# --- modes' details ---------------------------------------------------------------------


def test_cash_over_the_limit_is_refused():
    assert CASH_LIMIT == Decimal("300.00")
    invoices = [inv(amount="500")]
    error = refused(request(invoices, "300.01", Mode.ESPECES, {}), invoices)
    assert error.field == "amount"
    assert "Paiement en espèces refusé au-delà de 300,00" in str(error) and "autre moyen" in str(error)
    assert validate(request(invoices, "300.00", Mode.ESPECES, {}), invoices, ALL) == {}
    # the same amount by cheque is fine
    validate(request(invoices, "450", Mode.CHEQUE), invoices, ALL)


def test_cash_given_and_change():
    clean = check_details(Mode.ESPECES, Decimal("28.98"), {"cash_given": Decimal("50")})
    assert clean == {"cash_given": "50.00", "change": "21.02"}
    assert check_details(Mode.ESPECES, Decimal("28.98"), {"cash_given": Decimal("28.98")})["change"] == "0.00"
    assert check_details(Mode.ESPECES, Decimal("28.98"), {"cash_given": "30"})["change"] == "1.02"
    assert check_details(Mode.ESPECES, Decimal("5"), {"cash_given": None}) == {}
    assert check_details(Mode.ESPECES, Decimal("5"), {"cash_given": ""}) == {}


def test_cash_given_less_than_the_amount():
    with pytest.raises(PaymentRefused) as info:
        check_details(Mode.ESPECES, Decimal("28.98"), {"cash_given": Decimal("20")})
    assert info.value.field == "cash_given"
    assert str(info.value) == f"La somme remise (20,00{NB}€) est inférieure au montant (28,98{NB}€)."


@pytest.mark.parametrize("number, clean", [("1234567", "1234567"), (" 12 34 567 ", "1234567"),
                                           ("AB12", "AB12"), ("1" * 20, "1" * 20)])
def test_cheque_number_accepted(number, clean):
    details = check_details(Mode.CHEQUE, Decimal("10"), {"cheque_number": number, "bank": " La Banque ",
                                                         "drawer": "SIMPSON"})
    assert details == {"cheque_number": clean, "bank": "La Banque", "drawer": "SIMPSON"}


@pytest.mark.parametrize("details", [{}, {"cheque_number": ""}, {"cheque_number": "   "},
                                     {"cheque_number": None}])
def test_cheque_number_required(details):
    with pytest.raises(PaymentRefused) as info:
        check_details(Mode.CHEQUE, Decimal("10"), details)
    assert str(info.value) == "Le numéro du chèque est obligatoire." and info.value.field == "cheque_number"


@pytest.mark.parametrize("number", ["12-34", "12/34", "N°123", "1" * 21, "12.5"])
def test_cheque_number_validated(number):
    with pytest.raises(PaymentRefused) as info:
        check_details(Mode.CHEQUE, Decimal("10"), {"cheque_number": number})
    assert str(info.value) == "Numéro de chèque invalide (chiffres et lettres seulement)."
    assert info.value.field == "cheque_number"


def test_card_reference_required():
    for details in ({}, {"card_reference": "  "}):
        with pytest.raises(PaymentRefused) as info:
            check_details(Mode.CARTE, Decimal("10"), details)
        assert info.value.field == "card_reference" and "référence du ticket carte" in str(info.value)
    assert check_details(Mode.CARTE, Decimal("10"), {"card_reference": " A1B2 "}) == {"card_reference": "A1B2"}


def test_transfer_reference_required():
    for details in ({}, {"transfer_reference": ""}):
        with pytest.raises(PaymentRefused) as info:
            check_details(Mode.VIREMENT, Decimal("10"), details)
        assert str(info.value) == "Saisissez la référence du virement." and info.value.field == "transfer_reference"
    assert check_details(Mode.VIREMENT, Decimal("10"), {"transfer_reference": "VIR-1"}) == {
        "transfer_reference": "VIR-1"}


def test_voucher_reference_is_optional():
    assert check_details(Mode.CESU, Decimal("10"), {}) == {}
    assert check_details(Mode.ANCV, Decimal("10"), {"reference": " 42 "}) == {"reference": "42"}


# --- modes per régie -----------------------------------------------------------------------


def test_cesu_refused_for_the_canteen_accepted_for_creches():
    assert Mode.CESU not in accepted_modes(102, "CANTINE / CLAE")
    assert Mode.CESU in accepted_modes(101, "CRÈCHES")
    assert Mode.CESU in accepted_modes(101, "Crèches")
    assert Mode.CESU in accepted_modes(101, "CRECHES")
    assert accepted_modes(102, "CANTINE / CLAE") == [Mode.ESPECES, Mode.CHEQUE, Mode.CARTE, Mode.VIREMENT]

    canteen = [inv()]
    error = refused(request(canteen, "10", Mode.CESU, {}), canteen, accepted_modes(102, "CANTINE / CLAE"))
    assert str(error) == "La régie n'accepte pas le paiement par CESU." and error.field == "mode"

    creche = [inv(regie=CRECHES)]
    assert validate(request(creche, "10", Mode.CESU, {}, regie=101), creche, accepted_modes(101, "CRÈCHES")) == {}


def test_leisure_and_holiday_modes():
    assert {Mode.CESU, Mode.ANCV} <= set(accepted_modes(103, "ACCUEILS DE LOISIRS"))
    assert Mode.ANCV in accepted_modes(104, "SÉJOURS DE VACANCES")
    assert Mode.CESU not in accepted_modes(104, "SÉJOURS DE VACANCES")
    assert Mode.ANCV in accepted_modes(106, "SPORTS")
    assert Mode.ANCV not in accepted_modes(108, "MÉDIATHÈQUES")


def test_school_transport_does_not_take_holiday_vouchers():
    assert Mode.ANCV not in accepted_modes(109, "TRANSPORT SCOLAIRE")


def test_overrides_per_regie():
    overrides = {"102": ["especes", "cesu", "bitcoin"], "999": []}
    assert accepted_modes(102, "CANTINE / CLAE", overrides) == [Mode.ESPECES, Mode.CESU]
    assert accepted_modes(999, "CRÈCHES", overrides) == []
    assert Mode.CESU in accepted_modes(101, "CRÈCHES", overrides)  # not overridden: guessed from the label
    assert Mode.CESU not in accepted_modes(103, "CANTINE", overrides)


# --- which invoices ---------------------------------------------------------------------


def test_transmitted_invoice_refused_with_the_treasury_message():
    invoices = [inv(8), inv(9, transmitted=datetime(2023, 5, 2, 10, 0, tzinfo=PLUS1))]
    error = refused(request(invoices, "10"), invoices)
    assert error.field == "invoices"
    assert str(error) == (
        "Facture transmise au Trésor public le 02/05/2023 : la famille doit la régler auprès du Trésor public."
    )


def test_invoices_of_two_regies_refused():
    invoices = [inv(8), inv(3, regie=CRECHES)]
    error = refused(request(invoices, "10"), invoices)
    assert "deux régies" in str(error) and error.field == "invoices"


def test_same_invoice_twice_refused():
    invoices = [inv(8), inv(8)]
    error = refused(request(invoices, "10"), invoices)
    assert str(error) == "Une facture est choisie deux fois." and error.field == "invoices"


def test_no_invoice_refused():
    error = refused(PaymentRequest(1312, 102, [], Decimal("10"), Mode.CHEQUE, {"cheque_number": "1"}), [])
    assert str(error) == "Choisissez au moins une facture à payer."


def test_invoice_of_another_family_refused():
    invoices = [inv(8, family=1400)]
    error = refused(request(invoices, "10"), invoices)
    assert str(error) == "La facture F00000008 n'appartient pas à la famille 1312."


def test_paid_invoice_refused():
    invoices = [inv(8, paid="28.98")]
    assert str(refused(request(invoices, "1"), invoices)) == "La facture F00000008 est déjà réglée."


def test_rules_are_checked_in_the_cashiers_order():
    # invoices first, then amount, then mode, then the mode's details
    invoices = [inv(8, paid="28.98")]
    assert refused(request(invoices, "-1", Mode.CESU, {}), invoices, [Mode.ESPECES]).field == "invoices"
    invoices = [inv(8)]
    assert refused(request(invoices, "-1", Mode.CESU, {}), invoices, [Mode.ESPECES]).field == "amount"
    assert refused(request(invoices, "1", Mode.CESU, {}), invoices, [Mode.ESPECES]).field == "mode"
    assert refused(request(invoices, "1", Mode.CHEQUE, {}), invoices, ALL).field == "cheque_number"


# --- allocate and apply_pending ------------------------------------------------------------


def test_allocate_spreads_in_order():
    a, b, c = inv(1, "10"), inv(2, "20", paid="5"), inv(3, "30")
    shares = allocate([a, b, c], Decimal("22"))
    assert [(i.number, s) for i, s in shares] == [(1, Decimal("10")), (2, Decimal("12")), (3, Decimal("0"))]
    shares = allocate([c, a, b], Decimal("22"))
    assert [(i.number, s) for i, s in shares] == [(3, Decimal("22")), (1, Decimal("0")), (2, Decimal("0"))]
    assert [s for _, s in allocate([a, b, c], Decimal("55"))] == [Decimal("10"), Decimal("15"), Decimal("30")]
    assert sum(s for _, s in allocate([a, b, c], Decimal("0.01"))) == Decimal("0.01")


def test_allocate_counts_pending_payments():
    a = inv(1, "10").with_pending(Decimal("4"))
    assert [s for _, s in allocate([a, inv(2, "10")], Decimal("10"))] == [Decimal("6"), Decimal("4")]


def test_apply_pending_shows_unconfirmed_payments():
    invoices = [inv(8, "28.98"), inv(9, "10"), inv(10, "5")]
    shown = apply_pending(invoices, {8: Decimal("28.98"), 9: Decimal("4")})
    assert [i.status for i in shown] == [InvoiceStatus.PENDING, InvoiceStatus.PENDING, InvoiceStatus.TO_PAY]
    assert [i.remaining for i in shown] == [Decimal("0"), Decimal("6"), Decimal("5")]
    assert shown[2] is invoices[2]
    assert apply_pending(invoices, {}) is invoices


def test_apply_pending_never_counts_what_maelis_already_shows():
    # Maelis already reflects the payment (paid == expected) or more (another payment landed too)
    landed = [inv(8, "28.98", paid="28.98"), inv(9, "20", paid="15")]
    shown = apply_pending(landed, {8: Decimal("28.98"), 9: Decimal("10")})
    assert [i.pending_paid for i in shown] == [Decimal("0"), Decimal("0")]
    assert [i.status for i in shown] == [InvoiceStatus.PAID, InvoiceStatus.TO_PAY]
    assert shown[1].remaining == Decimal("5")
    # partly landed: only the difference is pending
    partly = apply_pending([inv(9, "20", paid="6")], {9: Decimal("10")})
    assert partly[0].pending_paid == Decimal("4") and partly[0].remaining == Decimal("10")


# --- PaymentService.record end to end -------------------------------------------------------

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def service(database_spec):
    database = open_database(database_spec)
    cache = Cache()
    cache.save_invoices(1312, 102, [inv(8, "28.98"), inv(9, "10.00", paid="4.00"),
                                    inv(10, "7", transmitted=datetime(2023, 5, 2, tzinfo=PLUS1))], NOW)
    cache.save_invoices(1312, 101, [inv(3, "500", regie=CRECHES)], NOW)
    yield PaymentService(cache, Payments(), operators=one_person("Anne"), desk="poste-1", clock=lambda: NOW,
                         day=day_service(desk="poste-1", clock=lambda: NOW))
    database.close()


def cheque(invoices, amount, number="1234567", regie=102):
    return PaymentRequest(1312, regie, invoices, Decimal(amount), Mode.CHEQUE, {"cheque_number": number})


def test_record_end_to_end(service):
    rec = service.record(cheque([9, 8], "16.00"))
    assert rec.receipt == "102-2026-POSTE1-000001" and rec.state == "pending"
    assert rec.amount == Decimal("16.00") and rec.mode == "cheque" and rec.operator == "Anne"
    assert rec.regie_label == "CANTINE / CLAE" and rec.payer_name == "SIMPSON MARGE"
    assert rec.details == {"cheque_number": "1234567"}
    assert [(i["number"], i["share"], i["expected_paid"]) for i in rec.invoices] == [
        (9, "6.00", "10.00"),
        (8, "10.00", "10.00"),
    ]
    assert service.payments.expected_paid(1312, 102) == {9: Decimal("10.00"), 8: Decimal("10.00")}
    # what a desk shows now: the cache's figures plus the pending payment
    shown = apply_pending(service.cache.load_invoices(1312, 102)[102].invoices,
                          service.payments.expected_paid(1312, 102))
    by_number = {i.number: i for i in shown}
    assert by_number[9].remaining == 0 and by_number[8].remaining == Decimal("18.98")


def test_paying_the_same_remaining_twice_is_refused(service):
    first = service.record(cheque([8], "28.98"))
    assert first.receipt == "102-2026-POSTE1-000001"
    with pytest.raises(PaymentRefused) as info:
        service.record(cheque([8], "28.98", number="7654321"))
    message = str(info.value)
    assert "Un paiement déjà enregistré (sur ce poste ou un autre) couvre ces factures." in message
    assert "déjà réglée" in message and info.value.field == "invoices"
    assert models.Payment.select().count() == 1
    # the refusal did not consume a receipt number
    assert service.record(cheque([9], "6")).receipt == "102-2026-POSTE1-000002"


def test_a_second_payment_may_take_only_what_is_left(service):
    service.record(cheque([8], "10.00"))
    with pytest.raises(PaymentRefused) as info:
        service.record(cheque([8], "28.98"))
    assert info.value.field == "amount"
    assert f"(18,98{NB}€)" in str(info.value) and "Un paiement déjà enregistré" in str(info.value)
    second = service.record(cheque([8], "18.98"))
    assert second.invoices[0]["expected_paid"] == "28.98"
    assert service.payments.expected_paid(1312, 102) == {8: Decimal("28.98")}


def test_record_refuses_what_the_rules_refuse(service):
    with pytest.raises(PaymentRefused, match="Trésor public"):
        service.record(cheque([10], "1"))
    with pytest.raises(PaymentRefused, match="Facture 99 inconnue pour la famille 1312"):
        service.record(cheque([99], "1"))
    with pytest.raises(PaymentRefused, match="Facture 8 inconnue"):  # it is in régie 102, not 101
        service.record(cheque([8], "1", regie=101))
    with pytest.raises(PaymentRefused, match="n'accepte pas le paiement par CESU"):
        service.record(PaymentRequest(1312, 102, [8], Decimal("1"), Mode.CESU, {}))
    with pytest.raises(PaymentRefused, match="espèces refusé"):
        service.record(PaymentRequest(1312, 101, [3], Decimal("300.01"), Mode.ESPECES, {}))
    assert models.Payment.select().count() == 0
    assert service.record(PaymentRequest(1312, 101, [3], Decimal("10"), Mode.CESU, {})).receipt == "101-2026-POSTE1-000001"


def test_receipt_year_is_the_paris_year(database_spec):
    database = open_database(database_spec)
    try:
        cache = Cache()
        cache.save_invoices(1312, 102, [inv(8)], NOW)
        new_year_in_paris = datetime(2025, 12, 31, 23, 30, tzinfo=timezone.utc)  # 00:30 on 1 January
        svc = PaymentService(cache, Payments(), operators=one_person("A"), desk="d", clock=lambda: new_year_in_paris,
                             day=day_service(desk="d", clock=lambda: new_year_in_paris))
        assert svc.record(cheque([8], "1")).receipt == "102-2026-D-000001"
    finally:
        database.close()


def test_mode_overrides_reach_the_service(tmp_path):
    database = open_database(tmp_path / "o.sqlite3")
    try:
        cache = Cache()
        cache.save_invoices(1312, 102, [inv(8)], NOW)
        svc = PaymentService(cache, Payments(), operators=one_person("A"), desk="d", clock=lambda: NOW,
                             day=day_service(desk="d", clock=lambda: NOW),
                             mode_overrides={"102": ["cesu"]})
        with pytest.raises(PaymentRefused, match="Chèque"):
            svc.record(cheque([8], "1"))
        assert svc.record(PaymentRequest(1312, 102, [8], Decimal("1"), Mode.CESU, {})).state == "pending"
    finally:
        database.close()


def test_cash_given_typed_as_text_is_parsed_or_refused_cleanly():
    from maelis_desk.services.payments import PaymentRefused, check_details

    assert check_details(Mode.ESPECES, Decimal("12.50"), {"cash_given": "20,00"})["change"] == "7.50"
    with pytest.raises(PaymentRefused) as info:
        check_details(Mode.ESPECES, Decimal("12.50"), {"cash_given": "vingt"})
    assert info.value.field == "cash_given" and "Somme remise" in str(info.value)
