"""The command line, on top of services/ like the UI: for scripting, support and tests.

Messages are in French; an expected error never shows a Python traceback.
Exit codes: 0 success; 2 usage; 3 Maelis unreachable and nothing cached;
4 authentication refused; 5 Maelis business fault; 6 protocol error;
7 refused by a rule (payment: amount, mode, invoice already paid, no open cash session;
the day: a difference without its comment, a second draft docket...);
8 the journal does not hold; 9 the operator's role does not allow it
(operators, cancellations, journal: cli_audit.py); 10 the database cannot be
opened; 11 a payment IS recorded but a later step failed (its receipt number is
printed); 12 the database failed while writing: nothing was recorded; 13 the
desk's code is another desk's (another settings folder) in the same database.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import re
import sys
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from . import __version__, cli_audit, cli_day, cli_fr
from .config import Settings, SettingsError, settings_from_args
from .domain import Family, Freshness, Invoice, RegieInvoices
from .formatting import age_fr, euros, fr_date, fr_datetime
from .formatting import AmountError, os_error_fr, parse_amount
from .services.errors import (EXIT_AUTH, EXIT_RECORDED_BUT, EXIT_REFUSED, DeskError, PaymentRefused, as_desk_error,
                             from_store)
from .services.health import State
from .services.modes import Kind, detail_options, mode_label
from .services.payments import MODE_LABELS, Mode, PaymentRequest


EXIT_OK, EXIT_USAGE = 0, 2  # the others (3 to 7) are the services' errors' (services/errors.py)


EXIT_CODES_HELP = """codes de sortie :
  0 succès ; 2 usage ; 3 Maelis injoignable et rien en cache ; 4 identification refusée ;
  5 refus de Maelis ; 6 réponse de Maelis incompréhensible ; 7 refusé par une règle ;
  8 journal rompu ; 9 rôle de l'opérateur insuffisant ; 10 base de données impossible à ouvrir ;
  11 paiement ENREGISTRÉ (quittance indiquée) mais une étape suivante a échoué (fichier de
     quittance, transmission) : ne pas encaisser à nouveau ;
  12 la base de données a échoué pendant l'écriture (disque plein…) : rien n'est enregistré ;
  13 le code du poste est déjà celui d'un autre poste (autre dossier de réglages) de la même base"""


class FrenchParser(argparse.ArgumentParser):
    def error(self, message: str):  # exit code 2, in French
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog} : erreur : {message}\n")


MAX_NUMBER = 2**63 - 1  # the largest integer SQLite and PostgreSQL (bigint) store


def invoice_ref(text: str) -> int | str:
    """An invoice as the window or its PDF names it: its number in the régie (8) or its
    printed number (F10055591232)."""
    text = text.strip()
    if text.isdigit():
        return positive_int(text)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}", text):
        raise argparse.ArgumentTypeError(f"facture attendue (son numéro, ou son n° imprimé F…) : « {text} »")
    return text


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu : « {text} »") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"nombre positif attendu : « {text} »")
    if value > MAX_NUMBER:  # no Maelis number is that large, and the database could not hold it
        raise argparse.ArgumentTypeError(f"nombre trop grand : « {text} » (au plus {MAX_NUMBER})")
    return value


