"""The command line of the régie's day: `session`, `docket`, `statement`.

Registered in cli.py's parser by `add_commands`; like the rest of the CLI it
sits on services/ only. A rule of the day that refuses (no open session, a
difference without its comment, a second draft...) exits 7, like a refused
payment; an unknown session or docket exits 2.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from .domain_day import CLOSE_LABELS, CLOSE_LINES, Counted, DayError, Docket, DocketType, MoveReason
from .services.errors import DayRefused
from .formatting import AmountError, euros, fr_date, fr_datetime, parse_amount
from .services.payments import MODE_LABELS, Mode

EXIT_OK, EXIT_USAGE, EXIT_REFUSED = 0, 2, 7

#: options whose value may be negative (`--amount -200,00`): argparse would take it for an option
_SIGNED = ("--amount",)


def fix_negative_amounts(argv: list[str]) -> list[str]:
    """`--amount -200,00` → `--amount=-200,00`, so that argparse reads a negative amount as a value."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in _SIGNED and i + 1 < len(argv) and re.match(r"^-\d", argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def signed_amount(text: str) -> Decimal:
    text = text.strip()
    negative = text.startswith("-") or text.startswith("\u2212")
    value = parse_amount(text.lstrip("-\u2212+"))
    return -value if negative else value


def _date(text: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"date attendue (24/02/2026 ou 2026-02-24) : « {text} »")


def add_commands(sub, common, positive_int) -> dict[str, Callable]:
    """Add the day's sub-commands to the parser; return their handlers by command name."""
    p = sub.add_parser("session", parents=[common], help="la caisse du poste : ouvrir, état, mouvement, arrêté, rapport Z")
    ss = p.add_subparsers(dest="session_command", metavar="ACTION", required=True, parser_class=type(p))
    q = ss.add_parser("open", parents=[common], help="ouvrir la caisse avec son fond de caisse")
    q.add_argument("--float", dest="float_amount", metavar="MONTANT", required=True, help="fond de caisse, ex. 50,00")
    q = ss.add_parser("status", parents=[common], help="la caisse ouverte : fond, attendu par mode, paiements")
    q.add_argument("--json", action="store_true")
    q = ss.add_parser("move", parents=[common], help="mouvement d'espèces (apport, retrait pour versement)")
    q.add_argument("--amount", metavar="MONTANT", required=True, help="+ entrée, - sortie, ex. -200,00")
    q.add_argument("--reason", required=True, choices=[r.value for r in MoveReason])
    q.add_argument("--comment", metavar="TEXTE", default="")
    q = ss.add_parser("close", parents=[common], help="arrêté de caisse : compter et comparer à l'attendu")
    q.add_argument("--counted-cash", metavar="MONTANT", required=True)
    q.add_argument("--counted-cheques", metavar="N", type=int, default=0)
    q.add_argument("--cheques-total", metavar="MONTANT", default="0")
    q.add_argument("--card-total", metavar="MONTANT", default="0", help="total du ticket du terminal de paiement")
    q.add_argument("--comment", metavar="TEXTE", default="", help="explication des écarts (obligatoire s'il y en a)")
    q = ss.add_parser("report", parents=[common], help="(ré)imprimer le rapport Z d'une caisse arrêtée (PDF)")
    q.add_argument("z_number", metavar="N", type=positive_int)
    q.add_argument("-o", "--output", metavar="FICHIER", required=True)
    q = ss.add_parser("list", parents=[common], help="les sessions de caisse (--all : de tous les postes)")
    q.add_argument("--all", action="store_true")
    q.add_argument("--json", action="store_true")

    p = sub.add_parser("docket", parents=[common], help="bordereaux de remise (chèques, CESU, ANCV, espèces)")
    ds = p.add_subparsers(dest="docket_command", metavar="ACTION", required=True, parser_class=type(p))
    q = ds.add_parser("create", parents=[common], help="préparer le brouillon d'un bordereau")
    q.add_argument("--regie", metavar="CODE", type=positive_int, required=True)
    q.add_argument("--type", required=True, choices=[t.value for t in DocketType])
    q.add_argument("--until", metavar="DATE", type=_date, help="paiements jusqu'à ce jour (défaut : aujourd'hui)")
    q.add_argument("--json", action="store_true")
    q = ds.add_parser("validate", parents=[common], help="valider un brouillon : numéro, paiements verrouillés")
    q.add_argument("docket_id", metavar="ID", type=positive_int)
    q = ds.add_parser("discard", parents=[common], help="supprimer un brouillon")
    q.add_argument("docket_id", metavar="ID", type=positive_int)
    q = ds.add_parser("list", parents=[common], help="les bordereaux")
    q.add_argument("--regie", metavar="CODE", type=positive_int)
    q.add_argument("--json", action="store_true")
    q = ds.add_parser("export", parents=[common], help="exporter un bordereau en PDF, CSV ou ODS")
    q.add_argument("docket_id", metavar="ID", type=positive_int)
    q.add_argument("-o", "--output", metavar="FICHIER", required=True, help="FICHIER.pdf, .csv ou .ods")

    p = sub.add_parser("statement", parents=[common], help="état mensuel d'une régie pour le comptable (PDF ou CSV)")
    p.add_argument("--regie", metavar="CODE", type=positive_int, required=True)
    p.add_argument("--month", metavar="AAAA-MM", required=True)
    p.add_argument("-o", "--output", metavar="FICHIER", required=True, help="FICHIER.pdf ou .csv")
    return {"session": cmd_session, "docket": cmd_docket, "statement": cmd_statement}


