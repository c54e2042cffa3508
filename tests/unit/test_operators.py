"""Operators, roles enforced in the services, cancellations and the journal, on a real desk database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from maelis_desk.config import load_settings
from maelis_desk.domain import Action, Invoice, Regie, Role
from maelis_desk.services import Desk
from maelis_desk.services.errors import CancelRefused
from maelis_desk.services.errors import AuthenticationRefused, OperatorRefused, PermissionDenied
from maelis_desk.services.payments import Mode, PaymentRequest
from maelis_desk.store.database import db
from maelis_desk.store.models import Operator as OperatorRow

PLUS1 = timezone(timedelta(hours=1))
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
CANTINE = Regie(102, "CANTINE / CLAE")


def inv(number, amount="28.98", paid="0"):
    return Invoice(regie=CANTINE, number=number, id=f"F102{number:06d}", label="CLAE JANVIER 2026", family=1312,
                   payer_name="SIMPSON MARGE", date=datetime(2026, 2, 24, tzinfo=PLUS1),
                   deadline=datetime(2026, 3, 31, tzinfo=PLUS1), amount=Decimal(amount), paid=Decimal(paid))


@pytest.fixture
def desk(tmp_path):
    settings = load_settings({"offline": True, "database": str(tmp_path / "desk.sqlite3"), "operator": "Anne"})
    desk = Desk.open(settings)
    desk.cache.save_invoices(1312, 102, [inv(n) for n in range(1, 9)], NOW)
    desk.day.open_session(Decimal("0"))  # payments are taken in the open cash session
    yield desk
    desk.close()


def pay(desk, number, amount="10.00"):
    return desk.payments.record(PaymentRequest(1312, 102, [number], Decimal(amount), Mode.ESPECES, {}))


@pytest.fixture
def staffed(desk):
    """A desk with a régisseur, a cashier and a supervisor; nobody logged in."""
    ops = desk.operators
    ops.add("regie", "Régis Dupont", Role.REGISSEUR, "regie-pw")
    ops.login("regie", "regie-pw")
    ops.add("caisse", "Camille Caisse", Role.CAISSIER, "caisse-pw")
    ops.add("caisse2", "Paul Caisse", Role.CAISSIER, "caisse2-pw")
    ops.add("controle", "Claire Contrôle", Role.SUPERVISEUR, "controle-pw")
    ops.logout()
    return desk


def as_(desk, login):
    desk.operators.login(login, f"{login}-pw")
    return desk


# --- accounts and logging in ---------------------------------------------------------


def test_one_person_desk_until_an_account_exists(desk):
    assert desk.operators.one_person
    assert desk.operator.implicit and desk.operator.role is Role.REGISSEUR and desk.operator.full_name == "Anne"
    record = pay(desk, 1)
    assert record.operator == "Anne" and record.operator_login is None
    with pytest.raises(OperatorRefused, match="premier compte"):
        desk.operators.add("caisse", "Camille", Role.CAISSIER, "secret")
    desk.operators.add("regie", "Régis Dupont", Role.REGISSEUR, "secret")
    assert not desk.operators.one_person
    with pytest.raises(AuthenticationRefused):
        desk.operator  # accounts exist: somebody must log in


def test_passwords_are_argon2id_hashes_and_checked(staffed):
    stored = OperatorRow.get(OperatorRow.login == "caisse").password_hash
    assert stored.startswith("$argon2id$") and "caisse-pw" not in stored
    for login, password in (("caisse", "wrong"), ("nobody", "caisse-pw"), ("caisse", "")):
        with pytest.raises(AuthenticationRefused, match="incorrect"):
            staffed.operators.login(login, password)
    assert staffed.operators.login("CAISSE", "caisse-pw").login == "caisse"


def test_disabled_account_cannot_log_in_and_last_regisseur_stays(staffed):
    as_(staffed, "regie")
    staffed.operators.disable("caisse")
    with pytest.raises(AuthenticationRefused, match="désactivé"):
        staffed.operators.login("caisse", "caisse-pw")
    as_(staffed, "regie")
    with pytest.raises(OperatorRefused, match="dernier compte régisseur"):
        staffed.operators.disable("regie")
    with pytest.raises(OperatorRefused, match="dernier compte régisseur"):
        staffed.operators.set_role("regie", Role.CAISSIER)
    with pytest.raises(OperatorRefused, match="existe déjà"):
        staffed.operators.add("caisse2", "X", Role.CAISSIER, "abcd")


def test_lock_and_unlock(staffed):
    as_(staffed, "caisse")
    staffed.operators.lock()
    with pytest.raises(AuthenticationRefused, match="verrouillé"):
        pay(staffed, 1)
    with pytest.raises(AuthenticationRefused):
        staffed.operators.unlock("wrong")
    assert staffed.operators.unlock("caisse-pw").login == "caisse"
    assert pay(staffed, 1).operator_login == "caisse"


# --- roles, for each action, enforced by the services ----------------------------------


def test_cashier_takes_payments_and_sees_only_their_own(staffed):
    as_(staffed, "caisse2")
    other = pay(staffed, 2)
    as_(staffed, "caisse")
    mine = pay(staffed, 1)
    assert mine.operator == "Camille Caisse" and mine.operator_login == "caisse"
    assert [r.receipt for r in staffed.payments.outbox()] == [mine.receipt]
    assert staffed.payments.by_receipt(mine.receipt).id == mine.id
    with pytest.raises(PermissionDenied, match="autre opérateur"):
        staffed.payments.by_receipt(other.receipt)
    assert staffed.receipts.pdf(mine, duplicate=True).startswith(b"%PDF")
    with pytest.raises(PermissionDenied, match="autre opérateur"):
        staffed.receipts.pdf(other, duplicate=True)
    for call in (lambda: staffed.cancellations.cancel(mine.receipt, "erreur"),
                 lambda: staffed.cancellations.to_regularize(),
                 lambda: staffed.operators.add("x1", "X", Role.CAISSIER, "abcd"),
                 lambda: staffed.operators.disable("caisse2"),
                 lambda: staffed.operators.list(),
                 lambda: staffed.journal.verify(),
                 lambda: staffed.journal.entries()):
        with pytest.raises(PermissionDenied):
            call()


def test_supervisor_reads_everything_and_touches_no_money(staffed):
    as_(staffed, "caisse")
    taken = pay(staffed, 1)
    as_(staffed, "controle")
    assert [r.receipt for r in staffed.payments.outbox()] == [taken.receipt]
    assert staffed.payments.by_receipt(taken.receipt).id == taken.id
    assert staffed.journal.verify().intact and staffed.journal.entries()
    assert {o.login for o in staffed.operators.list()} == {"regie", "caisse", "caisse2", "controle"}
    assert staffed.cancellations.to_regularize() == []
    for call in (lambda: pay(staffed, 2),
                 lambda: staffed.receipts.pdf(taken),
                 lambda: staffed.cancellations.cancel(taken.receipt, "erreur"),
                 lambda: staffed.operators.add("x1", "X", Role.CAISSIER, "abcd"),
                 lambda: staffed.operators.disable("caisse")):
        with pytest.raises(PermissionDenied, match="superviseur"):
            call()
    assert not staffed.operators.allowed(Action.TAKE_PAYMENT)


def test_regisseur_does_everything(staffed):
    as_(staffed, "caisse")
    taken = pay(staffed, 1)
    as_(staffed, "regie")
    own = pay(staffed, 2)
    assert {r.receipt for r in staffed.payments.outbox()} == {taken.receipt, own.receipt}
    assert staffed.receipts.pdf(taken, duplicate=True).startswith(b"%PDF")
    staffed.cancellations.cancel(taken.receipt, "famille", "c'était la famille 1313")
    staffed.operators.disable("caisse2")
    staffed.operators.enable("caisse2")
    assert staffed.journal.verify().intact


def test_dockets_are_the_regisseurs_and_the_supervisor_reads_them(staffed):
    """Issue 12 point 3: a docket takes money out of the régie (régisseur only); the supervisor
    reads the dockets and the monthly statement; a cashier does neither."""
    from maelis_desk.domain_day import DocketType

    day = staffed.day
    as_(staffed, "caisse")
    pay(staffed, 1)
    pay(staffed, 2, "5.50")
    today = day.today()
    for call in (lambda: day.create_docket(102, DocketType.ESPECES),):
        with pytest.raises(PermissionDenied, match="n'a pas le droit de préparer, valider ou supprimer un bordereau"):
            call()
    for call in (lambda: day.dockets(), lambda: day.statement(102, today.year, today.month)):
        with pytest.raises(PermissionDenied, match="Camille Caisse \\(caissier\\) n'a pas le droit de consulter les "
                                                   "bordereaux et l'état mensuel"):
            call()
    assert not staffed.operators.allowed(Action.MANAGE_DOCKETS)
    assert not staffed.operators.allowed(Action.SEE_DOCKETS)

    as_(staffed, "regie")
    assert staffed.operators.allowed(Action.MANAGE_DOCKETS)
    draft = day.create_docket(102, DocketType.ESPECES)
    day.discard_docket(draft.id)
    draft = day.create_docket(102, DocketType.ESPECES)
    assert (draft.count, draft.total) == (2, Decimal("15.50"))

    as_(staffed, "controle")
    assert staffed.operators.allowed(Action.SEE_DOCKETS) and not staffed.operators.allowed(Action.MANAGE_DOCKETS)
    for call in (lambda: day.validate_docket(draft.id), lambda: day.discard_docket(draft.id),
                 lambda: day.create_docket(102, DocketType.CHEQUE)):
        with pytest.raises(PermissionDenied, match="superviseur"):
            call()
    assert day.docket(draft.id).state.value == "draft"  # refused: nothing changed

    as_(staffed, "regie")
    validated = day.validate_docket(draft.id)
    assert validated.number == f"B-102-{today.year}-0001"
    as_(staffed, "controle")
    assert [d.number for d in day.dockets()] == [validated.number]
    assert day.docket(draft.id).total == Decimal("15.50")
    assert [d.number for d in day.statement(102, today.year, today.month).dockets] == [validated.number]


def test_the_till_is_whoever_takes_money_and_the_supervisor_reads_every_session(staffed):
    """Issue 12 points 1 and 2: opening, moving and closing the till need TAKE_PAYMENT (cashier,
    régisseur); the supervisor reads every desk's sessions and Z reports but never touches the
    till; a cashier reads this desk's sessions only."""
    from maelis_desk.domain_day import Counted, MoveReason
    from maelis_desk.services.day import DayService
    from maelis_desk.store.day import DayStore
    from maelis_desk.store.payments import Payments

    day = staffed.day
    as_(staffed, "controle")
    for call in (lambda: day.open_session(Decimal("10")), lambda: day.move(Decimal("5"), MoveReason.APPORT),
                 lambda: day.close(Counted(Decimal("0"), 0, Decimal("0"), Decimal("0")))):
        with pytest.raises(PermissionDenied, match="Claire Contrôle \\(superviseur \\(consultation\\)\\) "
                                                   "n'a pas le droit d'encaisser un paiement"):
            call()
    assert day.status().expected.cash == Decimal("0")  # refused: nothing moved
    as_(staffed, "caisse")
    day.move(Decimal("20"), MoveReason.APPORT)
    z = day.close(Counted(Decimal("20"), 0, Decimal("0"), Decimal("0"))).z_number
    assert day.open_session(Decimal("20")).float_amount == Decimal("20")
    other = DayService(DayStore(), Payments(), desk="guichet-2", operator=lambda: "Paul", clock=day.clock)
    other.open_session(Decimal("0"))
    other_z = other.close(Counted(Decimal("0"), 0, Decimal("0"), Decimal("0"))).z_number
    assert {s.desk for s in day.sessions()} == {staffed.settings.code}  # the till is the code's
    assert day.closing_by_z(z).z_number == z
    for call in (lambda: day.sessions(every_desk=True), lambda: day.closing_by_z(other_z)):
        with pytest.raises(PermissionDenied, match="voir les paiements de tous les opérateurs"):
            call()
    as_(staffed, "controle")
    assert {s.desk for s in day.sessions(every_desk=True)} == {staffed.settings.code, "guichet-2"}
    assert day.closing_by_z(other_z).z_number == other_z
    assert staffed.operators.allowed(Action.SEE_ALL_PAYMENTS) and not staffed.operators.allowed(Action.TAKE_PAYMENT)