def _connection_options(g) -> None:
    g.add_argument("--url", help="base des services Maelis (MAELIS_DESK_URL) ; absente : le Maelis de démonstration")
    g.add_argument("--user", help="utilisateur Maelis (MAELIS_DESK_USER)")
    g.add_argument("--password-file", metavar="FICHIER",
                   help="fichier dont la première ligne est le mot de passe Maelis ; sinon MAELIS_DESK_PASSWORD, "
                        "le trousseau du système, ou demandé au clavier (jamais sur la ligne de commande : "
                        "« ps » la montre à tous)")
    # Refused with its reason (run): a password in argv is readable by every user of the machine.
    g.add_argument("--password", dest="password_in_argv", help=argparse.SUPPRESS)
    g.add_argument("--database", help="chemin ou URL de la base locale (MAELIS_DESK_DATABASE)")
    g.add_argument("--timeout", help="délai de réponse de Maelis en secondes (MAELIS_DESK_TIMEOUT, défaut 5)")
    g.add_argument("--desk-code", metavar="CODE", help="le code de ce poste, sur chaque paiement et dans ses "
                   "numéros de quittance (MAELIS_DESK_CODE) ; défaut : tiré du nom de la machine")
    g.add_argument("--offline", action="store_true", help="ne jamais interroger Maelis (MAELIS_DESK_OFFLINE)")
    g.add_argument("--operator", metavar="LOGIN", help="l'opérateur qui agit (MAELIS_DESK_OPERATOR) ; son mot de "
                   "passe : MAELIS_DESK_OPERATOR_PASSWORD ou demandé")
    g.add_argument("-v", "--verbose", action="store_true", help="journal détaillé sur la sortie d'erreur")


