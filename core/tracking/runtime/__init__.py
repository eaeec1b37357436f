"""How the network runs fast on this machine: everything between a tracker and its torch calls.

The tracker talks to one object, ``runner.NetworkRunner``, which owns the device, the network
prepared for inference, the passes over the CPU's cores and the move to the CPU when a GPU
fails. Behind it:

- ``process``: process settings made before torch loads (sleeping OpenMP threads, malloc that
  keeps freed memory);
- ``device``: which torch device and precision ("auto" picks), and GPU failures;
- ``inference``: BatchNorm folding and the CPU layouts (channels-last, or ``cpu_kernels``'
  fused oneDNN convolutions with ``input_fold``'s normalisation in the first conv);
- ``passes``: targets split into network passes, side by side on single-threaded lanes;
- ``model_profile``: a named model profiled the way the runner prepares it (`siamcross bench`).

Importing this package does not import torch (``process`` must run first).
"""
from .process import keep_freed_memory, prefer_sleeping_threads

__all__ = ["keep_freed_memory", "prefer_sleeping_threads"]
