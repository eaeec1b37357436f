"""Pair sampler and augmentations on the real shared sequences and COCO128 images."""
from __future__ import annotations

import numpy as np
import pytest

from core.media.sequence import Sequence
from core.tracking.crops import context_size, crop_around, search_size_for
from core.training import augment
from core.training.config import AugmentConfig, DataConfig, DataSource
from core.training.sampler import (
    SEARCH_SIZE,
    TEMPLATE_SIZE,
    PairDataset,
    PairSampler,
    TrainingData,
    collate,
    load_training_data,
    read_sequences,
)

NO_AUGMENT = AugmentConfig(template_shift=0, template_scale=0, search_shift=0, search_scale=0, aspect=0,
                           blur=0, color=0, grayscale=0, flip=0)


@pytest.fixture(scope="module")
def small_data(train_dir, coco128_dir):
    config = DataConfig(sources=(DataSource(str(train_dir), only=("Gull1", "BMX3")),
                                 DataSource(str(coco128_dir), layout="coco", weight=0.5)))
    return config, load_training_data(config)


def test_same_seed_gives_identical_batches_and_another_seed_does_not(small_data):
    config, data = small_data
    a = PairDataset(PairSampler(data, config, AugmentConfig(), seed=4), 64)
    b = PairDataset(PairSampler(data, config, AugmentConfig(), seed=4), 64)
    c = PairDataset(PairSampler(data, config, AugmentConfig(), seed=5), 64)
    for dataset in (a, b, c):
        dataset.set_epoch(2)
    batch_a, batch_b, batch_c = (collate([d[i] for i in (3, 17, 40)]) for d in (a, b, c))
    for key in batch_a:
        assert np.array_equal(batch_a[key].numpy(), batch_b[key].numpy()), key
    assert not np.array_equal(batch_a["search"].numpy(), batch_c["search"].numpy())
    assert batch_a["template"].shape == (3, 3, TEMPLATE_SIZE, TEMPLATE_SIZE)
    assert batch_a["search"].shape == (3, 3, SEARCH_SIZE, SEARCH_SIZE)


def test_pair_kinds_and_negative_share(small_data):
    config, data = small_data
    sampler = PairSampler(data, config, AugmentConfig(), seed=0)
    pairs = [sampler.sample(0, i) for i in range(120)]
    kinds = {kind: sum(p.kind == kind for p in pairs) for kind in ("video", "static", "negative")}
    assert all(count > 0 for count in kinds.values()), kinds
    assert 10 <= kinds["negative"] <= 40  # ~20 % of 120
    for pair in pairs:
        assert pair.positive == (pair.kind != "negative")
        t_name, s_name = (origin.split("#")[0] for origin in pair.origin)
        assert (t_name == s_name) == (pair.kind != "negative")
        if pair.kind == "video":
            gap = abs(int(pair.origin[0].split("#")[1]) - int(pair.origin[1].split("#")[1]))
            assert gap <= config.max_frame_gap


def test_absent_frames_are_never_positives(train_dir):
    [gull] = [s for s in read_sequences(train_dir, "otb") if s.name == "Gull1"]
    boxes = gull.boxes.copy()
    boxes[10:] = np.nan  # only frames 0-9 keep the target
    partial = Sequence(name="Gull1-partial", boxes=boxes, frames=gull.frames)
    config = DataConfig(max_frame_gap=100, negative_fraction=0.0)
    sampler = PairSampler(TrainingData(sequences=[partial], video_weight=1.0), config, AugmentConfig(), seed=1)
    frames = {int(origin.split("#")[1]) for i in range(40) for origin in sampler.sample(0, i).origin}
    assert frames and max(frames) <= 9


def test_unaugmented_crops_are_the_trackers_crops(train_dir):
    [gull] = [s for s in read_sequences(train_dir, "otb") if s.name == "Gull1"]
    config = DataConfig(max_frame_gap=0, negative_fraction=0.0)
    sampler = PairSampler(TrainingData(sequences=[gull], video_weight=1.0), config, NO_AUGMENT, seed=2)
    pair = sampler.sample(0, 0)
    frame_index = int(pair.origin[0].split("#")[1])
    image = gull.read_frame(frame_index)
    x, y, w, h = gull.boxes[frame_index]
    side = context_size(w, h, 0.5)
    centre = (x + w / 2, y + h / 2)
    assert np.array_equal(pair.template, crop_around(image, centre, side, TEMPLATE_SIZE))
    assert np.array_equal(pair.search, crop_around(image, centre, search_size_for(side), SEARCH_SIZE))
    scale = TEMPLATE_SIZE / side
    np.testing.assert_allclose(pair.template_box, [63.5 - w * scale / 2, 63.5 - h * scale / 2,
                                                   63.5 + w * scale / 2, 63.5 + h * scale / 2], atol=1e-3)
    np.testing.assert_allclose(pair.search_box, pair.template_box + 64.0, atol=1e-3)


