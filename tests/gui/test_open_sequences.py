"""The Open dialog opens videos, image folders, projects and labelled sequences (OTB, GOT-10k,
LaSOT, MOT, COCO), from their folder, their labels file or one of their frames, and the window
is titled by the sequence's name. Driven through the real dialog: pick, press Open."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6 import QtWidgets
from support.media import write_image_folder

from core.annotations.model import FrameLabel, Project, Provenance, Track
from core.formats import export_project
from core.formats.frames import media_ref_for
from siamcross_gui.open_dialog import NAME_FILTERS, OpenDialog
from siamcross_gui.opening import plan_open
from siamcross_gui.settings import AppSettings
from siamcross_gui.testing import key, window_maker

FRAMES = 8


@pytest.fixture
def make_window(qtbot):
    with window_maker(qtbot, AppSettings, size=(1100, 760), focus=True) as make:
        yield make


@pytest.fixture(scope="module")
def sequences(tmp_path_factory) -> dict[str, Path]:
    """One foreign-looking sequence per format (exported with its frames, our sidecars removed)."""
    root = tmp_path_factory.mktemp("sequences")
    frames = write_image_folder(root / "source" / "walk", FRAMES)
    project = Project(media=media_ref_for(frames))
    track = Track(1, "car", "#00ff00")
    for i in range(FRAMES):
        track.frames[i] = FrameLabel((2.0 * i + 1, 16.0, 16.0, 16.0), Provenance.MANUAL)
    project.tracks[1] = track
    out = {}
    for fmt in ("otb", "got10k", "lasot", "mot", "coco-vid"):
        folder = root / fmt
        export_project(project, fmt, folder, images=True)
        for extra in (*folder.rglob("siamcross_meta.json"), *folder.rglob(".siamcross_export")):
            extra.unlink()
        out[fmt] = folder
    shutil.rmtree(root / "source")  # the sequences must open from their own frames
    return out


def pick(qtbot, dialog: OpenDialog, path: Path) -> None:
    """Go to path's folder, type its name into the file name field (as a user does) and press Open."""
    dialog.setDirectory(str(path.parent))
    name_field = dialog.findChild(QtWidgets.QLineEdit, "fileNameEdit")

    def typed() -> bool:
        name_field.setText(path.name)
        return dialog.selectedFiles() == [str(path)] and dialog.open_button.isEnabled()

    qtbot.waitUntil(typed, timeout=5000)
    dialog.open_button.click()


def open_with_dialog(qtbot, window, path: Path) -> OpenDialog:
    key(window, "Ctrl+O")
    dialog = window.files.open_file_dialog
    assert dialog is not None and dialog.isVisible()
    pick(qtbot, dialog, path)
    return dialog


def test_the_open_dialog_lists_label_files_and_images_and_explains_folders(make_window):
    window = make_window()
    key(window, "Ctrl+O")
    dialog = window.files.open_file_dialog
    assert dialog.isVisible()
    everything = NAME_FILTERS[0]
    for pattern in ("*.mp4", "*.json", "*.txt", "*.label", "*.jpg"):
        assert pattern in everything
    assert dialog.nameFilters() == NAME_FILTERS
    assert "select it and press Open" in dialog.hint.text() and dialog.hint.isVisible()
    dialog.reject()


@pytest.mark.parametrize("fmt,inside", [("otb", "walk"), ("got10k", "train/walk"), ("lasot", "car/car-1"),
                                        ("mot", "walk")])
def test_a_sequence_folder_picked_in_the_dialog_opens_with_its_labels_and_name(make_window, qtbot, sequences,
                                                                                fmt, inside):
    window = make_window()
    folder = sequences[fmt] / inside
    open_with_dialog(qtbot, window, folder)
    qtbot.waitUntil(lambda: window.controller.project is not None, timeout=10_000)
    c = window.controller
    assert c.frame_count == FRAMES, window.last_error
    (track,) = c.project.tracks.values()
    assert track.frames[3].box == pytest.approx((7.0, 16.0, 16.0, 16.0))
    assert track.frames[3].provenance is Provenance.IMPORTED
    assert window.windowTitle().startswith(folder.name + " — "), window.windowTitle()
    assert window.windowTitle() != "img — SiamCross Annotator"


