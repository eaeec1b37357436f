"""SiamCross Annotator engine: Qt-free, used by the GUI and the `siamcross` command alike.

Packages, lowest first (each imports only those below it; tests/core/test_layers.py checks it):
errors, temp_files; annotations (the project model, undo, files), model (the network); media
(frame sources, labelled sequences); formats (dataset and export formats); datasets (loaders
for training and evaluation); tracking (the tracker over the network); review (the review
queue), training; propagation (the engine); evaluation (OPE, the effort simulator); then the
GUI (siamcross_gui), commands (one module per `siamcross` subcommand) and cli.
"""
import os

# Idle OpenMP threads sleep instead of spinning: on a busy 2-core machine (a GUI thread,
# a decoder and the tracker) spinning made track() many times slower. Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