def _refused(exc: Exception) -> int:
    print(f"Refusé : {exc}", file=sys.stderr)
    return EXIT_REFUSED


def _usage(text: str) -> int:
    print(f"Erreur : {text}", file=sys.stderr)
    return EXIT_USAGE


# --- session --------------------------------------------------------------------


def status_json(status) -> dict[str, Any]:
    s, e = status.session, status.expected
    return {
        "id": s.id,
        "desk": s.desk,
        "state": s.state.value,
        "operator": s.operator,
        "opened_at": s.opened_at.isoformat(),
        "float": f"{s.float_amount:.2f}",
        "z_number": s.z_number,
        "expected": {
            "especes": f"{e.cash:.2f}",
            "cheque": {"count": e.cheques_count, "total": f"{e.cheques_total:.2f}"},
            "carte": f"{e.card_total:.2f}",
            **{m: f"{v:.2f}" for m, v in e.others.items()},
        },
        "movements": [{"at": m.at.isoformat(), "amount": f"{m.amount:.2f}", "reason": m.reason.value,
                       "comment": m.comment, "operator": m.operator} for m in status.movements],
        "payments": [{"receipt": p.receipt, "regie": p.regie, "family": p.family, "amount": f"{p.amount:.2f}",
                      "mode": p.mode, "operator": p.operator, "created_at": p.created_at.isoformat(),
                      "cancelled": p.id in status.cancelled} for p in status.payments],
    }


def _print_status(status) -> None:
    s, e = status.session, status.expected
    print(f"Caisse n° {s.id} du poste {s.desk} — {s.state.label_fr}, ouverte le {fr_datetime(s.opened_at)} "
          f"par {s.operator}")
    print(f"  Fond de caisse : {euros(s.float_amount)}")
    print(f"  Attendu en espèces : {euros(e.cash)}")
    print(f"  Chèques : {e.cheques_count} pour {euros(e.cheques_total)}")
    print(f"  Carte bancaire : {euros(e.card_total)}")
    for mode, value in e.others.items():
        print(f"  {MODE_LABELS[Mode(mode)]} : {euros(value)}")
    for m in status.movements:
        print(f"  Mouvement {fr_datetime(m.at)} {m.reason.label_fr} {euros(m.amount, sign=True)} {m.comment}")
    print(f"  Paiements : {len(status.payments)}")
    for p in status.payments:
        mark = " ANNULÉ" if p.id in status.cancelled else ""
        print(f"    {p.receipt}  {fr_datetime(p.created_at)}  {MODE_LABELS[Mode(p.mode)]:<24} "
              f"{euros(p.amount):>12}  {p.operator}{mark}")


def cmd_session(desk, args) -> int:
    day = desk.day
    action = args.session_command
    try:
        if action == "open":
            try:
                amount = parse_amount(args.float_amount)
            except AmountError as exc:
                return _usage(str(exc))
            session = day.open_session(amount)
            print(f"Caisse ouverte (n° {session.id}) avec un fond de caisse de {euros(session.float_amount)}.")
            return EXIT_OK
        if action == "status":
            status = day.status()
            if status is None:
                if args.json:
                    print("null")
                print(day.refusal(), file=sys.stderr)
                return EXIT_REFUSED
            if args.json:
                print(json.dumps(status_json(status), ensure_ascii=False, indent=2))
            else:
                _print_status(status)
                refusal = day.refusal()
                if refusal:
                    print(f"⚠ {refusal}", file=sys.stderr)
            return EXIT_OK
        if action == "move":
            try:
                amount = signed_amount(args.amount)
            except AmountError as exc:
                return _usage(str(exc))
            move = day.move(amount, MoveReason(args.reason), args.comment)
            print(f"Mouvement enregistré : {move.reason.label_fr} {euros(move.amount, sign=True)}.")
            return EXIT_OK
        if action == "close":
            try:
                counted = Counted(parse_amount(args.counted_cash), args.counted_cheques,
                                  parse_amount(args.cheques_total), parse_amount(args.card_total))
            except AmountError as exc:
                return _usage(str(exc))
            comments = {name: args.comment for name in CLOSE_LINES}
            closing = day.close(counted, comments)
            print(f"Caisse arrêtée : rapport Z n° {closing.z_number}", file=sys.stderr)
            for name, diff in closing.differences.items():
                if diff:
                    shown = f"{diff:+d}" if name == "cheques_count" else euros(diff, sign=True)
                    print(f"  Écart {CLOSE_LABELS[name]} : {shown} — {closing.comments[name]}", file=sys.stderr)
            print(closing.z_number)
            return EXIT_OK
        if action == "report":
            from .services.day_documents import z_report_pdf

            closing = day.closing_by_z(args.z_number)
            if closing is None:
                return _usage(f"aucun rapport Z n° {args.z_number}.")
            data = z_report_pdf(closing, city=desk.settings.city)
            Path(args.output).write_bytes(data)
            print(f"Rapport Z n° {closing.z_number} enregistré : {args.output} ({len(data)} octets)")
            return EXIT_OK
        if action == "list":
            sessions = day.sessions(every_desk=args.all)
            if args.json:
                print(json.dumps([{"id": s.id, "desk": s.desk, "state": s.state.value, "operator": s.operator,
                                   "opened_at": s.opened_at.isoformat(), "float": f"{s.float_amount:.2f}",
                                   "closed_at": s.closed_at.isoformat() if s.closed_at else None,
                                   "z_number": s.z_number} for s in sessions], ensure_ascii=False, indent=2))
            else:
                for s in sessions:
                    z = f"Z {s.z_number}" if s.z_number else "ouverte"
                    print(f"{s.id:>5}  {s.desk:<16} {fr_datetime(s.opened_at)}  {s.operator:<16} {z}")
            return EXIT_OK
    except (DayRefused, DayError) as exc:
        return _refused(exc)
    return _usage(f"action inconnue : {action}")  # pragma: no cover - argparse checks the choices