@pytest.mark.parametrize("fmt,labels", [("otb", "walk/groundtruth_rect.txt"), ("mot", "walk/gt/gt.txt"),
                                        ("got10k", "train/walk/absence.label"), ("otb", "walk/img/0003.jpg"),
                                        ("lasot", "car/car-1/groundtruth.txt")])
def test_picking_a_labels_file_or_a_frame_opens_its_sequence_not_a_text_video(make_window, qtbot, sequences,
                                                                              fmt, labels):
    window = make_window()
    path = sequences[fmt] / labels
    open_with_dialog(qtbot, window, path)
    qtbot.waitUntil(lambda: window.controller.project is not None, timeout=10_000)
    assert window.controller.frame_count == FRAMES
    assert window.controller.project.media.kind == "images"
    assert len(window.controller.project.tracks) == 1


def test_a_coco_file_opens_over_the_images_beside_it(make_window, qtbot, sequences):
    window = make_window()
    open_with_dialog(qtbot, window, sequences["coco-vid"] / "annotations.json")
    qtbot.waitUntil(lambda: window.controller.project is not None, timeout=10_000)
    c = window.controller
    assert c.frame_count == FRAMES and len(c.project.tracks) == 1
    assert Path(c.project.media.path) == sequences["coco-vid"] / "frames"
    assert window.windowTitle().startswith("coco-vid — ")


def test_a_folder_of_frames_opens_and_a_dataset_folder_is_entered(make_window, qtbot, sequences, tmp_path):
    window = make_window()
    dialog = open_with_dialog(qtbot, window, sequences["otb"])  # holds a sequence: look inside
    qtbot.wait(100)
    assert dialog.isVisible() and window.controller.project is None
    assert Path(dialog.directory().absolutePath()) == sequences["otb"]
    frames = write_image_folder(tmp_path / "holiday", 5)
    pick(qtbot, dialog, frames)
    qtbot.waitUntil(lambda: window.controller.project is not None, timeout=10_000)
    assert window.controller.frame_count == 5
    assert window.windowTitle().startswith("holiday — ")


def test_a_stray_text_file_is_one_sentence_and_the_open_video_stays(make_window, qtbot, demo_video, tmp_path):
    window = make_window(path=demo_video)
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n" * 30)
    open_with_dialog(qtbot, window, notes)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=5000)
    assert "notes.txt is a text file" in window.last_error
    assert window.controller.frame_count == 132 and "bigbuckbunny.mp4" in window.windowTitle()


def test_the_command_line_sequence_is_titled_by_its_name(make_window, sequences):
    window = make_window(path=sequences["otb"] / "walk")
    assert window.windowTitle() == "walk — SiamCross Annotator"


def test_plan_open_finds_the_sequence_of_every_door(sequences):
    otb = sequences["otb"] / "walk"
    for door in (otb, otb / "groundtruth_rect.txt", otb / "img", otb / "img" / "0001.jpg"):
        plan = plan_open(door)
        assert (plan.kind, plan.fmt, plan.path, plan.name) == ("sequence", "otb", otb, "walk"), door
    mot = sequences["mot"] / "walk"
    assert plan_open(mot / "gt" / "gt.txt").path == mot
    assert plan_open(mot / "seqinfo.ini").path == mot
    coco = plan_open(sequences["coco-vid"] / "annotations.json")
    assert (coco.kind, coco.fmt, coco.media) == ("sequence", "coco-vid", sequences["coco-vid"] / "frames")


def test_the_dialog_is_a_file_dialog_that_can_open_folders():
    dialog = OpenDialog(None)
    assert dialog.fileMode() == QtWidgets.QFileDialog.FileMode.ExistingFile
    assert dialog.testOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog)
    dialog.deleteLater()
