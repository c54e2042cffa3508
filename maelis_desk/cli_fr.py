"""argparse in French: « utilisation : », « arguments positionnels », « choix invalide »…

argparse writes its own words through gettext (`argparse._` and `argparse.ngettext`), and
Python ships no French catalogue for them. `install()` replaces those two module-level
names with a lookup in the table below (argparse's own messages, word for word, for
Python 3.11 to 3.13); a message not in the table stays as argparse wrote it. Only
argparse's module is touched, not gettext's global domain.
"""

from __future__ import annotations

import argparse

FRENCH = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments positionnels",
    "options": "options",
    "optional arguments": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "argument explicite ignoré : %r",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "unexpected option string: %s": "option inattendue : %s",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (possibles : %(choices)s)",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue : %(parser_name)r (possibles : %(choices)s)",
    "conflicting subparser: %s": "commande en double : %s",
    "conflicting subparser alias: %s": "alias de commande en double : %s",
    "subcommands": "commandes",
}

FRENCH_PLURAL = {
    ("expected %s argument", "expected %s arguments"): ("%s valeur attendue", "%s valeurs attendues"),
}


def french(message: str) -> str:
    return FRENCH.get(message, message)


def french_plural(singular: str, plural: str, n: int) -> str:
    one, many = FRENCH_PLURAL.get((singular, plural), (singular, plural))
    return one if n == 1 else many


def install() -> None:
    """Make argparse speak French (idempotent)."""
    argparse._ = french
    argparse.ngettext = french_plural