def build_parser() -> argparse.ArgumentParser:
    cli_fr.install()  # argparse's own words (usage, errors, help headings) in French
    parser = FrenchParser(
        prog="maelis-desk",
        description="Maelis Desk : caisse des régies de recettes. Sans commande : la fenêtre.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"maelis-desk {__version__}",
                        help="afficher la version de Maelis Desk et quitter")
    parser.add_argument("--self-check", metavar="FAMILLE", type=positive_int,
                        help="sans commande : la fenêtre s'ouvre, vérifie d'elle-même traductions, icône, style, "
                             "la famille FAMILLE lue depuis Maelis et le PDF d'une de ses factures, puis se "
                             "ferme (code 0 si tout va bien ; après une installation)")
    _connection_options(parser.add_argument_group("connexion (chaque option a sa variable d'environnement)"))
    parser.set_defaults(offline=None)  # None: let MAELIS_DESK_OFFLINE decide
    # The same options are also accepted after the command (`families X --offline`).
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    _connection_options(common.add_argument_group("connexion"))

    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=FrenchParser)

    p = sub.add_parser("regies", parents=[common], help="liste des régies")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("families", parents=[common], help="chercher une famille par numéro ou par nom")
    p.add_argument("text", metavar="TEXTE")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("family", parents=[common], help="le dossier d'une famille")
    p.add_argument("number", metavar="NUMERO", type=positive_int)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("invoices", parents=[common], help="les factures d'une famille (par défaut : à payer)")
    p.add_argument("family", metavar="FAMILLE", type=positive_int)
    p.add_argument("--regie", metavar="CODE", type=positive_int)
    p.add_argument("--history", action="store_true", help="l'historique (payées, transmises) au lieu des factures à payer")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("pdf", parents=[common], help="enregistrer le PDF d'une facture")
    p.add_argument("regie", metavar="REGIE", type=positive_int)
    p.add_argument("invoice", metavar="FACTURE", type=invoice_ref,
                   help="son numéro dans la régie, ou son n° imprimé (F…)")
    p.add_argument("-o", "--output", metavar="FICHIER", required=True)
    p.add_argument("--family", metavar="FAMILLE", type=positive_int,
                   help="la famille de la facture (lit d'abord ses factures, pour trouver un n° imprimé)")

    p = sub.add_parser("pay", parents=[common], help="enregistrer un paiement au guichet (transmis ensuite à Maelis)")
    p.add_argument("family", metavar="FAMILLE", type=positive_int)
    p.add_argument("--regie", metavar="CODE", type=positive_int, required=True)
    p.add_argument("--invoice", metavar="FACTURE", type=invoice_ref, action="append", required=True,
                   help="facture à payer : son numéro dans la régie ou son n° imprimé F… "
                        "(répétable, dans l'ordre d'imputation)")
    p.add_argument("--amount", metavar="MONTANT", required=True, help="montant, par exemple 12,50")
    p.add_argument("--mode", required=True, choices=[m.value for m in Mode])
    for detail, modes in detail_options().values():  # each mode's fields, from services/modes.py
        p.add_argument(detail.option, dest=detail.key, metavar=detail.metavar,
                       help=f"{detail.help} (--mode {', '.join(m.value for m in modes)})")
    p.add_argument("--receipt", metavar="FICHIER", help="enregistrer aussi la quittance PDF")
    p.add_argument("--no-transmit", action="store_true", help="ne pas tenter l'envoi à Maelis maintenant")
    p.add_argument("--request-id", metavar="CLE", help="clé d'idempotence, pour les scripts qui réessaient : un "
                   "second « pay » avec la même clé n'enregistre rien et redonne la quittance du premier")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("outbox", parents=[common], help="les paiements pas encore confirmés par Maelis")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="tous les paiements, confirmés compris")
    which.add_argument("--to-check", action="store_true",
                       help="seulement ceux qu'une personne doit vérifier (constatés dans Maelis sans accusé, "
                            "en doute, refusés)")
    p.add_argument("--json", action="store_true")

    sub.add_parser("transmit", parents=[common], help="envoyer maintenant à Maelis les paiements en attente")

    p = sub.add_parser("resolve", parents=[common],
                       help="dire, après vérification dans Maelis, si un paiement en doute y a été appliqué")
    p.add_argument("receipt", metavar="QUITTANCE")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--applied", action="store_true", help="Maelis le montre : le confirmer")
    which.add_argument("--not-applied", action="store_true", help="Maelis ne l'a pas : le renvoyer")
    p.add_argument("--note", metavar="TEXTE", help="ce qui a été vérifié (gardé dans l'historique)")

    p = sub.add_parser("sync", parents=[common], help="rafraîchir le cache là où les factures ont pu changer")
    p.add_argument("--budget", type=positive_int, default=2000,
                   help="nombre maximal d'appels à Maelis pour cette exécution (défaut 2000)")
    p.add_argument("--progress", action="store_true",
                   help="montrer l'avancement (une barre sur un terminal, des lignes dans un journal)")
    p.add_argument("--new-pass", action="store_true", help="commencer une nouvelle passe même si celle du jour est faite")

    p = sub.add_parser("history", parents=[common],
                       help="l'historique d'un paiement : enregistré, envoyé, accusé par Maelis ou seulement "
                            "constaté dans ses montants, vérifié, annulé")
    p.add_argument("receipt", metavar="QUITTANCE", help="numéro de quittance, par exemple 102-2026-A-000001")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("receipt", parents=[common], help="réimprimer la quittance d'un paiement (PDF)")
    p.add_argument("receipt", metavar="QUITTANCE", help="numéro de quittance, par exemple 102-2026-A-000001 (ou, avant les codes de poste, "
                   "102-2026-000001)")
    p.add_argument("-o", "--output", metavar="FICHIER", required=True)

    p = sub.add_parser("desk", parents=[common], help="ce poste : son nom, son code, sa base, son dossier")
    p.add_argument("--json", action="store_true")
    p.add_argument("--save", action="store_true", help="garder le code et la base donnés dans les réglages de ce "
                   "poste (settings.json de son dossier, jamais le mot de passe)")

    cli_day.add_commands(sub, common, positive_int)  # session, docket, statement
    cli_audit.add_parsers(sub, common)

    p = sub.add_parser("simulator", help="lancer le Maelis de démonstration")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--families", type=positive_int, default=300)
    p.add_argument("--latency", type=float, default=0.0, metavar="SECONDES")
    p.add_argument("--fault", default=None, metavar="MODE")
    p.add_argument("--state-dir", default=None, help="dossier où le simulateur garde les paiements reçus")
    p.add_argument("--seed", type=int, default=2023)
    return parser


# --- output ------------------------------------------------------------------


