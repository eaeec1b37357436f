"""What a propagation will change, worked out before it changes anything.

Runs plan around human labels (plan.stops), so nothing a person drew is replaced silently;
but a user who sees a run stop early, or who asked to replace imported labels, must be told
what happens: which frames may be rewritten, where a pass ends at a human label, and how
many imported labels the run keeps (or, with overwrite, replaces). The CLI prints this and
the app shows it, and asks before replacing anything. Pure planning: no pixels, no tracker.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..annotations.model import Project, Provenance, Track
from ..errors import UserError
from .plan import check_range, linear_anchors, linear_frames, next_stop, plan_directional, plan_fill, previous_stop
from .request import PropagationRequest

MAX_TRACKS_NAMED = 3  # a one-line summary names this many tracks, then counts the rest


@dataclass(frozen=True)
class TrackChange:
    """One track's part of a run.

    frames: the frames the run may write, ascending (a pass that loses the target stops sooner).
    kept: imported labels in the run's way that it leaves as they are (an overwrite run would
      re-track them). replaced: imported labels this run re-tracks (overwrite only).
    stopped_at: forward / backward only, the human label that ends the pass before the end of
      the requested range, or None.
    """

    track_id: int
    frames: tuple[int, ...]
    kept: tuple[int, ...] = ()
    replaced: tuple[int, ...] = ()
    stopped_at: int | None = None


@dataclass(frozen=True)
class PropagationPreview:
    request: PropagationRequest
    tracks: tuple[TrackChange, ...]

    @property
    def frame_count(self) -> int:
        """Frame labels the run may write, over all tracks."""
        return sum(len(t.frames) for t in self.tracks)

    @property
    def kept(self) -> int:
        return sum(len(t.kept) for t in self.tracks)

    @property
    def replaced(self) -> int:
        return sum(len(t.replaced) for t in self.tracks)

    def changes_text(self) -> str:
        """e.g. "frames 202-260 of track 1, frames 3-9 and 12 of track 2" (1-based, as users count)."""
        parts = [f"{_frames_text(t.frames)} of track {t.track_id}" for t in self.tracks if t.frames]
        if not parts:
            return "no frames"
        if len(parts) > MAX_TRACKS_NAMED:
            rest = len(parts) - MAX_TRACKS_NAMED
            parts = parts[:MAX_TRACKS_NAMED] + [f"{rest} more track{'s' if rest > 1 else ''}"]
        return ", ".join(parts)

    def kept_text(self) -> str | None:
        """One clause on the imported labels this run leaves alone and where it stops (None when none)."""
        if not self.kept:
            return None
        stops = [(t.track_id, t.stopped_at) for t in self.tracks if t.stopped_at is not None and t.kept]
        where = "; ".join(f"track {track_id} stops before its human label on frame {stopped_at + 1}"
                          for track_id, stopped_at in stops[:MAX_TRACKS_NAMED])
        if len(stops) > MAX_TRACKS_NAMED:
            where += f" and {len(stops) - MAX_TRACKS_NAMED} more tracks stop early"
        kept = f"{self.kept} imported label{'' if self.kept == 1 else 's'} kept"
        return f"{kept} ({where})" if where else kept


def preview_changes(project: Project, request: PropagationRequest, frame_count: int) -> PropagationPreview:
    """What request would write on each of its tracks; UserError for a request propagate() refuses."""
    check_range(request, frame_count)
    tracks = []
    for track_id in request.track_ids:
        track = project.tracks.get(track_id)
        if track is None:
            raise UserError(f"Track {track_id} does not exist in this project.")
        one = replace(request, track_ids=(track_id,))
        frames = _written(project, one, frame_count)
        imported = {f for f, label in track.frames.items() if label.provenance is Provenance.IMPORTED}
        if request.overwrite:
            tracks.append(TrackChange(track_id, frames, replaced=tuple(f for f in frames if f in imported)))
            continue
        try:
            reachable = _written(project, replace(one, overwrite=True), frame_count)
        except UserError:  # nothing to anchor on without the imported labels: nothing an overwrite could do
            reachable = ()
        kept = tuple(f for f in reachable if f in imported)
        tracks.append(TrackChange(track_id, frames, kept=kept, stopped_at=_stopped_at(track, one, frame_count)))
    return PropagationPreview(request, tuple(tracks))


def _written(project: Project, request: PropagationRequest, frame_count: int) -> tuple[int, ...]:
    """The frames a one-track request may write, ascending."""
    track = project.tracks[request.track_ids[0]]
    if request.method == "linear":
        linear_anchors(track, request)  # the same UserError as the run for a start frame without a box
        return tuple(sorted(linear_frames(track, request, frame_count)))
    if request.direction == "fill":
        plan = plan_fill(project, request, frame_count)
        return tuple(f for seg in plan.segments for f in range(seg.write_lo, seg.write_hi + 1))
    plan = plan_directional(project, request, frame_count)
    return tuple(sorted(f for p in plan.forward + plan.backward for f in p.planned_frames() if p.writes(f)))


def _stopped_at(track: Track, request: PropagationRequest, frame_count: int) -> int | None:
    """The human label a forward / backward pass ends at before the end of its range."""
    if request.direction == "fill":
        return None
    lo, hi = check_range(request, frame_count)
    if request.direction == "forward":
        stop = next_stop(track, request.start_frame)
        return stop if stop is not None and stop <= hi else None
    stop = previous_stop(track, request.start_frame)
    return stop if stop is not None and stop >= lo else None


def _frames_text(frames: tuple[int, ...]) -> str:
    """Ascending 0-based frames as 1-based runs: "frames 3-9 and 12", "frame 5"."""
    runs: list[tuple[int, int]] = []
    for f in frames:
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    texts = [f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in runs]
    if len(texts) > 4:
        texts = texts[:3] + [f"{len(texts) - 3} more stretches"]
    word = "frame" if len(frames) == 1 else "frames"
    return f"{word} {', '.join(texts[:-1])} and {texts[-1]}" if len(texts) > 1 else f"{word} {texts[0]}"
