"""make bench's report: a partial rerun keeps the sections it did not run, whole."""
from __future__ import annotations

from benchmarks.run_all import BENCHMARKS, kept_sections


def test_each_section_is_kept_whole_even_with_headings_of_its_own():
    first, second = BENCHMARKS[0], BENCHMARKS[-1]
    report = ("# Benchmark report\n\n## Machine and versions\n\n- python\n\n"
              f"## {first.title}\n\n```\nfirst output\n## Success AUC\n| a |\n```\n\n"
              f"## {second.title}\n\n```\nsecond output\n```\n")
    kept = kept_sections(report)
    assert list(kept) == [first.title, second.title]
    assert "## Success AUC" in kept[first.title] and "first output" in kept[first.title]
    assert kept[first.title].startswith(f"## {first.title}\n") and "second output" not in kept[first.title]
    assert kept[second.title].endswith("second output\n```\n")


def test_benchmark_keys_and_titles_are_unique():
    assert len({b.key for b in BENCHMARKS}) == len(BENCHMARKS)
    assert len({b.title for b in BENCHMARKS}) == len(BENCHMARKS)
