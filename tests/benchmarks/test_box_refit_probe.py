"""The box refit probe: with an unmovable prior its refitted layer is the trained one, box for box."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.box_refit_probe import Probe, probe_sequence
from core.datasets import load_sequences
from core.evaluation.simulator import truncate


@pytest.mark.shared_data
def test_a_refit_held_by_its_prior_boxes_every_frame_as_the_network_does(seqs_dir):
    """The probe rebuilds the network's regression from the reg tower by hand; with a prior of
    1e9 the refit cannot move, so both columns must agree (they differ for a weak prior)."""
    sequence = truncate(next(s for s in load_sequences(seqs_dir) if s.name == "Car4"), 40)
    held = probe_sequence(Probe(prior=1e9), sequence, every=15, rng=np.random.default_rng(0))
    assert len(held.trained) > 5
    np.testing.assert_allclose(held.refitted, held.trained, atol=1e-3)
    free = probe_sequence(Probe(prior=1e-3), sequence, every=15, rng=np.random.default_rng(0))
    assert np.abs(np.array(free.refitted) - np.array(free.trained)).max() > 1e-3
