"""Render the desk's windows to PNG files (offscreen) into screenshots/.

    python scripts/screenshots.py [--out screenshots]

Runs against the built-in demo Maelis, in a temporary MAELIS_DESK_HOME, so it
never touches a real desk's data. Produces:

* main-window.png        family 1312 open, an invoice selected (1280×800)
* main-window-transmitted.png  an invoice sent to the public treasury selected
* main-window-cache.png  the same while Maelis is down (yellow banner)
* pdf-dialog.png         the PDF preview of that invoice
* settings-dialog.png    the settings dialog after a successful connection test
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wait_until(app, predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = tempfile.mkdtemp(prefix="maelis-desk-shots-")
    os.environ["MAELIS_DESK_HOME"] = home
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    for var in ("MAELIS_DESK_URL", "MAELIS_DESK_USER", "MAELIS_DESK_PASSWORD", "MAELIS_DESK_DATABASE"):
        os.environ.pop(var, None)
    sys.path.insert(0, str(ROOT))

    from dataclasses import replace

    from PySide6.QtCore import Qt, qInstallMessageHandler

    def handler(mode, context, message):  # the offscreen plugin's size-hint warning is noise
        if "propagateSizeHints" not in message:
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)

    from maelis_desk import config, launcher
    from maelis_desk.services import Desk
    from maelis_desk.ui import worker
    from maelis_desk.ui.app import make_application
    from maelis_desk.ui.main_window import MainWindow
    from maelis_desk.ui.models import OBJECT_ROLE

    app = make_application(["screenshots"])
    settings = replace(config.load_settings(), timeout=1.5, operator="Martine Dupont")
    settings, simulator = launcher.start_demo(settings)
    desk = Desk.open(settings)
    try:
        window = MainWindow(desk, settings)
        window.resize(1280, 800)
        window.show()
        window.search_pane.edit.setText("lefèvre")
        wait_until(app, lambda: window.search_pane.model.rowCount() > 0)
        window.open_family(1312, focus=True)
        wait_until(app, lambda: window.view is not None and window.view.family.number == 1312)
        page = window.family_pane.current_page()
        page.to_pay.table.focus_first()
        settle(app)
        shot = out / "main-window.png"
        window.grab().save(str(shot))
        print(shot)

        # a régie with an invoice sent to the public treasury, selected
        for i, regie_invoices in enumerate(window.view.regies):
            transmitted = [inv for inv in regie_invoices.history if inv.is_transmitted and inv.remaining > 0]
            if transmitted:
                window.family_pane.select_regie(i)
                table = window.family_pane.current_page().history.table
                for row in range(table.proxy.rowCount()):
                    if table.proxy.index(row, 0).data(OBJECT_ROLE) == transmitted[0]:
                        table.setFocus()
                        table.selectRow(row)
                        break
                settle(app)
                shot = out / "main-window-transmitted.png"
                window.grab().save(str(shot))
                print(shot)
                window.family_pane.select_regie(0)
                window.family_pane.current_page().to_pay.table.focus_first()
                break

        dialog = window.open_pdf()
        if dialog is not None:
            wait_until(app, lambda: dialog.document.pageCount() > 0)
            settle(app, 0.5)
            shot = out / "pdf-dialog.png"
            dialog.grab().save(str(shot))
            print(shot)
            dialog.close()

        settings_dialog = window.open_settings()
        settings_dialog.operator.setText("Martine Dupont")
        settings_dialog.test()
        wait_until(app, lambda: settings_dialog.test_button.isEnabled())
        settle(app)
        shot = out / "settings-dialog.png"
        settings_dialog.grab().save(str(shot))
        print(shot)
        settings_dialog.reject()

        simulator.set_fault("down")
        window.refresh()
        wait_until(app, lambda: window.banner.isVisible() and window.banner.kind == "cache", timeout=30)
        page = window.family_pane.current_page()
        page.to_pay.table.focus_first()
        window.search_pane.edit.setFocus(Qt.FocusReason.OtherFocusReason)
        settle(app)
        shot = out / "main-window-cache.png"
        window.grab().save(str(shot))
        print(shot)
        window.close()
    finally:
        worker.shutdown(3.0)
        desk.close()
        if simulator is not None:
            simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
