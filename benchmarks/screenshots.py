"""`make screenshots`: run the app in a real window on the demo video, perform the usual
flow (draw a box, propagate with the bundled tracker, heat map on) and save small PNGs to
resources/screenshots/ for the README.

    xvfb-run -a -s "-screen 0 1600x1000x24" python -m benchmarks.screenshots [--frames 40]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("SIAMCROSS_CONFIG_DIR", tempfile.mkdtemp(prefix="siamcross-shots-"))

from PySide6 import QtCore, QtGui, QtWidgets

import siamcross_gui  # noqa: F401  (PySide6 None-refcount guard)
from siamcross_gui.main_window import MainWindow
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import DEMO_VIDEO, drag

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "screenshots"
WIDTH = 1100  # saved width: small enough for a README, < 300 KB per PNG
BUNNY = (205.0, 265.0, 310.0, 280.0)  # the rabbit on frame 0 of the demo, x, y, w, h


def settle(ms: int = 300) -> None:
    end = QtCore.QDeadlineTimer(ms)
    while not end.hasExpired():
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)


def save(window: QtWidgets.QWidget, name: str) -> Path:
    settle()
    image = window.grab().toImage().scaledToWidth(WIDTH, QtCore.Qt.TransformationMode.SmoothTransformation)
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    path = OUT / name
    image.save(str(path), b"PNG", 9)
    if path.stat().st_size > 300_000:  # photographic frames compress poorly: fall back to fewer colours
        image.convertToFormat(QtGui.QImage.Format.Format_Indexed8).save(str(path), b"PNG", 9)
    print(f"{path.relative_to(ROOT)}: {image.width()}x{image.height()}, {path.stat().st_size // 1024} KB")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEMO_VIDEO)
    parser.add_argument("--frames", type=int, default=40, help="frames to propagate")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])  # held while the window lives
    window = MainWindow(AppSettings(model="lite", device="auto"), persist_settings=False)
    window.files.ask_recover = lambda recovery: False  # type: ignore[method-assign]  # no question here
    window.resize(1400, 900)
    window.show()
    settle(500)
    if not window.files.open_path(args.video):
        print(f"cannot open {args.video}: {window.last_error}", file=sys.stderr)
        return 1
    settle()

    # 1. Draw the box with the mouse, as a user does (the Draw box tool button, then a drag).
    window.tool_button("draw_mode").click()
    x, y, w, h = BUNNY
    drag(window.view, window.view.viewport_point(x, y), window.view.viewport_point(x + w, y + h))
    window.controller.update_track(1, label="rabbit", name="Big Buck")
    save(window, "1-draw.png")

    # 2. Propagate in the worker, the view following; the heat map over the last frame.
    done: list[bool] = []
    window.controller.propagationFinished.connect(done.append)
    window.controller.propagate("forward", stop_frame=args.frames)
    while not done:
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    if window.last_error:
        print(f"propagation failed: {window.last_error}", file=sys.stderr)
        return 1
    store = window.controller.store
    assert store is not None  # the video is open
    store.set_reviewed(range(0, args.frames // 2))  # the first half checked (R)
    combo = window.overlay_controls.combo
    combo.setCurrentIndex(combo.findData("score"))
    window.overlay_controls.opacity.setValue(55)
    save(window, "2-propagated-heatmap.png")

    # 3. The alignment map, zoomed on the target.
    combo.setCurrentIndex(combo.findData("align"))
    label = window.controller.label_at(1)
    if label is not None and label.box is not None:
        bx, by, bw, bh = label.box
        window.view.view.setRange(QtCore.QRectF(bx - bw * 0.4, by - bh * 0.4, bw * 1.8, bh * 1.8), padding=0)
    save(window, "3-alignment-map-zoom.png")

    window.controller.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