# --- cancelling ---------------------------------------------------------------------------


def test_cancel_a_pending_payment_withdraws_it_and_the_invoice_is_due_again(staffed):
    as_(staffed, "caisse")
    taken = pay(staffed, 1, "28.98")
    assert staffed.payments_store.expected_paid(1312, 102) == {1: Decimal("28.98")}
    as_(staffed, "regie")
    with pytest.raises(CancelRefused, match="commentaire"):
        staffed.cancellations.cancel(taken.receipt, "autre")
    item = staffed.cancellations.cancel(taken.receipt, "erreur", "montant faux")
    assert item.cancellation.status == "cancelled" and item.payment.state == "cancelled"
    assert "Rien à faire" in item.what_to_do
    assert staffed.payments_store.expected_paid(1312, 102) == {}
    assert staffed.payments_store.due(NOW + timedelta(days=1)) == []
    assert staffed.payments.by_receipt(taken.receipt).amount == Decimal("28.98")  # never deleted
    with pytest.raises(CancelRefused, match="déjà annulé"):
        staffed.cancellations.cancel(taken.receipt, "erreur")
    # the invoice can be paid again
    assert pay(staffed, 1, "28.98").state == "pending"


def test_cancel_while_the_transmitter_holds_the_lease_before_sending(staffed):
    """The transmitter claimed it and reads the baseline; the cancel wins, nothing is sent."""
    as_(staffed, "regie")
    taken = pay(staffed, 1)
    store = staffed.payments_store
    assert store.claim(taken.id, "tx", NOW, timedelta(minutes=1), states=("pending",), alone=True)
    staffed.cancellations.cancel(taken.receipt, "erreur")
    # the transmitter's next write (durably 'sending' before the request leaves) fails: it never sends
    assert not store.transition(taken.id, "tx", NOW, state="sending", action="send", outcome="sending",
                                release=False, baseline={"1": "0.00"}, sent_at=NOW)
    assert store.get(taken.id).state == "cancelled"
    assert staffed.journal.verify().intact


