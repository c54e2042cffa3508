"""The command line's operators, cancellations and journal (registered by cli.py).

Once an account exists, every command acts for an operator: `--operator
LOGIN` (or MAELIS_DESK_OPERATOR), the password from
MAELIS_DESK_OPERATOR_PASSWORD or asked on the terminal, never on the command
line. Exit codes added: 4 no or wrong operator/password, 8 the journal does
not hold, 9 the operator's role does not allow the command.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import datetime, time
from typing import Any

from .domain import Role, from_cents
from .formatting import desk_tz, euros, fr_datetime

from .services.errors import EXIT_AUTH, EXIT_DENIED, EXIT_JOURNAL_BROKEN, EXIT_REFUSED  # noqa: F401

ENV_LOGIN = "MAELIS_DESK_OPERATOR"
ENV_PASSWORD = "MAELIS_DESK_OPERATOR_PASSWORD"
ENV_NEW_PASSWORD = "MAELIS_DESK_NEW_OPERATOR_PASSWORD"


def add_parsers(sub, common) -> None:
    from .services.cancellations import Reason

    p = sub.add_parser("operator", parents=[common], help="les comptes des opérateurs (régisseur)")
    osub = p.add_subparsers(dest="operator_command", metavar="ACTION", required=True, parser_class=type(p))
    q = osub.add_parser("add", help="créer un compte (mot de passe demandé, ou MAELIS_DESK_NEW_OPERATOR_PASSWORD)")
    q.add_argument("login", metavar="LOGIN")
    q.add_argument("--name", required=True, metavar="NOM", help="nom complet, imprimé sur les quittances")
    q.add_argument("--role", required=True, choices=[r.value for r in Role])
    q = osub.add_parser("list", help="les comptes")
    q.add_argument("--json", action="store_true")
    q = osub.add_parser("disable", help="désactiver un compte (il reste au journal)")
    q.add_argument("login", metavar="LOGIN")
    q = osub.add_parser("enable", help="réactiver un compte")
    q.add_argument("login", metavar="LOGIN")

    p = sub.add_parser("cancel", parents=[common], help="annuler un paiement (régisseur) ; jamais supprimé")
    p.add_argument("receipt", metavar="QUITTANCE")
    p.add_argument("--reason", required=True, choices=[r.value for r in Reason],
                   help="erreur : saisie erronée ; famille : mauvaise famille ; cheque-refuse : chèque refusé "
                        "par la banque ; autre (commentaire obligatoire)")
    p.add_argument("--comment", metavar="TEXTE")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("to-regularize", parents=[common],
                       help="les paiements annulés à régulariser dans Maelis, et quoi y faire")
    p.add_argument("--all", action="store_true", help="toutes les annulations, régularisées comprises")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("regularize", parents=[common], help="marquer une annulation régularisée dans Maelis")
    p.add_argument("receipt", metavar="QUITTANCE")
    p.add_argument("--note", metavar="TEXTE", help="ce qui a été fait dans Maelis")

    p = sub.add_parser("journal", parents=[common],
                       help="le journal des événements d'argent ; « journal verify » vérifie sa chaîne")
    p.add_argument("action", nargs="?", choices=["verify"], metavar="verify")
    p.add_argument("--since", metavar="DATE", help="depuis ce jour (JJ/MM/AAAA ou AAAA-MM-JJ)")
    p.add_argument("--json", action="store_true")


def explicit_login(args) -> str | None:
    return getattr(args, "operator", None) or os.environ.get(ENV_LOGIN) or None


def _prompt(label: str) -> str | None:
    if not sys.stdin.isatty():
        return None
    try:
        return getpass.getpass(label)
    except (EOFError, KeyboardInterrupt):
        return None


def authenticate(desk, args) -> int | None:
    """Log the command's operator in; an exit code when refused, else None."""
    from .services.errors import AuthenticationRefused

    login = explicit_login(args)
    if login and not desk.operators.has_accounts() and desk.settings.demo:
        desk.operators.seed_demo()  # the demo's accounts, as its window's login screen shows them
    if not desk.operators.has_accounts():
        if login:
            # acting as a one-person desk would let « --operator caisse » do what a cashier may not
            print(f"Ce poste n'a aucun compte d'opérateur : « {login} » ne peut pas être vérifié. "
                  "Créez d'abord le compte du régisseur (maelis-desk operator add LOGIN --name NOM "
                  f"--role regisseur), ou retirez --operator ({ENV_LOGIN}) pour agir en poste à une personne.",
                  file=sys.stderr)
            return EXIT_AUTH
        return None  # a one-person desk: the settings' operator acts
    if not login:
        print("Ce poste a des comptes opérateurs : indiquez qui agit avec --operator LOGIN "
              f"(ou {ENV_LOGIN}).", file=sys.stderr)
        return EXIT_AUTH
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        password = _prompt(f"Mot de passe de {login} : ")
    if not password:
        print(f"Mot de passe de l'opérateur manquant ({ENV_PASSWORD}, ou sur un terminal).", file=sys.stderr)
        return EXIT_AUTH
    try:
        desk.operators.login(login, password)
    except AuthenticationRefused as exc:
        print(f"Identification refusée : {exc}", file=sys.stderr)
        return EXIT_AUTH
    return None


