"""Fill's agreement IoU: the tracker's own unless the request says otherwise."""
from __future__ import annotations

import pytest
from support.propagation import IndexedSource, ScriptedTracker

from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.errors import UserError
from core.propagation import PropagationRequest, apply_step, propagate
from core.propagation.fusion import DEFAULT_AGREE_IOU, agree_iou_for
from core.tracking import SiamCrossTracker, TrackerOptions

KEY = (10.0, 0.0, 10.0, 10.0)


def split(anchor, box, frame):
    """Both passes right-ish but 4 px apart (their IoU is 0.43): forward right of, backward left of the key."""
    return ((12.0, 0.0, 10.0, 10.0) if anchor == 0 else (8.0, 0.0, 10.0, 10.0)), 0.8


class LooseTracker(ScriptedTracker):
    fill_agree_iou = 0.3


def filled_x(tracker, agree_iou=None) -> dict[int, float]:
    keys = {f: FrameLabel(box=KEY, provenance=Provenance.MANUAL) for f in (0, 10)}
    project = Project(tracks={1: Track(id=1, frames=keys)})
    request = PropagationRequest((1,), "fill", 0, score_threshold=0.0, agree_iou=agree_iou)
    for step in propagate(project, IndexedSource(11), tracker, request):
        apply_step(project, step)
    return {f: project.tracks[1].frames[f].box[0] for f in range(1, 10)}


def test_a_tracker_with_its_own_agreement_iou_gets_blended_passes():
    xs = filled_x(LooseTracker(split))
    assert xs[5] == pytest.approx(10.0)  # half-way: the mean of the two passes
    assert all(8.0 < x < 12.0 for x in xs.values())


def test_other_trackers_keep_the_default_and_take_one_pass_per_frame():
    assert set(filled_x(ScriptedTracker(split)).values()) <= {8.0, 12.0}


def test_the_request_overrides_the_tracker():
    assert set(filled_x(LooseTracker(split), agree_iou=0.5).values()) <= {8.0, 12.0}


def test_precedence_of_agreement_iou():
    assert agree_iou_for(object()) == DEFAULT_AGREE_IOU
    assert agree_iou_for(LooseTracker()) == 0.3
    assert agree_iou_for(LooseTracker(), 0.6) == 0.6


def test_the_siamcross_tracker_takes_its_agreement_iou_from_its_options():
    from core.model import SiamCrossNet, lite_config

    net = SiamCrossNet(lite_config(), pretrained_backbone=False)
    assert agree_iou_for(SiamCrossTracker(net, "cpu")) == TrackerOptions().fill_agree_iou == DEFAULT_AGREE_IOU
    assert agree_iou_for(SiamCrossTracker(net, "cpu", options=TrackerOptions(fill_agree_iou=0.45))) == 0.45


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_an_agreement_iou_outside_0_1_is_refused(bad):
    with pytest.raises(UserError, match="agreement IoU"):
        PropagationRequest((1,), "fill", agree_iou=bad)