@pytest.mark.parametrize("outcome, status", [("sent", "to_regularize"), ("pending", "cancelled"),
                                             ("rejected", "cancelled"), ("review", "to_regularize")])
def test_cancel_during_a_send_waits_for_its_outcome(staffed, outcome, status):
    as_(staffed, "regie")
    taken = pay(staffed, 1)
    store = staffed.payments_store
    assert store.claim(taken.id, "tx", NOW, timedelta(minutes=1), states=("pending",), alone=True)
    assert store.transition(taken.id, "tx", NOW, state="sending", action="send", outcome="sending",
                            release=False, baseline={"1": "0.00"}, sent_at=NOW)
    item = staffed.cancellations.cancel(taken.receipt, "famille")
    assert item.cancellation.status == "waiting" and store.get(taken.id).state == "sending"
    assert "en cours" in item.what_to_do
    assert [c.payment.receipt for c in staffed.cancellations.to_regularize()] == [taken.receipt]
    if outcome == "review":  # the answer was lost, then reconciliation could not tell
        assert store.transition(taken.id, "tx", NOW, state="uncertain", action="send", outcome="uncertain",
                                release=False)
        assert staffed.cancellations.get(taken.receipt).cancellation.status == "waiting"
    assert store.transition(taken.id, "tx", NOW, state=outcome, action="send", outcome=outcome, release=False)
    after = staffed.cancellations.get(taken.receipt)
    assert after.cancellation.status == status and after.payment.state == "cancelled"
    # the transmitter's next step (confirming, resending) finds its lease gone
    assert not store.transition(taken.id, "tx", NOW, state="confirmed", action="confirm", outcome="confirmed")
    assert store.due(NOW + timedelta(days=1)) == []
    listed = [c.payment.receipt for c in staffed.cancellations.to_regularize()]
    assert listed == ([taken.receipt] if status == "to_regularize" else [])
    assert staffed.journal.verify().intact


