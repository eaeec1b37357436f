"""Frame sources: exact indices on real videos, image folders, and clear errors for bad media."""
from __future__ import annotations

import random
import shutil
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.media import digest, sequential_digests, write_video

from core.annotations.model import MediaRef
from core.errors import MediaError
from core.media import ImageFolderSource, MediaInfo, VideoSource, natural_sort_key, open_media, open_media_ref
from core.media.frame_index import frame_rate as _frame_rate


@pytest.fixture(scope="module")
def bikes(videos_dir: Path) -> Path:
    return videos_dir / "bikes.mp4"


@pytest.fixture(scope="module")
def bikes_reference(bikes: Path) -> list[str]:
    return sequential_digests(bikes)


# -- real videos ----------------------------------------------------------------------------------
def test_bikes_info_comes_from_decoding(bikes: Path) -> None:
    with open_media(bikes) as source:
        info = source.info
    assert isinstance(info, MediaInfo)
    assert (info.kind, info.frame_count, info.width, info.height) == ("video", 250, 640, 272)
    assert info.fps == pytest.approx(25.0)
    assert not info.variable_fps and info.note == ""
    assert info.fingerprint.startswith("sha1:")
    ref = source.to_media_ref()
    assert isinstance(ref, MediaRef) and ref.frame_count == 250 and ref.path == str(bikes)


def test_every_bikes_frame_is_exact_in_random_order(bikes: Path, bikes_reference: list[str]) -> None:
    order = list(range(len(bikes_reference)))
    random.Random(7).shuffle(order)
    with open_media(bikes) as source:
        assert len(source) == len(bikes_reference) == 250
        for index in order:
            assert digest(source.read(index)) == bikes_reference[index], f"frame {index}"


def test_sequential_reads_never_seek_and_match(bikes: Path, bikes_reference: list[str]) -> None:
    with open_media(bikes) as source:
        for index in range(40):
            assert digest(source.read(index)) == bikes_reference[index]
        # short forward jumps decode through instead of seeking
        for index in (45, 50, 60):
            assert digest(source.read(index)) == bikes_reference[index]
        assert source.seeks == 0


def test_same_frame_from_another_thread_and_backwards(bikes: Path, bikes_reference: list[str]) -> None:
    results: dict[int, str] = {}

    def worker() -> None:
        with open_media(bikes) as own:  # one source per thread
            for index in (249, 3, 128):
                results[index] = digest(own.read(index))

    thread = threading.Thread(target=worker)
    thread.start()
    with open_media(bikes) as source:
        backwards = {i: digest(source.read(i)) for i in range(249, 230, -1)}
    thread.join()
    assert results == {i: bikes_reference[i] for i in (249, 3, 128)}
    assert backwards == {i: bikes_reference[i] for i in range(249, 230, -1)}


def test_bigbuckbunny_720p_seeks_are_exact(videos_dir: Path) -> None:
    path = videos_dir / "bigbuckbunny.mp4"
    reference = sequential_digests(path)
    with open_media(path) as source:
        assert (source.info.frame_count, source.info.width, source.info.height) == (132, 1280, 720)
        assert len(reference) == 132
        for index in (131, 0, 77, 76, 5, 100):
            assert digest(source.read(index)) == reference[index], f"frame {index}"


class InexactSeekCapture:
    """A real capture whose frame seek lands `error` frames off, as some containers do."""

    def __init__(self, path: str, error: int) -> None:
        self._capture = cv2.VideoCapture(path)
        self._error = error

    def set(self, prop: int, value: float) -> bool:
        if prop == cv2.CAP_PROP_POS_FRAMES:
            value = max(0.0, value + self._error)
        return self._capture.set(prop, value)

    def __getattr__(self, name: str):  # isOpened, grab, retrieve, get, release
        return getattr(self._capture, name)


