"""One-pass evaluation, the "report" half: score stored runs, then tables and a JSON dict.

Scoring never tracks, so the same runs can be reported as text, markdown, JSON or plots.
Summary rows follow the toolkits: success / precision curves averaged over sequences
(ExperimentOTB), AO / SR over all frames pooled (ExperimentGOT10k), fps the mean of the
per-sequence fps (ExperimentOTB and shared/tools/ope.py).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from ..media.sequence import Sequence
from .metrics import (
    NORM_PRECISION_THRESHOLDS,
    PRECISION_THRESHOLDS,
    SUCCESS_THRESHOLDS,
    SequenceMetrics,
    iou,
    mean_metrics,
    sequence_metrics,
    valid_frames,
)
from .ope import SequenceResult

CONVENTIONS = {
    "boxes": "0-based x,y,w,h; first frame counted with the init box; absent frames left out",
    "success_auc": "mean of the success curve, IoU > t for t in linspace(0,1,21) (got10k ExperimentOTB)",
    "precision_20": "fraction of frames with centre error <= 20 px",
    "norm_precision": "mean of the LaSOT normalised-precision curve, t in 0..0.5 step 0.01",
    "norm_precision_at_0_2": "normalised precision at 0.2",
    "ao": "mean IoU (got10k ExperimentGOT10k); summary pooled over all frames",
    "sr50": "fraction of frames with IoU > 0.5; summary pooled over all frames",
    "sr75": "fraction of frames with IoU > 0.75; summary pooled over all frames",
    "fps": "frames per second of the tracking call alone (init excluded); summary = mean over sequences",
}
COLUMNS = (("success_auc", "AUC"), ("precision_20", "P@20"), ("norm_precision", "NPrec"),
           ("ao", "AO"), ("sr50", "SR.5"), ("sr75", "SR.75"))


@dataclass(frozen=True)
class TrackerReport:
    """One tracker's scores: per sequence (in run order) and the summary."""

    tracker: str
    sequences: dict[str, SequenceMetrics]
    fps: dict[str, float]
    mean: SequenceMetrics
    mean_fps: float


def score_tracker(results: Iterable[SequenceResult], sequences: Mapping[str, Sequence]) -> TrackerReport:
    """Metrics of one tracker's runs against the ground truth of the sequences they ran on."""
    results = list(results)
    if not results:
        raise ValueError("score_tracker needs at least one SequenceResult")
    per_sequence: dict[str, SequenceMetrics] = {}
    fps: dict[str, float] = {}
    pooled = []
    for result in results:
        sequence = sequences[result.sequence]
        gt, absent = sequence.boxes[: len(result.boxes)], sequence.absent[: len(result.boxes)]
        per_sequence[result.sequence] = sequence_metrics(result.boxes, gt, absent)
        keep = valid_frames(gt, absent)
        pooled.append(iou(result.boxes[keep], gt[keep]))
        fps[result.sequence] = result.fps
    finite_fps = [v for v in fps.values() if math.isfinite(v)]
    return TrackerReport(
        tracker=results[0].tracker,
        sequences=per_sequence,
        fps=fps,
        mean=mean_metrics(list(per_sequence.values()), np.concatenate(pooled)),
        mean_fps=float(np.mean(finite_fps)) if finite_fps else float("nan"),
    )


def score_runs(runs: Mapping[str, list[SequenceResult]], sequences: Iterable[Sequence]) -> list[TrackerReport]:
    """Reports of several trackers, in the order they ran."""
    by_name = {s.name: s for s in sequences}
    return [score_tracker(results, by_name) for results in runs.values() if results]


def _json_number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _metrics_dict(metrics: SequenceMetrics, fps: float) -> dict:
    values = {k: (_json_number(v) if isinstance(v, float) else v) for k, v in metrics.summary().items()}
    values["fps"] = _json_number(fps)
    return values


def report_dict(reports: list[TrackerReport], notes: Iterable[str] = (), settings: Mapping | None = None) -> dict:
    """Everything as plain JSON types: per tracker its summary, per-sequence rows and mean curves."""
    return {
        "conventions": dict(CONVENTIONS),
        "settings": dict(settings or {}),
        "notes": list(notes),
        "thresholds": {
            "success": SUCCESS_THRESHOLDS.tolist(),
            "precision": PRECISION_THRESHOLDS.tolist(),
            "norm_precision": NORM_PRECISION_THRESHOLDS.tolist(),
        },
        "trackers": {
            report.tracker: {
                "mean": _metrics_dict(report.mean, report.mean_fps),
                "sequences": {name: _metrics_dict(m, report.fps[name]) for name, m in report.sequences.items()},
                "curves": {
                    "success": report.mean.success_curve.tolist(),
                    "precision": report.mean.precision_curve.tolist(),
                    "norm_precision": report.mean.norm_precision_curve.tolist(),
                },
            }
            for report in reports
        },
    }


def _cell(value: float, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _render(header: list[str], rows: list[list[str]], markdown: bool, text_columns: int = 2) -> str:
    """Markdown, or plain text with names left-aligned and numbers right-aligned."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < text_columns else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def detail_table(reports: list[TrackerReport], markdown: bool = False) -> str:
    """One row per sequence and tracker, then each tracker's summary row."""
    header = ["sequence", "tracker", *(title for _, title in COLUMNS), "fps"]
    rows = []
    names = list(dict.fromkeys(n for r in reports for n in r.sequences))
    for name in names:
        for report in reports:
            if name in report.sequences:
                m = report.sequences[name]
                rows.append([name, report.tracker, *(_cell(getattr(m, k)) for k, _ in COLUMNS),
                             _cell(report.fps[name], 1)])
    for report in reports:
        rows.append(["mean" if not markdown else "**mean**", report.tracker,
                     *(_cell(getattr(report.mean, k)) for k, _ in COLUMNS), _cell(report.mean_fps, 1)])
    return _render(header, rows, markdown)


def side_by_side_table(reports: list[TrackerReport], metric: str = "success_auc", markdown: bool = False) -> str:
    """Sequences down, trackers across, one metric (success AUC by default), plus mean and fps rows."""
    header = ["sequence", *(r.tracker for r in reports)]
    names = list(dict.fromkeys(n for r in reports for n in r.sequences))
    rows = [[n, *(_cell(getattr(r.sequences[n], metric)) if n in r.sequences else "-" for r in reports)]
            for n in names]
    rows.append(["mean", *(_cell(getattr(r.mean, metric)) for r in reports)])
    rows.append(["fps", *(_cell(r.mean_fps, 1) for r in reports)])
    return _render(header, rows, markdown, text_columns=1)