def _new_password() -> str | None:
    password = os.environ.get(ENV_NEW_PASSWORD)
    if password is not None:
        return password
    first = _prompt("Mot de passe du nouveau compte : ")
    if first is None:
        return None
    if _prompt("Confirmez le mot de passe : ") != first:
        print("Les deux mots de passe diffèrent.", file=sys.stderr)
        return None
    return first


def cmd_operator(desk, args) -> int:
    from .services.errors import OperatorRefused

    ops = desk.operators
    try:
        if args.operator_command == "add":
            first = not ops.has_accounts()
            password = _new_password()
            if not password:
                print(f"Mot de passe du nouveau compte manquant ({ENV_NEW_PASSWORD}, ou sur un terminal).",
                      file=sys.stderr)
                return 2
            operator = ops.add(args.login, args.name, args.role, password)
            print(f"Compte créé : {operator.login} — {operator.full_name}, {operator.role.label_fr.lower()}.")
            if first:
                print("C'est le premier compte : le poste n'est plus « à une personne », chaque commande "
                      "demande désormais --operator et son mot de passe.")
            return 0
        if args.operator_command == "list":
            if not ops.has_accounts():
                if args.json:
                    print("[]")
                else:
                    print(f"Aucun compte : poste à une personne ({ops.current.full_name}). "
                          "Créez celui du régisseur : maelis-desk operator add LOGIN --name NOM --role regisseur")
                return 0
            operators = ops.list()
            if args.json:
                print(json.dumps([{"login": o.login, "name": o.full_name, "role": o.role.value, "active": o.active}
                                  for o in operators], ensure_ascii=False, indent=2))
            else:
                for o in operators:
                    print(f"{o.login:<16} {o.full_name:<30} {o.role.label_fr:<28} "
                          f"{'actif' if o.active else 'désactivé'}")
            return 0
        if args.operator_command == "disable":
            operator = ops.disable(args.login)
            print(f"Compte désactivé : {operator.login} ({operator.full_name}).")
            return 0
        operator = ops.enable(args.login)
        print(f"Compte réactivé : {operator.login} ({operator.full_name}).")
        return 0
    except OperatorRefused as exc:
        print(f"Refusé : {exc}", file=sys.stderr)
        return EXIT_REFUSED


def cancelled_json(item) -> dict[str, Any]:
    c = item.cancellation
    return {
        "receipt": item.payment.receipt, "payment": item.payment.id, "family": item.payment.family,
        "regie": item.payment.regie, "amount": f"{item.payment.amount:.2f}", "reason": c.reason,
        "comment": c.comment, "by": c.operator_login, "at": c.at.isoformat(), "state_before": c.state_before,
        "status": c.status, "what_to_do": item.what_to_do,
        "regularized_at": c.regularized_at.isoformat() if c.regularized_at else None,
        "regularized_by": c.regularized_by,
    }