@pytest.mark.parametrize("error", [3, -5])
def test_inexact_container_seeks_are_corrected(bikes: Path, bikes_reference: list[str], error: int) -> None:
    source = VideoSource(bikes, capture_factory=lambda p: InexactSeekCapture(p, error))
    for index in (200, 40, 120, 20, 249):
        assert digest(source.read(index)) == bikes_reference[index], f"frame {index}"
    assert source.inexact_seeks > 0
    source.close()


class LyingHeaderCapture(InexactSeekCapture):
    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FRAME_COUNT:
            return 300.0
        return self._capture.get(prop)


def test_frame_count_comes_from_decoding_when_the_header_lies(bikes: Path) -> None:
    source = VideoSource(bikes, capture_factory=lambda p: LyingHeaderCapture(p, 0))
    assert source.info.frame_count == 250
    assert "claims 300 frames but 250 decode" in source.info.note
    with pytest.raises(MediaError, match="Frame 260 does not exist"):
        source.read(260)


def test_damaged_frames_mid_video_keep_later_indices_and_raise_by_name(bikes: Path, tmp_path: Path,
                                                                       bikes_reference: list[str]) -> None:
    data = bytearray(bikes.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 5000] = bytes(5000)  # wipe a stretch of the h264 stream
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with open_media(damaged) as source:
        assert source.info.frame_count == 250, "damaged frames keep their slots"
        assert source.damaged_frames and "damaged frame" in source.info.note
        broken = source.damaged_frames[0]
        with pytest.raises(MediaError, match=f"Frame {broken} of damaged.mp4"):
            source.read(broken)
        # frames well after the damage are still the right ones
        for index in (249, 200, 180):
            assert digest(source.read(index)) == bikes_reference[index]


def test_variable_frame_rate_is_detected_from_timestamps() -> None:
    fps, variable, note = _frame_rate([0.0, 40.0, 80.0, 100.0, 140.0, 220.0, 230.0], 25.0)
    assert variable and "Variable frame rate" in note
    assert fps == pytest.approx(6000 / 230)
    fps, variable, note = _frame_rate([0.0, 40.0, 80.0, 120.0, 240.0, 280.0], 25.0)  # a dropped-frame gap
    assert (fps, variable, note) == (25.0, False, "")


def test_4k_video_in_a_non_ascii_path_with_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "vidéos d'été 映像"
    folder.mkdir()
    path = folder / "clip 4k.mp4"
    write_video(path, frames=3, size=(3840, 2160))
    reference = sequential_digests(path)
    with open_media(path) as source:
        assert (source.info.width, source.info.height, source.info.frame_count) == (3840, 2160, 3)
        for index in (2, 0, 1):
            frame = source.read(index)
            assert frame.shape == (2160, 3840, 3) and frame.dtype == np.uint8
            assert digest(frame) == reference[index]


# -- bad media ------------------------------------------------------------------------------------
def one_sentence(error: pytest.ExceptionInfo[MediaError]) -> str:
    message = str(error.value)
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0, message
    return message


def test_missing_empty_text_and_image_files_raise_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("not a video at all " * 50)
    (tmp_path / "frame.png").write_bytes(cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes())
    expectations = {
        "missing.mp4": "does not exist",
        "empty.mp4": "empty file",
        "notes.mp4": "not a video",
        "frame.png": "single image",
    }
    for name, phrase in expectations.items():
        with pytest.raises(MediaError) as error:
            open_media(tmp_path / name)
        assert phrase in one_sentence(error)