def test_crash_while_sending_then_cancel_then_recovery(staffed):
    """A desk died in 'sending' (lease expired): the cancel waits, recovery settles it."""
    as_(staffed, "regie")
    taken = pay(staffed, 1)
    store = staffed.payments_store
    store.claim(taken.id, "dead", NOW, timedelta(seconds=1), states=("pending",), alone=True)
    store.transition(taken.id, "dead", NOW, state="sending", action="send", outcome="sending", release=False,
                     baseline={"1": "0.00"}, sent_at=NOW)
    staffed.cancellations.cancel(taken.receipt, "erreur")
    later = NOW + timedelta(minutes=5)
    assert store.claim(taken.id, "alive", later, timedelta(minutes=1), states=("sending",))
    store.transition(taken.id, "alive", later, state="uncertain", action="recover", outcome="uncertain")
    assert staffed.cancellations.get(taken.receipt).cancellation.status == "waiting"
    assert store.claim(taken.id, "alive", later, timedelta(minutes=1), states=("uncertain",))
    store.transition(taken.id, "alive", later, state="pending", action="reconcile", outcome="not-applied")
    assert staffed.cancellations.get(taken.receipt).cancellation.status == "cancelled"
    assert store.due(later + timedelta(days=1)) == []


def test_applied_payment_is_listed_to_regularize_until_marked(staffed):
    as_(staffed, "regie")
    taken = pay(staffed, 1)
    store = staffed.payments_store
    store.claim(taken.id, "tx", NOW, timedelta(minutes=1), states=("pending",), alone=True)
    store.transition(taken.id, "tx", NOW, state="confirmed", action="send", outcome="confirmed")
    item = staffed.cancellations.cancel(taken.receipt, "cheque-refuse", "impayé banque")
    assert item.cancellation.status == "to_regularize"
    assert "Dans Maelis, famille 1312" in item.what_to_do and taken.reference in item.what_to_do
    assert [c.payment.receipt for c in staffed.cancellations.to_regularize()] == [taken.receipt]
    as_(staffed, "caisse")
    with pytest.raises(PermissionDenied):
        staffed.cancellations.regularize(taken.receipt)
    as_(staffed, "regie")
    done = staffed.cancellations.regularize(taken.receipt, "contre-passé le 03/03")
    assert done.cancellation.status == "regularized" and done.cancellation.regularized_by == "regie"
    assert staffed.cancellations.to_regularize() == []
    with pytest.raises(CancelRefused):
        staffed.cancellations.regularize(taken.receipt)
    assert staffed.journal.verify().intact
    kinds = [e.kind for e in staffed.journal.entries() if e.payment == taken.id]
    assert kinds == ["payment.recorded", "payment.state", "payment.cancelled", "payment.regularized"]


