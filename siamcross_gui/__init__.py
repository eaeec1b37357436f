"""SiamCross Annotator desktop app (PySide6 + pyqtgraph), a thin layer over ``core``."""
from ._none_guard import keep_none_alive

keep_none_alive()
