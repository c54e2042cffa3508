"""`maelis-desk --self-check FAMILLE` from the checkout (the bundle's is tests/build)."""

from __future__ import annotations

from maelis_desk.cli import build_parser
from maelis_desk.ui import app as ui_app


def test_self_check_on_the_demo_passes_and_quits(qapp, monkeypatch, capsys):
    monkeypatch.setattr(ui_app, "_log_to_file", lambda: None)
    args = build_parser().parse_args(["--self-check", "1312"])
    assert ui_app.run_gui(args) == 0
    out, err = capsys.readouterr()
    assert "ok  Qt en français" in out
    assert "ok  icône dessinée" in out and "ok  feuille de style appliquée" in out
    assert "ok  famille n° 1312 ouverte, lue à l'instant depuis Maelis (9 régies" in out
    assert "affiché par QtPdf (1 page(s)" in out
    assert out.rstrip().endswith("Poste vérifié : tout fonctionne.")
    assert err == ""


def test_self_check_fails_when_the_family_does_not_open(qapp, monkeypatch, capsys):
    monkeypatch.setattr(ui_app, "_log_to_file", lambda: None)
    args = build_parser().parse_args(["--self-check", "99999"])
    assert ui_app.run_gui(args) == 1
    out, err = capsys.readouterr()
    assert "Poste vérifié" not in out
    assert "ÉCHEC de la vérification du poste" in err and "famille n° 99999 ne s'ouvre pas" in err


def test_self_check_fails_without_the_style_sheet(qapp, monkeypatch, capsys):
    monkeypatch.setattr(ui_app, "_log_to_file", lambda: None)
    monkeypatch.setattr(ui_app, "apply_theme", lambda app: app.setStyleSheet(""))
    try:
        assert ui_app.run_gui(build_parser().parse_args(["--self-check", "1312"])) == 1
    finally:
        from maelis_desk.ui.theme import apply_theme

        apply_theme(qapp)
    out, err = capsys.readouterr()
    assert "ok  Qt en français" in out and "famille n° 1312 ouverte" not in out
    assert "[icône et style] pas de feuille de style" in err
