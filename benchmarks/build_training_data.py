"""Rebuild the extra training folder of siamcross-lite from clones of public repositories.

    python -m benchmarks.build_training_data --clones DIR [--out ~/.cache/siamcross/train_data]

DIR holds one git clone per repository below, as ``DIR/<owner>+<name>/repo`` (what the
project's fetch tool leaves), ``DIR/<owner>/<name>``, ``DIR/<owner>+<name>`` or
``DIR/<name>``; bare or not. Each source is read at its fixed commit (``git archive``),
so the folder is the same on every machine, and nothing of it enters this repository.
Where the data came from, with licences: ../shared/data/TRAIN_SOURCES.md and the model card.

Output (read by ``siamcross train`` through core.datasets):
- ``images/<set>/images/*`` + ``images/<set>/annotations/instances.json``: the YOLO-labelled
  detection sets as COCO boxes (static pairs, and hard negatives from the other objects of
  the same image). Letterboxed images lose their black borders first, so no pair is cut
  from padding.
- ``videos/<name>/img/*.jpg`` + ``groundtruth_rect.txt`` (OTB layout, 1-based x,y,w,h): the
  two labelled clips; DAVIS masks become their boxes (the mask's extent).
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_OUT = Path("~/.cache/siamcross/train_data").expanduser()
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass(frozen=True)
class Source:
    """One labelled set at a fixed commit of a public repository."""

    repo: str  # owner/name
    commit: str
    path: str  # inside the repository
    name: str  # folder name in the output
    kind: str  # "yolo" | "otb" | "davis"
    letterboxed: bool = False


SOURCES = (
    Source("ahsanirfan961/Person-Tracker", "b2c8d712ea278a02b14d2552747056f6a82ac918",
           "Capston2-11", "capston2-people", "yolo"),
    Source("adeirman46/Level2-FSD", "2c9d3acc6cc290d7d126859544241d339f4763b2",
           "yolov9_custom_object_detection/Highway-Object-Detection-40", "highway-road-users", "yolo",
           letterboxed=True),
    Source("yuskun/object_detected", "aa099629e3c774c7c77fd9404f39f355be164941",
           "datasets/car", "atl-dense-traffic", "yolo"),
    Source("yuskun/object_detected", "aa099629e3c774c7c77fd9404f39f355be164941",
           "datasets/Vehicles", "vehicles", "yolo"),
    Source("vision4robotics/ReCF-Tracker", "1e793a29ba15f1a0768b2599705a1c9e1b2c6626",
           "sequences/Surfing06", "Surfing06", "otb"),
    Source("AartisharmaPro/VOS", "e96dbf9da0e74786787cdca0949158f827c1524d",
           "DAVIS", "camel", "davis"),
)


def find_clone(clones: Path, repo: str) -> Path:
    owner, name = repo.split("/")
    for candidate in (clones / f"{owner}+{name}" / "repo", clones / owner / name, clones / f"{owner}+{name}",
                      clones / name):
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"no clone of {repo} under {clones} (expected {owner}+{name}/repo, {owner}/{name} or {name}).")


def extract(clone: Path, commit: str, paths: list[str], into: Path) -> None:
    """The given paths of the repository at ``commit``, written under ``into``."""
    archive = subprocess.run(["git", "-C", str(clone), "archive", "--format=tar", commit, *paths],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def content_box(image: np.ndarray, threshold: int = 8) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the part of a letterboxed image that is not black border."""
    bright = image.max(axis=2) > threshold
    rows, cols = np.flatnonzero(bright.any(axis=1)), np.flatnonzero(bright.any(axis=0))
    if len(rows) == 0 or len(cols) == 0:
        return 0, 0, image.shape[1], image.shape[0]
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def yolo_boxes(label_file: Path, width: int, height: int) -> list[list[float]]:
    """0-based pixel x, y, w, h of every ``cls cx cy w h`` (normalised) line."""
    boxes: list[list[float]] = []
    if not label_file.is_file():
        return boxes
    for line in label_file.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) < 5:
            continue
        try:
            cx, cy, w, h = (float(v) for v in parts[1:5])
        except ValueError:
            continue
        boxes.append([(cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height])
    return boxes


def build_yolo(source: Source, root: Path, out: Path) -> tuple[int, int]:
    """COCO folder of one YOLO set (every split: the model never evaluates on these)."""
    images_out = out / "images"
    images_out.mkdir(parents=True, exist_ok=True)
    coco: dict = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "object"}]}
    for image_path in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and
                             p.parent.name == "images"):
        image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        height, width = image.shape[:2]
        boxes = yolo_boxes(image_path.parent.parent / "labels" / f"{image_path.stem}.txt", width, height)
        x0 = y0 = 0
        if source.letterboxed:
            x0, y0, x1, y1 = content_box(image)
            image = image[y0:y1, x0:x1]
        kept = []
        for x, y, w, h in boxes:
            x1b, y1b = min(max(x - x0, 0.0), image.shape[1]), min(max(y - y0, 0.0), image.shape[0])
            x2b, y2b = min(max(x + w - x0, 0.0), image.shape[1]), min(max(y + h - y0, 0.0), image.shape[0])
            if x2b - x1b >= 2 and y2b - y1b >= 2:
                kept.append([x1b, y1b, x2b - x1b, y2b - y1b])
        if not kept:
            continue
        image_id = len(coco["images"]) + 1
        file_name = f"{image_path.parent.parent.name}-{image_path.name}"
        if source.letterboxed:
            cv2.imwrite(str(images_out / file_name), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        else:
            shutil.copyfile(image_path, images_out / file_name)
        coco["images"].append({"id": image_id, "file_name": file_name, "width": int(image.shape[1]),
                               "height": int(image.shape[0])})
        for box in kept:
            coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": 1,
                                        "bbox": [round(v, 2) for v in box], "area": round(box[2] * box[3], 2),
                                        "iscrowd": 0})
    (out / "annotations").mkdir(parents=True, exist_ok=True)
    (out / "annotations" / "instances.json").write_text(json.dumps(coco), encoding="utf-8")
    return len(coco["images"]), len(coco["annotations"])


