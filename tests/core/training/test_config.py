"""TrainConfig: the paper's defaults, JSON files, --set overrides, clear errors."""
from __future__ import annotations

import json

import pytest
from support.paths import PROJECT_ROOT

from core.training.config import ConfigError, TrainConfig, load_config

ROOT = PROJECT_ROOT


def test_defaults_are_the_papers_schedule():
    config = TrainConfig()
    assert (config.optim.momentum, config.optim.weight_decay) == (0.9, 1e-3)
    assert (config.schedule.epochs, config.schedule.batch_size) == (50, 128)
    assert (config.optim.warmup_epochs, config.optim.warmup_lr) == (5.0, 1e-3)
    assert (config.optim.lr, config.optim.final_lr) == (5e-3, 1e-5)
    assert (config.schedule.unfreeze_backbone_epoch, config.optim.backbone_lr_scale) == (10, 0.1)


def test_json_file_and_overrides(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({
        "seed": 5,
        "init_weights": "weights/start.pt",
        "data": {"sources": ["data/otb", {"path": "/abs/coco", "layout": "coco", "weight": 0.5}],
                 "exclude_file": "split.txt"},
        "optim": {"lr": 0.02},
    }))
    config = load_config(path, ["schedule.epochs=3", "optim.momentum=0.8", "cache.enabled=true", "cache.dir=/x"])
    assert config.seed == 5 and config.optim.lr == 0.02 and config.optim.weight_decay == 1e-3
    assert config.schedule.epochs == 3 and config.optim.momentum == 0.8
    assert config.cache.enabled is True and config.cache.dir == "/x"
    first, second = config.data.sources
    assert first.path == str(tmp_path / "data" / "otb") and first.layout == "otb"  # relative to the file
    assert (second.path, second.layout, second.weight) == ("/abs/coco", "coco", 0.5)
    assert config.data.exclude_file == str(tmp_path / "split.txt")
    assert config.init_weights == str(tmp_path / "weights" / "start.pt")
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("override, message", [
    ("optim.lr", "section.key=value"),
    ("optim.nope=1", "no config field 'nope'"),
    ("nosection.lr=1", "no config section"),
    ("optim.lr=fast", "must be a number"),
    ("cache.enabled=1", "true or false"),
])
def test_bad_overrides_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig().with_overrides([override])


def test_bad_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{ nope")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(broken)
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"optim": {"learning_rate": 1}}))
    with pytest.raises(ConfigError, match="unknown field"):
        load_config(unknown)


def test_shipped_configs_load():
    for path in sorted((ROOT / "benchmarks" / "train_configs").glob("*.json")):
        config = load_config(path)
        assert config.data.sources, path