def test_truncated_and_zero_frame_videos_raise(bikes: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(bikes.read_bytes()[: bikes.stat().st_size // 3])  # moov atom lost
    writer = cv2.VideoWriter(str(tmp_path / "zero.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (64, 48))
    writer.release()
    for name in ("truncated.mp4", "zero.mp4"):
        with pytest.raises(MediaError) as error:
            open_media(tmp_path / name)
        one_sentence(error)


def test_truncated_avi_opens_with_the_frames_that_decode(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    write_video(path, frames=20, fourcc="MJPG")
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with open_media(cut) as source:
        assert 0 < source.info.frame_count < 20
        assert "claims 20 frames" in source.info.note
        last = source.read(source.info.frame_count - 1)
        assert last.shape == (64, 96, 3)


def test_closed_source_and_bad_index_raise(bikes: Path) -> None:
    source = open_media(bikes)
    with pytest.raises(MediaError, match="does not exist"):
        source.read(-1)
    source.close()
    with pytest.raises(MediaError, match="closed"):
        source.read(0)


# -- image folders --------------------------------------------------------------------------------
def write_png(path: Path, value: int, size: tuple[int, int] = (8, 6)) -> np.ndarray:
    image = np.full((size[1], size[0], 3), value, np.uint8)
    image[0, 0] = (value, 255 - value, 7)
    ok, encoded = cv2.imencode(path.suffix, image)
    assert ok
    encoded.tofile(str(path))
    return image


def test_natural_sort_key_orders_numbers_by_value() -> None:
    names = ["img10.png", "img2.png", "img1.png", "IMG3.png", "frame_0100.jpg", "frame_99.jpg"]
    assert sorted(names, key=natural_sort_key) == [
        "frame_99.jpg", "frame_0100.jpg", "img1.png", "img2.png", "IMG3.png", "img10.png"
    ]


def test_image_folder_natural_order_ignores_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "séquence 1"
    folder.mkdir()
    expected = {name: write_png(folder / name, value) for name, value in
                [("img10.png", 30), ("img2.png", 20), ("img1.png", 10)]}
    (folder / "notes.txt").write_text("not a frame")
    (folder / ".hidden.png").write_bytes(b"junk")
    (folder / "sub").mkdir()
    with open_media(folder) as source:
        assert isinstance(source, ImageFolderSource)
        assert [p.name for p in source.files] == ["img1.png", "img2.png", "img10.png"]
        assert (source.info.kind, source.info.frame_count, source.info.width, source.info.height) == ("images", 3, 8, 6)
        assert np.array_equal(source.read(2), expected["img10.png"])
        assert np.array_equal(source.read(0), expected["img1.png"])


def test_otb_image_folder_matches_opencv(seqs_dir: Path) -> None:
    folder = seqs_dir / "Deer" / "img"
    with open_media(folder) as source:
        files = sorted(folder.glob("*.jpg"))
        assert source.info.frame_count == len(files)
        for index in (0, len(files) - 1, 17):
            assert np.array_equal(source.read(index), cv2.imread(str(files[index])))


def test_broken_image_raises_for_that_frame_only(tmp_path: Path) -> None:
    for i in range(1, 5):
        write_png(tmp_path / f"{i:04d}.png", i * 10)
    (tmp_path / "0003.png").write_bytes(b"\x89PNG broken")
    with open_media(tmp_path) as source:
        assert source.info.frame_count == 4
        with pytest.raises(MediaError) as error:
            source.read(2)
        assert "0003.png" in one_sentence(error)
        assert source.read(3)[1, 1, 0] == 40  # the frames around it still read


def test_broken_first_image_does_not_block_the_folder(tmp_path: Path) -> None:
    (tmp_path / "0001.jpg").write_bytes(b"")
    write_png(tmp_path / "0002.png", 50)
    with open_media(tmp_path) as source:
        assert (source.info.width, source.info.height) == (8, 6)
        with pytest.raises(MediaError, match="0001.jpg"):
            source.read(0)


def test_mixed_sizes_are_reported_clearly(tmp_path: Path) -> None:
    write_png(tmp_path / "a1.png", 10)
    write_png(tmp_path / "a2.png", 20, size=(10, 6))
    with open_media(tmp_path) as source:
        with pytest.raises(MediaError) as error:
            source.read(1)
        assert "10x6" in one_sentence(error) and "8x6" in str(error.value)


def test_folder_without_images_raises(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(MediaError, match="no image files"):
        open_media(tmp_path)


# -- fingerprints ---------------------------------------------------------------------------------
def test_fingerprint_notices_a_swapped_file_but_not_a_copy(bikes: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(bikes, copy)
    with open_media(bikes) as original, open_media(copy) as copied:
        ref = original.to_media_ref()
        assert copied.info.fingerprint == original.info.fingerprint
    with open_media_ref(MediaRef(str(copy), "video", 250, 640, 272, 25.0, ref.fingerprint)) as reopened:
        assert reopened.info.frame_count == 250
    write_video(copy, frames=5)
    with pytest.raises(MediaError, match="has changed"):
        open_media_ref(MediaRef(str(copy), "video", 250, 640, 272, 25.0, ref.fingerprint))


def test_folder_fingerprint_changes_when_a_frame_changes(tmp_path: Path) -> None:
    for i in range(3):
        write_png(tmp_path / f"{i}.png", i)
    before = open_media(tmp_path).info.fingerprint
    write_png(tmp_path / "2.png", 99, size=(8, 7))
    assert open_media(tmp_path).info.fingerprint != before


# -- long-video mode: indexed from container packets instead of a full decode ---------------------
def test_packet_index_matches_the_decoded_index_and_stays_exact(bikes: Path, bikes_reference: list[str]) -> None:
    decoded = VideoSource(bikes, index="decode")
    with VideoSource(bikes, index="packets") as source:
        assert (source.index_source, decoded.index_source) == ("packets", "decode")
        assert source.info == decoded.info
        assert source.keyframes == decoded.keyframes and source.keyframes[0] == 0 and len(source.keyframes) > 1
        for index in (249, 0, 131, 130, 10, 200, 201, 202):
            assert digest(source.read(index)) == bikes_reference[index], f"frame {index}"
    decoded.close()


def test_forward_jumps_inside_a_gop_step_instead_of_seeking(bikes: Path, bikes_reference: list[str]) -> None:
    with VideoSource(bikes) as source:
        keys = source.keyframes
        assert keys is not None and keys[1] - keys[0] > 20
        source.read(keys[0])
        target = keys[1] - 1  # more than FORWARD_STEP_LIMIT ahead, same GOP
        assert digest(source.read(target)) == bikes_reference[target]
        assert source.seeks == 0
        target = keys[2] + 1  # a keyframe lies between: seeking is cheaper
        assert digest(source.read(target)) == bikes_reference[target]
        assert source.seeks == 1


def test_packet_mode_on_a_damaged_video_still_names_the_damaged_frame(bikes: Path, tmp_path: Path,
                                                             bikes_reference: list[str]) -> None:
    data = bytearray(bikes.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 5000] = bytes(5000)
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    broken = VideoSource(damaged, index="decode").damaged_frames
    with VideoSource(damaged, index="packets") as source:
        # the probes may catch the damage (falling back to a full decode) or the read does
        assert source.info.frame_count == 250
        with pytest.raises(MediaError, match=f"Frame {broken[0]} of damaged.mp4"):
            source.read(broken[0])
        assert digest(source.read(220)) == bikes_reference[220]


def test_variable_rate_gaps_are_not_mistaken_for_damage() -> None:
    from core.media.frame_index import FrameIndex

    vfr = [0.0, 40.0, 80.0, 200.0, 240.0, 280.0, 400.0]
    assert FrameIndex.build(vfr, "decode").damaged == ()
    assert FrameIndex.build(vfr, "decode", infer_gaps=True).damaged == (3, 4, 8, 9)
    index = FrameIndex.build(vfr, "decode")
    assert [index.slot_of(t) for t in (0.0, 200.0, 400.0, 100.0)] == [0, 3, 6, None]


def test_reopening_reuses_the_index_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    write_video(path, frames=12)
    first = open_media(path)
    again = open_media(path)
    assert again.info == first.info and again.info.frame_count == 12
    write_video(path, frames=5)
    changed = open_media(path)
    assert changed.info.frame_count == 5 and changed.info.fingerprint != first.info.fingerprint
    assert sequential_digests(path)[4] == digest(changed.read(4))
    for source in (first, again, changed):
        source.close()