def build_otb(root: Path, out: Path) -> tuple[int, int]:
    """Copy an OTB sequence, renaming its frames to 0001.jpg... (the layout's own names)."""
    frames = sorted(p for p in (root / "img").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    (out / "img").mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames, start=1):
        shutil.copyfile(frame, out / "img" / f"{index:04d}{frame.suffix.lower()}")
    shutil.copyfile(root / "groundtruth_rect.txt", out / "groundtruth_rect.txt")
    return len(frames), len(frames)


def build_davis(root: Path, name: str, out: Path) -> tuple[int, int]:
    """A DAVIS sequence as OTB: each mask's extent becomes the frame's box (0,0,0,0 = absent)."""
    frames = sorted((root / "JPEGImages" / "480p" / name).glob("*.jpg"))
    masks = sorted((root / "Annotations" / "480p" / name).glob("*.png"))
    if len(frames) != len(masks):
        raise SystemExit(f"DAVIS {name}: {len(frames)} frames but {len(masks)} masks")
    (out / "img").mkdir(parents=True, exist_ok=True)
    rows = []
    for index, (frame, mask_path) in enumerate(zip(frames, masks), start=1):
        shutil.copyfile(frame, out / "img" / f"{index:04d}.jpg")
        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise SystemExit(f"DAVIS {name}: cannot read {mask_path}")
        ys, xs = np.nonzero(mask > 0)
        if len(xs) == 0:
            rows.append("0,0,0,0")
            continue
        x, y, w, h = xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
        rows.append(f"{x + 1},{y + 1},{w},{h}")
    (out / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(frames), len(rows)


def build(clones: Path, out: Path) -> None:
    scratch = out / ".extract"
    for source in SOURCES:
        clone = find_clone(clones, source.repo)
        shutil.rmtree(scratch, ignore_errors=True)
        paths = ([f"{source.path}/JPEGImages/480p/{source.name}", f"{source.path}/Annotations/480p/{source.name}"]
                 if source.kind == "davis" else [source.path])
        extract(clone, source.commit, paths, scratch)
        root = scratch / source.path
        if source.kind == "yolo":
            target = out / "images" / source.name
            shutil.rmtree(target, ignore_errors=True)
            count = build_yolo(source, root, target)
            what = "images, boxes"
        else:
            target = out / "videos" / source.name
            shutil.rmtree(target, ignore_errors=True)
            count = build_otb(root, target) if source.kind == "otb" else build_davis(root, source.name, target)
            what = "frames, boxes"
        print(f"{source.repo}@{source.commit[:10]} {source.path}: {count[0]} / {count[1]} {what} -> {target}",
              file=sys.stderr)
    shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=Path, required=True, help="folder of the repositories' clones")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"training folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    build(args.clones.expanduser(), args.out.expanduser())


if __name__ == "__main__":
    main()