def cmd_cancel(desk, args) -> int:
    from .services.errors import CancelRefused

    try:
        item = desk.cancellations.cancel(args.receipt, args.reason, args.comment)
    except CancelRefused as exc:
        print(f"Annulation refusée : {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if args.json:
        print(json.dumps(cancelled_json(item), ensure_ascii=False, indent=2))
        return 0
    print(f"Paiement {item.payment.receipt} ({euros(item.payment.amount)}) annulé : "
          f"{item.reason.label_fr}{' — ' + item.cancellation.comment if item.cancellation.comment else ''}.")
    print(f"{item.status_label}.")
    print(item.what_to_do)
    return 0


def cmd_to_regularize(desk, args) -> int:
    items = desk.cancellations.listing() if args.all else desk.cancellations.to_regularize()
    if args.json:
        print(json.dumps([cancelled_json(i) for i in items], ensure_ascii=False, indent=2))
        return 0
    if not items:
        print("Aucun paiement annulé à régulariser dans Maelis.")
    for item in items:
        print(f"{item.payment.receipt}  famille {item.payment.family}  {euros(item.payment.amount):>12}  "
              f"annulé le {fr_datetime(item.cancellation.at)} par {item.cancellation.operator_name} "
              f"({item.reason.label_fr}) — {item.status_label}")
        print(f"    {item.what_to_do}")
    return 0


def cmd_regularize(desk, args) -> int:
    from .services.errors import CancelRefused

    try:
        item = desk.cancellations.regularize(args.receipt, args.note)
    except CancelRefused as exc:
        print(f"Refusé : {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"Paiement {item.payment.receipt} : {item.status_label}.")
    return 0


def parse_day(text: str) -> datetime:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            day = datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
        return datetime.combine(day, time(0, 0), tzinfo=desk_tz())
    raise ValueError(f"date attendue au format JJ/MM/AAAA : « {text} »")


def cmd_journal(desk, args) -> int:
    from .services.journal import describe

    if args.action == "verify":
        verdict = desk.journal.verify()
        if args.json:
            print(json.dumps({"intact": verdict.intact, "entries": verdict.count, "last": verdict.last_seq,
                              "last_hash": verdict.last_hash,
                              "breaks": [{"seq": b.seq, "message": b.message} for b in verdict.breaks]},
                             ensure_ascii=False, indent=2))
        else:
            print(verdict.summary_fr)
            for b in verdict.breaks:
                print(f"  ✗ {b.message}")
            print(f"Dernière entrée : n° {verdict.last_seq}, empreinte {verdict.last_hash}")
        return 0 if verdict.intact else EXIT_JOURNAL_BROKEN
    try:
        since = parse_day(args.since) if args.since else None
    except ValueError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    records = desk.journal.entries(since)
    if args.json:
        print(json.dumps([{"seq": r.seq, "at": r.at.isoformat(), "kind": r.kind, "operator": r.operator,
                           "desk": r.desk, "payment": r.payment, "receipt": r.receipt,
                           "amount_cents": r.amount_cents, "data": r.data, "prev_hash": r.prev_hash,
                           "hash": r.hash} for r in records], ensure_ascii=False, indent=2))
        return 0
    if not records:
        print("Journal vide." if since is None else "Aucune entrée depuis cette date.")
    for r in records:
        amount = euros(from_cents(r.amount_cents)) if r.amount_cents is not None else ""
        print(f"{r.seq:>6}  {fr_datetime(r.at)}  {r.receipt or '':<20} {amount:>11}  {describe(r)}"
              f"  ({r.operator or 'poste ' + r.desk})  {r.hash[:12]}")
    return 0




COMMANDS = {
    "operator": cmd_operator,
    "cancel": cmd_cancel,
    "to-regularize": cmd_to_regularize,
    "regularize": cmd_regularize,
    "journal": cmd_journal,
}
