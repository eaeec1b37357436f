"""SiamCross Annotator engine: Qt-free, used by the GUI and the `siamcross` command alike."""
import os

# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine (a GUI thread,
# a decoder and the tracker) spinning made track() many times slower. Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