# --- the journal ---------------------------------------------------------------------------


@pytest.fixture
def journaled(staffed):
    as_(staffed, "caisse")
    payments = [pay(staffed, n, f"{n}.00") for n in (1, 2, 3)]
    as_(staffed, "regie")
    staffed.cancellations.cancel(payments[1].receipt, "erreur")
    verdict = staffed.journal.verify()
    # the till opened (the desk fixture), 4 accounts, 3 payments, 1 cancellation
    assert verdict.intact and verdict.count == 1 + 4 + 3 + 1
    return staffed, payments


def seq_of(desk, kind, receipt):
    return next(e.seq for e in desk.journal.entries() if e.kind == kind and e.receipt == receipt)


def test_journal_entries_chain_by_sha256(journaled):
    desk, _ = journaled
    entries = desk.journal.entries()
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash and len(b.hash) == 64 for a, b in zip(entries, entries[1:]))


def test_tamper_payment_amount(journaled):
    desk, payments = journaled
    db.execute_sql('UPDATE "payment" SET "amount_cents" = 100 WHERE "receipt" = ?', (payments[2].receipt,))
    verdict = desk.journal.verify()
    assert not verdict.intact
    assert verdict.first.seq == seq_of(desk, "payment.recorded", payments[2].receipt)
    assert payments[2].receipt in verdict.first.message and "amount_cents" in verdict.first.message


def test_tamper_journal_amount(journaled):
    desk, payments = journaled
    seq = seq_of(desk, "payment.recorded", payments[0].receipt)
    db.execute_sql('UPDATE "journal_entry" SET "amount_cents" = 1 WHERE "seq" = ?', (seq,))
    verdict = desk.journal.verify()
    assert verdict.first.seq == seq and "modifié" in verdict.first.message


def test_tamper_delete_a_row(journaled):
    desk, payments = journaled
    seq = seq_of(desk, "payment.recorded", payments[1].receipt)
    db.execute_sql('DELETE FROM "journal_entry" WHERE "seq" = ?', (seq,))
    verdict = desk.journal.verify()
    assert verdict.first.seq == seq and f"n° {seq} absente" in verdict.first.message


def test_tamper_delete_the_last_rows(journaled):
    desk, _ = journaled
    last = desk.journal.entries()[-1].seq
    db.execute_sql('DELETE FROM "journal_entry" WHERE "seq" >= ?', (last - 1,))
    verdict = desk.journal.verify()
    assert verdict.first.seq == last - 1 and "fin du journal" in verdict.first.message