def _warn(text: str) -> None:
    print(f"⚠ {text}", file=sys.stderr)


def _freshness_note(freshness: Freshness, now: datetime) -> None:
    if freshness.from_cache:
        why = f" ({freshness.error})" if freshness.error else ""
        _warn(f"Données du cache, lues {age_fr(freshness.fetched_at, now)}{why}")


def family_json(family: Family) -> dict[str, Any]:
    return family.to_json()


def invoice_json(invoice: Invoice, freshness: Freshness) -> dict[str, Any]:
    d = {
        "regie": invoice.regie.code,
        "regie_label": invoice.regie.label,
        "number": invoice.number,
        "id": invoice.id,
        "label": invoice.label,
        "date": invoice.date.date().isoformat(),
        "deadline": invoice.deadline.date().isoformat(),
        "amount": f"{invoice.amount:.2f}",
        "paid": f"{invoice.paid_total:.2f}",
        "paid_treasury": f"{invoice.paid_treasury:.2f}",
        "remaining": f"{invoice.remaining:.2f}",
        "status": invoice.status.value,
        "transmitted_at": invoice.transmitted_at.isoformat() if invoice.transmitted_at else None,
        "source": freshness.source,
        "fetched_at": freshness.fetched_at.isoformat() if freshness.fetched_at else None,
        "lines": [
            {
                "number": line.number,
                "person": line.person_name,
                "label": line.label,
                "start": line.start.date().isoformat() if line.start else None,
                "end": line.end.date().isoformat() if line.end else None,
                "quantity": str(line.quantity),
                "unit_price": f"{line.unit_price:.2f}",
                "amount": f"{line.amount:.2f}",
            }
            for line in invoice.lines
        ],
    }
    if invoice.pending_paid:
        d["pending"] = f"{invoice.pending_paid:.2f}"
    return d


def _print_family(family: Family) -> None:
    print(f"Famille n° {family.number}" + (f" — {family.category}" if family.category else ""))
    for label, person in (("Responsable 1", family.rl1), ("Responsable 2", family.rl2)):
        if person is None:
            continue
        civility = f"{person.civility} " if person.civility else ""
        print(f"  {label} : {civility}{person.full_name}")
        if person.address:
            print(f"    {person.address.one_line()}")
    for child in family.children:
        born = f" (né·e le {fr_date(child.birth)})" if child.birth else ""
        print(f"  Enfant : {child.full_name}{born}")


def _print_invoices(lists: list[RegieInvoices], history: bool) -> None:
    shown = 0
    for regie_list in lists:
        invoices = regie_list.history if history else regie_list.to_pay
        if not invoices:
            continue
        print(f"\n{regie_list.regie.label} (régie {regie_list.regie.code})"
              + ("" if history else f" — reste dû : {euros(regie_list.due)}"))
        # the régie's number (numInvoice) and the printed one (idInvoice): either names it
        print(f"  {'n°':>8}  {'n° imprimé':<14} {'libellé':<34} {'date':<10}  {'échéance':<10}  "
              f"{'montant':>12}  {'reste dû':>12}  état")
        for inv in sorted(invoices, key=lambda i: i.date):
            print(
                f"  {inv.number:>8}  {inv.id:<14} {inv.label[:34]:<34} {fr_date(inv.date)}  "
                f"{fr_date(inv.deadline)}  {euros(inv.amount):>12}  {euros(inv.remaining):>12}  "
                f"{inv.status.label_fr}"
            )
            shown += 1
    if not shown:
        print("Aucune facture dans l'historique." if history else "Aucune facture à payer.")


# --- commands ----------------------------------------------------------------


def cmd_regies(desk, args) -> int:
    regies, freshness = desk.reader.regies()
    _freshness_note(freshness, desk.reader.clock())
    if args.json:
        print(json.dumps([{"code": r.code, "label": r.label} for r in regies], ensure_ascii=False, indent=2))
    else:
        for r in regies:
            print(f"{r.code:>6}  {r.label}")
    return EXIT_OK