# --- docket ------------------------------------------------------------------------


def docket_json(d: Docket) -> dict[str, Any]:
    return {
        "id": d.id, "number": d.number, "regie": d.regie, "regie_label": d.regie_label, "type": d.type.value,
        "state": d.state.value, "until": d.until.isoformat(), "created_at": d.created_at.isoformat(),
        "created_by": d.created_by, "validated_at": d.validated_at.isoformat() if d.validated_at else None,
        "validated_by": d.validated_by, "count": d.count, "total": f"{d.total:.2f}",
        "payments": [{"receipt": line.receipt, "amount": f"{line.amount:.2f}", "family": line.family,
                      "payer": line.payer_name, **line.details} for line in d.lines],
    }


def cmd_docket(desk, args) -> int:
    day = desk.day
    action = args.docket_command
    try:
        if action == "create":
            docket = day.create_docket(args.regie, DocketType(args.type), args.until)
            if args.json:
                print(json.dumps(docket_json(docket), ensure_ascii=False, indent=2))
            else:
                print(f"Brouillon préparé : {docket.count} paiement(s) pour {euros(docket.total)}.", file=sys.stderr)
                print(docket.id)
            return EXIT_OK
        if action == "validate":
            docket = day.validate_docket(args.docket_id)
            print(f"{docket.type.label_fr} validé : {docket.count} paiement(s), {euros(docket.total)}.",
                  file=sys.stderr)
            print(docket.number)
            return EXIT_OK
        if action == "discard":
            day.discard_docket(args.docket_id)
            print(f"Brouillon {args.docket_id} supprimé.")
            return EXIT_OK
        if action == "list":
            dockets = day.dockets(args.regie)
            if args.json:
                print(json.dumps([docket_json(d) for d in dockets], ensure_ascii=False, indent=2))
            else:
                if not dockets:
                    print("Aucun bordereau.")
                for d in dockets:
                    print(f"{d.id:>5}  {d.number or 'brouillon':<18} {d.regie:>5} {d.type.value:<8} "
                          f"{d.count:>4} paiement(s) {euros(d.total):>14}  {fr_date(d.validated_at or d.created_at)}")
            return EXIT_OK
        if action == "export":
            from .services import day_documents as docs

            docket = day.docket(args.docket_id)
            if docket is None:
                return _usage(f"bordereau {args.docket_id} inconnu.")
            out = Path(args.output)
            suffix = out.suffix.lower()
            makers = {".pdf": lambda d: docs.docket_pdf(d, city=desk.settings.city), ".csv": docs.docket_csv,
                      ".ods": docs.docket_ods}
            if suffix not in makers:
                return _usage("le fichier doit finir par .pdf, .csv ou .ods.")
            data = makers[suffix](docket)
            out.write_bytes(data)
            print(f"Bordereau exporté : {out} ({len(data)} octets)")
            return EXIT_OK
    except (DayRefused, DayError) as exc:
        return _refused(exc)
    return _usage(f"action inconnue : {action}")  # pragma: no cover


def cmd_statement(desk, args) -> int:
    from .services import day_documents as docs

    try:
        year, month = docs.month_of(args.month)
    except ValueError as exc:
        return _usage(str(exc))
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".csv"):
        return _usage("le fichier doit finir par .pdf ou .csv.")
    statement = desk.day.statement(args.regie, year, month)
    data = docs.statement_pdf(statement, city=desk.settings.city) if suffix == ".pdf" else docs.statement_csv(statement)
    out.write_bytes(data)
    print(f"État de {statement.period} de la régie {args.regie} enregistré : {out} ({len(data)} octets)")
    return EXIT_OK
