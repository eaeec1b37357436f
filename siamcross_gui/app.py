"""Start the application: QApplication, the main window, optionally a path to open."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6 import QtWidgets

from .main_window import MainWindow
from .worker import TrackerFactory


def create_app() -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("SiamCross Annotator")
    app.setOrganizationName("siamcross")
    return app  # type: ignore[return-value]  # QApplication.instance() is the QApplication made here


def run_app(path: str | Path | None = None, tracker_factory: TrackerFactory | None = None) -> int:
    """Show the window (opening path if given) and run the event loop until it closes."""
    app = create_app()
    window = MainWindow(tracker_factory=tracker_factory)
    window.show()
    if path is not None:
        window.files.open_path(path)
    return app.exec()
