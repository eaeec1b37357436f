"""SiamCross Annotator desktop app (PySide6 + pyqtgraph), a thin layer over ``core``."""
