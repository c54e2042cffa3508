"""The desk window (Qt only): main window, panes, table models, dialogs, and
the one worker idiom (worker.py) that runs the services off the GUI thread.

Widgets here only talk to `maelis_desk.services`, `config`, `domain`,
`formatting` and `launcher`; never to zeep, peewee, the SOAP client or the store.
"""

from .compat import make_singletons_immortal

make_singletons_immortal()  # before any signal is emitted: see compat.py
