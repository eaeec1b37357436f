"""The open project: opening it, its autosave journal, saving and exporting it, and its store's events.

A ProjectSession owns the AnnotationStore (GUI thread), the FrameCache the views decode from
and the journal. It relays every store Change as ``labelsChanged`` (for incremental views) and,
at most once per event-loop pass, ``projectChanged`` (for views that redraw from the project).
It knows nothing of the frame shown, the selection or propagation runs.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore

from core.annotations.model import MediaRef, Project
from core.errors import UserError

from .opening import media_name, plan_open

if TYPE_CHECKING:  # imported where used: they load the engine, which the window does not need at once
    from core.annotations.journal import Journal
    from core.annotations.store import AnnotationStore
    from core.media import FrameCache

log = logging.getLogger(__name__)

CACHE_BYTES = 384 * 1024 * 1024  # decoded frames kept for scrubbing
CACHE_READ_AHEAD = 8


class ProjectSession(QtCore.QObject):
    opened = QtCore.Signal()              # a project was installed (store, cache and journal are new)
    closing = QtCore.Signal()             # the open project is about to close (its store still exists)
    projectChanged = QtCore.Signal()      # throttled: at most one per event-loop pass
    labelsChanged = QtCore.Signal(object)  # every store Change (tracks and frames), for incremental views
    notice = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.store: AnnotationStore | None = None
        self.cache: FrameCache | None = None
        self.journal: Journal | None = None
        self.project_path: Path | None = None
        self.display_name = ""  # what the title calls the open media ("Car4" for a sequence, not "img")
        self.dirty = False
        self._unsubscribe: Callable[[], None] | None = None
        self._changed_timer = QtCore.QTimer(self)
        self._changed_timer.setSingleShot(True)
        self._changed_timer.setInterval(0)
        self._changed_timer.timeout.connect(self.projectChanged)

    @property
    def project(self) -> Project | None:
        return None if self.store is None else self.store.project

    @property
    def frame_count(self) -> int:
        media = self.project.media if self.project else None
        return media.frame_count if media else 0

    def refresh(self) -> None:
        """Every view redraws from the project now (settings changed, or a refused edit left a widget
        showing what the project does not hold)."""
        self.projectChanged.emit()

    # --- opening ----------------------------------------------------------------------------
    def open(self, path: str | Path, ask_recover=None, media_path: str | Path | None = None) -> None:
        """Open a video, image folder, project or labelled sequence; raises UserError.

        A project whose media is not where it says raises core.media.MediaMissing (the window
        then asks where it went); media_path opens it over media found elsewhere, after
        checking that it is the same media, and the project then holds the new path (saved
        with the next save). When the autosave journal of that project (or of that media, if
        never saved) holds edits from a crashed session, ask_recover(recovery) decides
        whether to replay them.
        """
        from core.annotations.io import load_project
        from core.media import check_located, open_media, open_media_ref

        plan = plan_open(path)
        located: MediaRef | None = None  # the media found elsewhere (media_path)
        if plan.kind == "project":
            project = load_project(plan.path)  # its media path comes back resolved against the file
            if project.media is None:
                raise UserError(f"The project {plan.path.name} names no video or image folder.")
            if media_path is not None:
                project.media = located = check_located(project.media, media_path)
            # the media must be the one the project was labelled on (fingerprint, frame count)
            source = open_media_ref(project.media)
            project_path: Path | None = plan.path
        elif plan.kind == "sequence":
            from core.formats import import_project

            assert plan.fmt is not None  # plan_open names the format of every sequence
            project = import_project(plan.path, plan.fmt, media=plan.media)
            if project.media is None:
                raise UserError(f"The sequence {plan.path.name} has no frames to show.")
            source = open_media(project.media.path)
            project_path = None
        else:
            source = open_media(plan.path)
            project = Project(media=source.to_media_ref())
            project_path = None
        self.display_name = plan.name
        self._install(project, source, project_path, ask_recover)
        if located is not None:
            self.dirty = True  # the file still names the old place until it is saved
            self.notice.emit(f"Opened with the media at {located.path}; save to keep its new place.")
            self.projectChanged.emit()

    def install(self, project: Project, source, project_path: Path | None = None, ask_recover=None) -> None:
        """Show an in-memory project over an open FrameSource (the session closes it later)."""
        self.display_name = media_name(Path(project.media.path)) if project.media else ""
        self._install(project, source, project_path, ask_recover)

    def _install(self, project: Project, source, project_path: Path | None, ask_recover) -> None:
        from core.annotations.journal import Journal, read_journal
        from core.annotations.store import AnnotationStore
        from core.media import FrameCache

        self.close()
        journal_key = journal_key_for(project, project_path)
        recovery = _read_recovery(read_journal, journal_key)
        recovered = recovery is not None and ask_recover is not None and ask_recover(recovery)
        if recovered:
            opened_media, project = project.media, recovery.project
            project.media = opened_media  # the journal never moves media: keep the path just opened
        self.journal = Journal(journal_key)
        self.store = AnnotationStore(project, journal=self.journal)
        self._unsubscribe = self.store.subscribe(self._on_store_change)
        self.cache = FrameCache(source, max_bytes=CACHE_BYTES, read_ahead=CACHE_READ_AHEAD)
        self.project_path = project_path
        self.dirty = bool(recovered)
        self.opened.emit()
        self.projectChanged.emit()

    def close(self) -> None:
        """Close the project; its journal is deleted (the user saved or chose to discard)."""
        self.closing.emit()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self.journal is not None:
            self.journal.discard()
            self.journal = None
        if self.cache is not None:
            source = self.cache.source
            self.cache.close()
            source.close()
            self.cache = None
        self.store = None

    def abandon(self) -> None:
        """Leave the journal behind unclosed, as a crash does (tests use it)."""
        if self.journal is not None:
            self.journal.close()
            self.journal = None

    # --- saving and exporting ---------------------------------------------------------------
    def save(self, path: str | Path | None = None) -> Path:
        """Atomic save; the journal is checkpointed (and moves beside the file on Save As)."""
        from core.annotations.io import save_project

        if self.project is None:
            raise UserError("There is nothing to save: open a video first.")
        target = Path(path) if path is not None else self.project_path
        if target is None:
            raise UserError("Choose where to save the project.")
        sha1 = save_project(self.project, target)
        if self.journal is not None:
            old = self.journal.path
            self.journal.checkpoint(sha1, target)
            if old != self.journal.path:
                old.unlink(missing_ok=True)
        self.project_path = target
        self.dirty = False
        self.projectChanged.emit()
        return target

    def export(self, fmt: str, out_dir: str | Path, images: bool = False, progress=None) -> None:
        """Export in fmt; images=True also writes the frames the labels name (progress(done, total)
        per frame, which may raise core.errors.Cancelled)."""
        from core.formats import export_project

        if self.project is None:
            raise UserError("There is nothing to export: open a video first.")
        source = _CachedFrames(self.cache) if self.cache is not None else None  # the cache serialises reads
        export_project(self.project, fmt, Path(out_dir), source=source, images=images, progress=progress)

    # --- store events -----------------------------------------------------------------------
    def _on_store_change(self, change) -> None:
        self.dirty = True
        self.labelsChanged.emit(change)
        if not self._changed_timer.isActive():
            self._changed_timer.start()


class _CachedFrames:
    """The open media as export reads it: through the FrameCache, whose read-ahead thread shares
    the FrameSource (reading the source directly would race with it)."""

    def __init__(self, cache) -> None:
        self.read = cache.get


def journal_key_for(project: Project, project_path: Path | None) -> Path:
    """The project path the journal belongs to: the saved file, or (never saved) a name in the
    autosave dir keyed by the media fingerprint, so reopening the same video finds it."""
    from .paths import autosave_dir

    if project_path is not None:
        return project_path
    key = (project.media.fingerprint or Path(project.media.path).name) if project.media else "untitled"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:80]
    return autosave_dir() / f"{safe}.json"


def _read_recovery(read_journal, key: Path):
    try:
        return read_journal(key)
    except UserError as error:
        log.warning("cannot recover %s: %s", key, error)
        return None
