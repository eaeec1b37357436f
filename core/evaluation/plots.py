"""Success and precision plots as PNG files, in the style of the OTB/got10k reports.

matplotlib (installed with got10k) is imported only here and only when plotting, with the
Agg backend, so evaluation runs headless and nothing else pays for the import.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .metrics import NORM_PRECISION_THRESHOLDS, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS
from .report import TrackerReport

PLOT_FILES = ("success_plot.png", "precision_plot.png", "norm_precision_plot.png")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("Plots need matplotlib, which is not installed; run without --plots.") from None
    return plt


def write_plots(reports: list[TrackerReport], out_dir: Path | str) -> list[Path]:
    """Mean success, precision and normalised-precision curves of every tracker; returns the files."""
    plt = _pyplot()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = [
        (PLOT_FILES[0], SUCCESS_THRESHOLDS, "success_curve", "success_auc", "Overlap threshold",
         "Success rate", "Success plots of OPE", "AUC"),
        (PLOT_FILES[1], PRECISION_THRESHOLDS, "precision_curve", "precision_20", "Location error threshold (px)",
         "Precision", "Precision plots of OPE", "P@20"),
        (PLOT_FILES[2], NORM_PRECISION_THRESHOLDS, "norm_precision_curve", "norm_precision",
         "Normalised location error threshold", "Normalised precision", "Normalised precision plots of OPE",
         "AUC"),
    ]
    written = []
    for filename, thresholds, curve, score, xlabel, ylabel, title, score_name in specs:
        ranked = sorted(reports, key=lambda r: -getattr(r.mean, score))
        figure, axes = plt.subplots(figsize=(6, 4.5), dpi=100)
        for report in ranked:
            axes.plot(thresholds, getattr(report.mean, curve),
                      label=f"{report.tracker} [{score_name} {getattr(report.mean, score):.3f}]")
        axes.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(thresholds[0], thresholds[-1]), ylim=(0, 1))
        axes.grid(True, alpha=0.3)
        axes.legend(loc="lower right" if curve != "success_curve" else "lower left", fontsize=8)
        figure.tight_layout()
        path = out_dir / filename
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written