def test_tamper_insert_a_row(journaled):
    desk, _ = journaled
    entries = desk.journal.entries()
    # make room in the middle, as someone slipping an entry in would
    db.execute_sql('UPDATE "journal_entry" SET "seq" = "seq" + 1000 WHERE "seq" > 5')
    db.execute_sql('UPDATE "journal_entry" SET "seq" = "seq" - 999 WHERE "seq" > 1000')
    db.execute_sql(
        'INSERT INTO "journal_entry" ("seq", "at", "kind", "operator", "desk", "data", "prev_hash", "hash") '
        "VALUES (6, ?, 'operator.created', NULL, 'x', '{}', ?, ?)",
        ("2026-03-02T09:30:00.000000+00:00", entries[4].hash, "0" * 64),
    )
    verdict = desk.journal.verify()
    assert verdict.first.seq == 6


def test_tamper_reorder(journaled):
    desk, _ = journaled
    db.execute_sql('UPDATE "journal_entry" SET "seq" = -1 WHERE "seq" = 5')
    db.execute_sql('UPDATE "journal_entry" SET "seq" = 5 WHERE "seq" = 6')
    db.execute_sql('UPDATE "journal_entry" SET "seq" = 6 WHERE "seq" = -1')
    verdict = desk.journal.verify()
    assert verdict.first.seq == 5 and not verdict.intact


def test_tamper_delete_a_payment_or_its_state(journaled):
    desk, payments = journaled
    db.execute_sql('UPDATE "outbox" SET "state" = \'confirmed\' WHERE "payment" = ?', (payments[0].id,))
    verdict = desk.journal.verify()
    assert "« confirmed » en base, « pending » au journal" in verdict.first.message
    db.execute_sql('DELETE FROM "payment" WHERE "id" = ?', (payments[2].id,))
    messages = [b.message for b in desk.journal.verify().breaks]
    assert any("supprimé de la base" in m and payments[2].receipt in m for m in messages)


def test_tamper_add_a_payment_behind_the_desks_back(journaled):
    desk, payments = journaled
    db.execute_sql(
        'INSERT INTO "payment" ("id", "receipt", "regie", "regie_label", "family", "payer_name", "amount_cents", '
        '"mode", "details", "invoices", "operator", "desk", "desk_code", "created_at") '
        "VALUES ('x', '102-2026-999999', 102, 'C', 1312, 'P', 100, 'especes', '{}', '[]', 'o', 'd', 'D', ?)",
        ("2026-03-02T09:30:00.000000+00:00",),
    )
    messages = [b.message for b in desk.journal.verify().breaks]
    assert any("102-2026-999999" in m and "absent du journal" in m for m in messages)


def test_operator_changes_are_journaled(staffed):
    as_(staffed, "regie")
    staffed.operators.disable("caisse2")
    staffed.operators.set_password("caisse", "nouveau")
    changes = [e.data for e in staffed.journal.entries() if e.kind == "operator.changed"]
    assert changes == [{"login": "caisse2", "active": False}, {"login": "caisse", "password": "changé"}]
    assert all("argon2" not in str(e.data) for e in staffed.journal.entries())


def test_a_payment_in_a_validated_docket_cannot_be_cancelled(staffed):
    from maelis_desk.domain_day import DocketType

    as_(staffed, "regie")
    taken = staffed.payments.record(PaymentRequest(1312, 102, [1], Decimal("10.00"), Mode.CHEQUE,
                                                   {"cheque_number": "1234567"}))
    docket = staffed.day.validate_docket(staffed.day.create_docket(102, DocketType.CHEQUE).id)
    preview = staffed.cancellations.preview(taken.receipt)
    assert preview.locked and docket.number in preview.refusal
    with pytest.raises(CancelRefused, match=f"{docket.number}.*ne peut plus être annulé"):
        staffed.cancellations.cancel(taken.receipt, "erreur")
    assert staffed.cancellations.get(taken.receipt) is None and staffed.journal.verify().intact


def test_settings_are_the_regisseurs(staffed):
    """Issue 11 point 2: changing the settings is checked in the service, not only by a greyed menu."""
    from dataclasses import replace as copy

    from maelis_desk import config

    new = copy(staffed.settings, timeout=7.0)
    for login in ("caisse", "controle"):
        as_(staffed, login)
        with pytest.raises(PermissionDenied, match="modifier les réglages"):
            staffed.save_settings(new)
        assert not config.settings_file().exists()
        staffed.operators.logout()
    as_(staffed, "regie")
    assert staffed.save_settings(new) == config.settings_file()
    assert config.load_settings().timeout == 7.0


def test_a_one_person_desk_changes_its_settings(desk):
    from maelis_desk import config

    assert desk.save_settings(desk.settings).exists() and config.settings_file().exists()
