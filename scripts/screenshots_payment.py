"""Render the payment dialog (each mode and each step) and a receipt to PNG,
offscreen, into screenshots/ — to look at them.

    .venv/bin/python scripts/screenshots_payment.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"


def main() -> int:
    home = tempfile.mkdtemp(prefix="maelis-shots-")
    os.environ["MAELIS_DESK_HOME"] = home
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication

    from maelis_desk import config
    from maelis_desk.services import Desk
    from maelis_desk.services.payments import Mode
    from maelis_desk.simulator import Simulator
    from maelis_desk.ui import worker
    from maelis_desk.ui.payment_dialog import PaymentDialog
    from maelis_desk.ui.theme import apply_theme

    app = QApplication(sys.argv)
    apply_theme(app)
    OUT.mkdir(exist_ok=True)
    sim = Simulator(port=0, families=50, state_dir=Path(home) / "sim").start()
    settings = config.load_settings({"url": sim.url, "user": "demo", "password": "demo", "operator": "Martine"})
    desk = Desk.open(settings)
    try:
        view = desk.reader.open_family(1312)
        regie = max(view.regies, key=lambda r: len(r.to_pay))
        for mode, fill in [
            (Mode.ESPECES, {"cash_given": "100"}),
            (Mode.CHEQUE, {"cheque_number": "0012345", "bank": "Banque Populaire Occitane"}),
            (Mode.CARTE, {"card_reference": "AUT 458921"}),
            (Mode.VIREMENT, {"transfer_reference": "VIR-2026-11-0042"}),
        ]:
            dialog = PaymentDialog(desk, view.family, regie.regie, regie.invoices)
            dialog.mode.setCurrentIndex(dialog.modes.index(mode))
            for key, value in fill.items():
                dialog.field_edits[f"{mode.value}.{key}"].setText(value)
            dialog._check()
            dialog.show()
            app.processEvents()
            dialog.grab().save(str(OUT / f"payment-{mode.value}.png"))
            if mode is Mode.ESPECES:
                dialog.to_confirm()
                app.processEvents()
                dialog.grab().save(str(OUT / "payment-confirm.png"))
                dialog.confirm()
                while dialog.record is None:
                    app.processEvents()
                app.processEvents()
                dialog.grab().save(str(OUT / "payment-done.png"))
                receipt = dialog.show_receipt()
                receipt.resize(QSize(820, 1000))
                while receipt.data is None or receipt.document.pageCount() == 0:
                    app.processEvents()
                for _ in range(20):
                    app.processEvents()
                receipt.grab().save(str(OUT / "receipt-dialog.png"))
                receipt.close()
            dialog.close()
        # Holiday vouchers and CESU: only where the régie accepts them (leisure centres here).
        leisure = next(r for r in view.regies if r.to_pay and Mode.ANCV in desk.payments.modes_for(
            r.regie.code, r.regie.label) and Mode.CESU in desk.payments.modes_for(r.regie.code, r.regie.label))
        for mode, reference in [(Mode.CESU, "CESU 0451 à 0458"), (Mode.ANCV, "ANCV 1102334-1102338")]:
            dialog = PaymentDialog(desk, view.family, leisure.regie, leisure.invoices)
            dialog.mode.setCurrentIndex(dialog.modes.index(mode))
            dialog.field_edits[f"{mode.value}.reference"].setText(reference)
            dialog._check()
            dialog.show()
            app.processEvents()
            dialog.grab().save(str(OUT / f"payment-{mode.value}.png"))
            dialog.close()
        # The window right after a payment taken while Maelis is down: "transmission en attente".
        from maelis_desk.services.payments import PaymentRequest
        from maelis_desk.ui.main_window import MainWindow

        window = MainWindow(desk, settings)
        window.resize(1280, 800)
        window.show()
        shown = []
        window.family_shown.connect(shown.append)
        window.open_family(1312)
        while not shown:
            app.processEvents()
        sim.set_fault("down")
        target = next(r for r in window.view.regies if r.to_pay)
        invoice = target.to_pay[-1]
        desk.payments.record(PaymentRequest(1312, target.regie.code, [invoice.number], invoice.remaining,
                                            Mode.CHEQUE, {"cheque_number": "7654321"}))
        window.show_payments()
        window.family_pane.select_regie([r.regie.code for r in window.view.regies].index(target.regie.code))
        for _ in range(200):
            app.processEvents()
        window.grab().save(str(OUT / "main-window-pending.png"))
        window.close()
        sim.set_fault(None)
        bad = PaymentDialog(desk, view.family, regie.regie, regie.invoices)
        bad.amount.setText("12,345")
        bad._amount_typed()
        bad.show()
        app.processEvents()
        bad.grab().save(str(OUT / "payment-error.png"))
        bad.close()
    finally:
        worker.shutdown(5)
        desk.close()
        sim.stop()
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