def cmd_families(desk, args) -> int:
    families, freshness = desk.reader.search(args.text)
    _freshness_note(freshness, desk.reader.clock())
    if args.json:
        print(json.dumps([family_json(f) for f in families], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not families:
        print("Aucune famille trouvée.")
    for f in families:
        children = f" — enfants : {f.children_names}" if f.children else ""
        print(f"{f.number:>8}  {f.guardian_names}{children}")
    return EXIT_OK


def cmd_family(desk, args) -> int:
    family, freshness = desk.reader.family(args.number)
    _freshness_note(freshness, desk.reader.clock())
    if args.json:
        print(json.dumps(family_json(family), ensure_ascii=False, indent=2))
    else:
        _print_family(family)
    return EXIT_OK


def cmd_invoices(desk, args) -> int:
    lists = desk.reader.invoices(args.family, args.regie)
    now = desk.reader.clock()
    for regie_list in lists:
        if regie_list.freshness.from_cache:
            _freshness_note(regie_list.freshness, now)
            break
    if args.json:
        invoices = [
            invoice_json(inv, rl.freshness)
            for rl in lists
            for inv in sorted(rl.history if args.history else rl.to_pay, key=lambda i: (i.date, i.number))
        ]
        print(json.dumps({"family": args.family, "invoices": invoices}, ensure_ascii=False, indent=2))
    else:
        _print_invoices(lists, args.history)
    return EXIT_OK


def cmd_pdf(desk, args) -> int:
    if args.family is not None and not isinstance(args.invoice, int):
        desk.reader.invoices(args.family, args.regie)  # fresh figures, so that its printed number is known
    number = desk.reader.invoice_number(args.regie, args.invoice, args.family)
    data = desk.reader.invoice_pdf(args.regie, number)
    out = Path(args.output)
    out.write_bytes(data)
    print(f"PDF enregistré : {out} ({len(data)} octets)")
    return EXIT_OK


def payment_json(record) -> dict[str, Any]:
    return {
        "id": record.id,
        "receipt": record.receipt,
        "family": record.family,
        "regie": record.regie,
        "regie_label": record.regie_label,
        "amount": f"{record.amount:.2f}",
        "mode": record.mode,
        "details": record.details,
        "invoices": record.invoices,
        "operator": record.operator,
        "desk": record.desk,
        "desk_code": record.desk_code,
        "created_at": record.created_at.isoformat(),
        "state": record.state.value,
        "attempts": record.attempts,
        "last_error": record.last_error,
        "reference": record.reference,
        "needs_person": record.state.needs_person,
    }


def pay_details(args) -> dict:
    """The modes' fields given to `pay` (services/modes.py); a sum handed over is read in French decimals."""
    details = {}
    for key, (detail, _modes) in detail_options().items():
        value = getattr(args, key, None)
        details[key] = parse_amount(value) if detail.kind is Kind.TENDERED and value else value
    return details


def cmd_pay(desk, args) -> int:
    try:
        amount = parse_amount(args.amount)
        details = pay_details(args)
    except AmountError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_USAGE
    # Fresh figures first (short timeout; the cache when Maelis does not answer).
    desk.reader.invoices(args.family, args.regie)
    invoices = [desk.reader.invoice_number(args.regie, ref, args.family) for ref in args.invoice]
    request = PaymentRequest(
        family=args.family,
        regie=args.regie,
        invoices=invoices,
        amount=amount,
        mode=Mode(args.mode),
        details=details,
        request_id=args.request_id,
    )
    try:
        record = desk.payments.record(request)
    except PaymentRefused as exc:
        print(f"Paiement refusé : {exc}", file=sys.stderr)
        return EXIT_REFUSED
    # From here on the payment IS recorded: whatever fails next (the receipt
    # file, the transmission, the output) must say so, with its receipt number,
    # and exit 11, so that nobody takes the money a second time. A failed
    # receipt file does not keep the payment from being sent.
    replayed = record.replayed
    failures: list[str] = []

    def step(action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - every failure after the recording is told the same way
            logging.getLogger(__name__).debug("after recording %s", record.receipt, exc_info=True)
            failures.append(_after_recording(exc, args))

    if replayed:
        print(f"Paiement déjà enregistré avec la clé « {args.request_id} » : quittance n° {record.receipt} "
              "(rien de nouveau n'est enregistré).", file=sys.stderr)
    if args.receipt:
        step(lambda: Path(args.receipt).write_bytes(desk.receipts.pdf(record, duplicate=replayed)))
    if not args.no_transmit:
        def transmit() -> None:
            nonlocal record
            desk.transmitter.run_once()
            record = desk.payments.get(record.id)
        step(transmit)

    def output() -> None:
        if args.json:
            print(json.dumps({**payment_json(record), "replayed": replayed}, ensure_ascii=False, indent=2))
        else:
            print(f"Paiement enregistré : quittance n° {record.receipt}, {euros(record.amount)} "
                  f"({MODE_LABELS[Mode(record.mode)]}).")
            if "change" in record.details:
                print(f"Monnaie à rendre : {euros(Decimal(record.details['change']))}")
            print(f"Transmission à Maelis : {record.state.label_fr.lower()}.")
        sys.stdout.flush()
    step(output)
    if not failures:
        return EXIT_OK
    print(f"Paiement ENREGISTRÉ : quittance n° {record.receipt}, {euros(record.amount)} "
          f"({MODE_LABELS[Mode(record.mode)]}), famille {record.family}. Ne l'encaissez pas une seconde fois. "
          f"Mais {' Et '.join(failures)} Transmission à Maelis : {record.state.label_fr.lower()} "
          f"(sinon « maelis-desk transmit ») ; la quittance : « maelis-desk receipt {record.receipt} -o FICHIER ».",
          file=sys.stderr)
    return EXIT_RECORDED_BUT


def _after_recording(exc: BaseException, args) -> str:
    """What failed after a payment was recorded, in French."""
    if isinstance(exc, OSError) and args.receipt and exc.filename is not None \
            and Path(exc.filename) == Path(args.receipt):
        return f"la quittance n'a pas pu être écrite dans {args.receipt} : {os_error_fr(exc)}."
    expected = as_desk_error(exc)  # a DeskError, or the shared database lost after the recording
    if expected is not None:
        return f"la suite a échoué : {expected.message}"
    if isinstance(exc, OSError):
        return f"la suite a échoué : {os_error_fr(exc)}."
    return f"la suite a échoué ({type(exc).__name__})."


def cmd_outbox(desk, args) -> int:
    if args.to_check:
        records = desk.payments.to_check()
    else:
        records = desk.payments.outbox(include_confirmed=args.all)
    if args.json:
        print(json.dumps([payment_json(r) for r in records], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not records:
        print("Aucun paiement à vérifier." if args.to_check
              else "Aucun paiement en attente : tout est confirmé par Maelis.")
    for r in records:
        error = f" — {r.last_error}" if r.last_error else ""
        print(f"{r.receipt}  famille {r.family}  {euros(r.amount):>12}  {fr_datetime(r.created_at)}  "
              f"{r.state.label_fr}{error}")
        if not r.state.is_confirmed:
            print(f"    {desk.transmitter.explain(r)}")
    return EXIT_OK


def cmd_history(desk, args) -> int:
    history = desk.payments.history(args.receipt)
    p, how = history.payment, history.confirmation
    if args.json:
        print(json.dumps({
            **payment_json(p),
            "confirmation": how.value if how else None,
            "to_check": history.to_check,
            "steps": [{"at": s.at.isoformat(), "desk_code": s.desk_code, "action": s.action, "outcome": s.outcome,
                       "label": s.label_fr, "detail": s.detail, "needs_check": s.needs_check}
                      for s in history.steps],
        }, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"Quittance {p.receipt} — famille {p.family}, {p.regie_label}, {euros(p.amount)} "
          f"({mode_label(p.mode)}), "
          f"pris par {p.operator} le {fr_datetime(p.created_at)}")
    print(f"État : {p.state.label_fr}" + (f" — {how.label_fr}" if how else ""))
    if history.to_check:
        print("⚠ À vérifier dans Maelis par un superviseur, puis « maelis-desk resolve "
              f"{p.receipt} --applied » ou « --not-applied ».")
    for step in history.steps:
        mark = "⚠ " if step.needs_check else "  "
        print(f"{mark}{fr_datetime(step.at)}  poste {step.desk_code:<8} {step.label_fr}"
              + (f" — {step.detail}" if step.detail else ""))
    return EXIT_OK


def cmd_resolve(desk, args) -> int:
    record = desk.resolve_payment(args.receipt, applied=args.applied, note=args.note)
    if record.state.is_confirmed:
        print(f"{record.receipt} : confirmé (appliqué dans Maelis, vérifié).")
    else:
        print(f"{record.receipt} : sera renvoyé à Maelis ({record.state.label_fr}).")
    return EXIT_OK


def cmd_transmit(desk, args) -> int:
    report = desk.transmitter.run_once(limit=1000)
    print(f"Envoyés : {report.sent}, confirmés : {report.confirmed}, à réessayer : {report.retried}, "
          f"réponse perdue : {report.uncertain}, refusés : {report.rejected}, à vérifier : {report.review}.")
    for error in report.errors:
        print(f"⚠ {error}", file=sys.stderr)
    counts = desk.payments.counts()
    waiting = sum(n for state, n in counts.items() if not state.is_confirmed)
    person = sum(n for state, n in counts.items() if state.needs_person)
    print(f"Restent non confirmés : {waiting}" + (f", dont {person} à vérifier par un superviseur "
                                                 "(maelis-desk outbox, puis resolve)" if person else "") + ".")
    return EXIT_OK


def cmd_sync(desk, args) -> int:
    from .cli_sync import run_sync

    return run_sync(desk, args)


def cmd_receipt(desk, args) -> int:
    record = desk.payments.by_receipt(args.receipt)
    if record is None:
        print(f"Quittance inconnue : {args.receipt}", file=sys.stderr)
        return EXIT_USAGE
    Path(args.output).write_bytes(desk.receipts.pdf(record, duplicate=True))
    print(f"Quittance enregistrée : {args.output}")
    return EXIT_OK


def cmd_desk(desk, args) -> int:
    facts = desk.identity()
    if args.save:
        from .config import save_settings

        facts["saved"] = str(save_settings(desk.settings))
    if args.json:
        print(json.dumps(facts, ensure_ascii=False, indent=2))
        return EXIT_OK
    set_here = "" if facts["code_set"] else " (tiré du nom du poste ; --desk-code ou MAELIS_DESK_CODE pour le fixer)"
    print(f"Poste : {facts['name']}")
    print(f"Code du poste : {facts['code']}{set_here}")
    print(f"Base : {facts['database']} ({'partagée par les postes' if facts['shared'] else 'propre à ce poste'})")
    print(f"Dossier du poste : {facts['home']}")
    if args.save:
        print(f"Code et base gardés dans {facts['saved']}")
    return EXIT_OK


COMMANDS: dict[str, Callable] = {
    "desk": cmd_desk,
    "regies": cmd_regies,
    "families": cmd_families,
    "family": cmd_family,
    "invoices": cmd_invoices,
    "pdf": cmd_pdf,
    "pay": cmd_pay,
    "outbox": cmd_outbox,
    "transmit": cmd_transmit,
    "resolve": cmd_resolve,
    "history": cmd_history,
    "receipt": cmd_receipt,
    "sync": cmd_sync,
    "session": cli_day.cmd_session,
    "docket": cli_day.cmd_docket,
    "statement": cli_day.cmd_statement,
    **cli_audit.COMMANDS,
}


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(cli_day.fix_negative_amounts(sys.argv[1:] if argv is None else list(argv)))
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command is not None and args.self_check is not None:
        parser.error("--self-check s'emploie sans commande (il vérifie la fenêtre)")
    if getattr(args, "password_in_argv", None) is not None:
        print(PASSWORD_IN_ARGV, file=sys.stderr)
        return EXIT_USAGE
    if args.command == "simulator":
        from .launcher import run_simulator

        return run_simulator(args)
    if args.command is None:
        from .ui.app import run_gui

        return run_gui(args)
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        print(f"Réglages : {exc}", file=sys.stderr)
        return EXIT_USAGE
    settings = _ask_password(settings, args.command)
    return run_command(settings, args)


PASSWORD_IN_ARGV = (
    "Le mot de passe de Maelis ne se donne pas sur la ligne de commande : tout utilisateur de la machine "
    "le verrait (« ps »). Donnez-le par la variable MAELIS_DESK_PASSWORD, par --password-file FICHIER "
    "(un fichier lisible de vous seul), par le trousseau du système (la fenêtre l'y range : Fichier > "
    "Réglages…), ou laissez le poste le demander au clavier."
)

#: the commands that ask Maelis something (the others work on the desk's own database)
_TALK_TO_MAELIS = {"regies", "families", "family", "invoices", "pdf", "pay", "transmit", "sync"}


def _ask_password(settings, command: str | None):
    """No password from the environment, a file or the keyring: ask on a terminal (never echoed)."""
    if (settings.demo or settings.offline or not settings.user or settings.password is not None
            or command not in _TALK_TO_MAELIS or not sys.stdin.isatty()):
        return settings
    try:
        typed = getpass.getpass(f"Mot de passe Maelis de {settings.user} : ")
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return settings
    return replace(settings, password=typed or None)


AUTH_FIX = ("Corrigez l'utilisateur (--user ou MAELIS_DESK_USER) ou le mot de passe (MAELIS_DESK_PASSWORD, "
            "--password-file, le trousseau du système, ou la saisie au clavier), ou dans la fenêtre : "
            "Fichier > Réglages…")


def _credentials_outcome(desk, code: int) -> int:
    """Refused credentials are not an outage: exit 4 even when cached figures were printed."""
    if desk is None or not (desk.credentials.refused_here or desk.health.snapshot().state is State.REFUSED):
        return code
    print(f"⚠ Maelis a refusé l'identification : ce qui est affiché vient du cache, rien n'a été transmis. "
          f"{AUTH_FIX}", file=sys.stderr)
    return EXIT_AUTH


def run_command(settings: Settings, args) -> int:
    from .launcher import open_desk

    desk = None
    try:
        with open_desk(settings) as desk:
            refused = cli_audit.authenticate(desk, args)
            if refused is not None:
                return refused
            return _credentials_outcome(desk, COMMANDS[args.command](desk, args))
    except DeskError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        logging.getLogger(__name__).debug("detail: %s", exc.detail)
        return _credentials_outcome(desk, exc.exit_code)
    except BrokenPipeError:
        raise  # the reader of the output went away: __main__ ends quietly (141)
    except OSError as exc:
        print(f"Erreur : {exc.strerror or exc} ({getattr(exc, 'filename', '') or ''})", file=sys.stderr)
        return 1
    except Exception as exc:
        # the shared database lost mid-command (exit 10), or failing under it (disk full, damaged: 12)
        expected = as_desk_error(exc) or from_store(exc, doing="La base de données a échoué")
        if expected is None:
            raise
        print(f"Erreur : {expected.message}", file=sys.stderr)
        logging.getLogger(__name__).debug("detail: %s", expected.detail)
        return expected.exit_code