def _white_box_image(box):
    image = np.zeros((SEARCH_SIZE, SEARCH_SIZE, 3), np.uint8)
    x1, y1, x2, y2 = (int(v) for v in box)
    image[y1:y2, x1:x2] = 255
    return image


def _bright_extent(image):
    ys, xs = np.nonzero(image[..., 0] > 127)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_aspect_stretch_moves_the_box_with_the_pixels(factor):
    box = np.array([100, 90, 160, 170], np.float32)
    stretched, new_box = augment.stretch_aspect(_white_box_image(box), box, factor)
    np.testing.assert_allclose(_bright_extent(stretched), new_box, atol=1.0)
    assert (new_box[2] - new_box[0]) / (box[2] - box[0]) == pytest.approx(factor)


def test_flip_moves_the_box_with_the_pixels():
    box = np.array([20, 30, 70, 90], np.float32)
    flipped, new_box = augment.flip_horizontal(_white_box_image(box), box)
    np.testing.assert_allclose(_bright_extent(flipped), new_box, atol=0.5)
    np.testing.assert_allclose(new_box, [SEARCH_SIZE - 70, 30, SEARCH_SIZE - 20, 90])


def test_jittered_search_window_keeps_the_target_inside_the_shift_range():
    rng = np.random.default_rng(0)
    for _ in range(50):
        window = augment.jittered_window((200, 100, 40, 60), rng, SEARCH_SIZE, TEMPLATE_SIZE, 0.5, shift=64, scale=0.18)
        x1, y1, x2, y2 = window.box_to_crop_xyxy((200, 100, 40, 60))
        assert abs((x1 + x2) / 2 - SEARCH_SIZE / 2) <= 64 + 1e-6
        assert abs((y1 + y2) / 2 - SEARCH_SIZE / 2) <= 64 + 1e-6


def test_colour_blur_and_grey_keep_shape_and_change_pixels():
    rng = np.random.default_rng(3)
    crop = rng.integers(0, 255, (TEMPLATE_SIZE, TEMPLATE_SIZE, 3), dtype=np.uint8)
    for out in (augment.color_jitter(crop, rng, 1.0), augment.gaussian_blur(crop, rng), augment.to_grayscale(crop)):
        assert out.shape == crop.shape and out.dtype == np.uint8 and not np.array_equal(out, crop)
    grey = augment.to_grayscale(crop)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])


def test_hard_negatives_come_from_the_templates_scene_with_the_target_outside_the_crop(small_data):
    config, data = small_data
    hard = DataConfig(sources=config.sources, negative_fraction=1.0, hard_negative_fraction=1.0)
    sampler = PairSampler(data, hard, NO_AUGMENT, seed=3)
    pairs = [sampler.sample(0, i) for i in range(30)]
    assert {p.kind for p in pairs} == {"hard_negative"}
    for pair in pairs:
        assert not pair.positive
        t_name, s_name = (origin.split("#")[0] for origin in pair.origin)
        assert t_name == s_name  # same sequence (nearby frame) or same still image
        x1, y1, x2, y2 = pair.search_box  # the target, in search-crop pixels
        assert x2 <= 0 or y2 <= 0 or x1 >= SEARCH_SIZE or y1 >= SEARCH_SIZE, pair.origin
    # most of them show scene, not padding: the crop is not one flat colour
    assert sum(float(p.search.std()) > 5.0 for p in pairs) >= 25


def test_hard_negative_share_follows_the_config(small_data):
    config, data = small_data
    mixed = DataConfig(sources=config.sources, negative_fraction=0.5, hard_negative_fraction=0.5)
    kinds = [PairSampler(data, mixed, NO_AUGMENT, seed=4).sample(0, i).kind for i in range(200)]
    assert 25 <= kinds.count("hard_negative") <= 75  # ~25 % of 200
    assert 25 <= kinds.count("negative") <= 75
