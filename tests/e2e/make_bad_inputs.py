#!/usr/bin/env python3
"""Writes the bad-input fixtures of pipeline.md's G5: one file per case, mixed into normal runs of each dataset kind.

Usage: make_bad_inputs.py OUT_DIR

The good images are the photographs of Debian's darknet package (/usr/share/darknet/data/*.jpg). Each run folder
gets an expected.json that check_bad_inputs.py compares a results file with: per item id, its status code, the
conversion flags it must carry, a piece of its message, and (where the dataset gives one) its target class.
  list/       a CSV run: every image case, a bad row, an unknown class, a zero-area box, a missing file
  voc/        a VOC-layout run: malformed XML, an unknown class, a missing XML
  coco/       a COCO run: an entry whose image is missing, zero-area and crowd boxes
  coco-malformed/  an annotation file that is not JSON (the run must stop before any work, exit code 1)
  imagenet/   an ImageNet-layout run with target = "label" (class indices from LOC_synset_mapping.txt)
"""
import io
import json
import shutil
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image

DARKNET = Path("/usr/share/darknet/data")

# Status codes and flag bits as in docs/results-schema.md.
OK, MISSING, UNREADABLE, TRUNCATED, TOO_LARGE, BAD_ANNOTATION = 0, 1, 2, 3, 4, 5
GRAYSCALE, ALPHA, DEPTH16, CMYK = 2, 4, 8, 16

# The demo model's classes (Fashion-MNIST), which the list and ImageNet runs name.
DEMO_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


def photo(name):
    return DARKNET / name


def expect(status, message="", flags=0, target=None):
    entry = {"status": status, "message": message, "flags": flags}
    if target is not None:
        entry["target"] = target
    return entry


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path, width, height, bit_depth, colour_type, rows):
    """A PNG from raw rows: Pillow cannot write 16-bit RGB, and header-only files need hand-made chunks."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    data = zlib.compress(b"".join(b"\x00" + row for row in rows))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", data) +
                     png_chunk(b"IEND", b""))


def write_image_cases(folder):
    """The image files of the list run, by case; returns {file name: expectation}."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "zero_bytes.jpg").write_bytes(b"")
    (folder / "not_an_image.jpg").write_text("this is a text file with a .jpg name\n")
    buffer = io.BytesIO()
    Image.open(photo("eagle.jpg")).save(buffer, "PNG")
    (folder / "png_named.JPEG").write_bytes(buffer.getvalue())
    dog = photo("dog.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(dog[: len(dog) // 2])
    Image.open(photo("person.jpg")).convert("CMYK").save(folder / "cmyk.jpg", quality=90)
    Image.open(photo("giraffe.jpg")).convert("L").save(folder / "grayscale.jpg", quality=90)
    Image.open(photo("horses.jpg")).convert("RGBA").save(folder / "rgba.png")
    scream = Image.open(photo("scream.jpg")).convert("RGB")
    rows = [b"".join(struct.pack(">HHH", *(257 * v for v in scream.getpixel((x, y)))) for x in range(scream.width))
            for y in range(scream.height)]
    write_png(folder / "deep16.png", scream.width, scream.height, 16, 2, rows)
    write_png(folder / "huge_header.png", 100000, 100000, 8, 2, [b"\x00\x00\x00"])  # claims 10^10 pixels
    shutil.copy(photo("kite.jpg"), folder / "over_limit.jpg")  # 1352 x 900, over the run's max_pixels of 10^6
    return {
        "missing.jpg": expect(MISSING, "file not found"),
        "zero_bytes.jpg": expect(UNREADABLE, "empty file"),
        "not_an_image.jpg": expect(UNREADABLE, "cannot decode"),
        "png_named.JPEG": expect(OK),
        "truncated.jpg": expect(TRUNCATED, "JPEG data ends early"),
        "cmyk.jpg": expect(OK, flags=CMYK),
        "grayscale.jpg": expect(OK, flags=GRAYSCALE),
        "rgba.png": expect(OK, flags=ALPHA),
        "deep16.png": expect(OK, flags=DEPTH16),
        "huge_header.png": expect(TOO_LARGE, "PNG header says 100000 x 100000"),
        "over_limit.jpg": expect(TOO_LARGE, "JPEG header says 1352 x 900 = 1216800 pixels, over the limit of 1000000"),
    }


def write_list_run(root):
    cases = write_image_cases(root / "bad")
    rows = ["path,label,x1,y1,x2,y2,class"]
    expected = {}
    for name, expectation in sorted(cases.items()):
        rows.append(f"bad/{name}")
        expected[f"bad/{name}"] = expectation
    for name in ["dog.jpg", "horses.jpg", "person.jpg"]:
        (root / "good").mkdir(exist_ok=True)
        shutil.copy(photo(name), root / "good" / name)
        rows.append(f"good/{name}")
        expected[f"good/{name}"] = expect(OK)
    for name in ["bad_row.jpg", "unknown_class.jpg", "zero_area.jpg"]:
        shutil.copy(photo("dog.jpg"), root / "bad" / name)
    rows.append("bad/bad_row.jpg,Coat,10,20,30")
    expected["bad/bad_row.jpg"] = expect(BAD_ANNOTATION, "got 4 fields after the path")
    rows.append("bad/unknown_class.jpg,unicorn")
    expected["bad/unknown_class.jpg"] = expect(BAD_ANNOTATION, "names class 'unicorn'")
    rows.append("bad/zero_area.jpg,Coat,10,20,10,90,Coat")  # x1 = x2: dropped, the item is fine
    expected["bad/zero_area.jpg"] = dict(expect(OK), box_count=0)
    (root / "list.csv").write_text("\n".join(rows) + "\n")
    return expected


def voc_xml(filename, width, height, objects):
    body = "".join(f"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{box[0]}</xmin>"
                   f"<ymin>{box[1]}</ymin><xmax>{box[2]}</xmax><ymax>{box[3]}</ymax></bndbox></object>"
                   for name, box in objects)
    return (f"<annotation><folder>VOC2007</folder><filename>{filename}</filename><size><width>{width}</width>"
            f"<height>{height}</height><depth>3</depth></size>{body}</annotation>")


def write_voc_run(root):
    for sub in ["JPEGImages", "Annotations", "ImageSets/Main"]:
        (root / sub).mkdir(parents=True, exist_ok=True)
    ids = {"dog": "dog.jpg", "horses": "horses.jpg", "malformed_xml": "person.jpg", "unknown_class": "eagle.jpg",
           "missing_xml": "giraffe.jpg"}
    for image_id, source in ids.items():
        shutil.copy(photo(source), root / "JPEGImages" / f"{image_id}.jpg")
    (root / "Annotations/dog.xml").write_text(voc_xml("dog.jpg", 768, 576, [("dog", (129, 223, 310, 541))]))
    (root / "Annotations/horses.xml").write_text(
        voc_xml("horses.jpg", 773, 512, [("horse", (1, 190, 202, 380)), ("horse", (409, 207, 650, 378))]))
    (root / "Annotations/malformed_xml.xml").write_text("<annotation><size><width>640</width></size>")
    (root / "Annotations/unknown_class.xml").write_text(voc_xml("unknown_class.jpg", 773, 512,
                                                                [("unicorn", (1, 1, 100, 100))]))
    (root / "ImageSets/Main/test.txt").write_text("\n".join(ids) + "\n")
    return {
        "JPEGImages/dog.jpg": expect(OK),
        "JPEGImages/horses.jpg": expect(OK),
        "JPEGImages/malformed_xml.jpg": expect(BAD_ANNOTATION, "malformed XML"),
        "JPEGImages/unknown_class.jpg": expect(BAD_ANNOTATION, "names class 'unicorn'"),
        "JPEGImages/missing_xml.jpg": expect(BAD_ANNOTATION, "file is missing"),
    }


def write_coco_run(root):
    (root / "val2014").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    names = {1: "dog.jpg", 2: "horses.jpg", 3: "missing.jpg"}
    for image_id, source in names.items():
        if source != "missing.jpg":
            shutil.copy(photo(source), root / "val2014" / f"COCO_val2014_{image_id:012d}.jpg")
    instances = {
        "info": {"description": "pixab bad-input fixture"},
        "images": [{"id": i, "file_name": f"COCO_val2014_{i:012d}.jpg", "width": 640, "height": 480} for i in names],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 18, "bbox": [128, 222, 182, 319], "iscrowd": 0,
             "segmentation": [[128, 222, 310, 222, 310, 541]]},
            {"id": 11, "image_id": 1, "category_id": 18, "bbox": [50, 60, 0, 25], "iscrowd": 0},  # zero area
            {"id": 12, "image_id": 2, "category_id": 19, "bbox": [0, 190, 650, 190], "iscrowd": 1,
             "segmentation": {"counts": [0, 10], "size": [512, 773]}},
            {"id": 13, "image_id": 3, "category_id": 18, "bbox": [1, 2, 3, 4], "iscrowd": 0},
        ],
        "categories": [{"id": 18, "name": "dog", "supercategory": "animal"},
                       {"id": 19, "name": "horse", "supercategory": "animal"}],
    }
    (root / "annotations/instances_val2014.json").write_text(json.dumps(instances))
    return {
        "val2014/COCO_val2014_000000000001.jpg": expect(OK),
        "val2014/COCO_val2014_000000000002.jpg": expect(OK),
        "val2014/COCO_val2014_000000000003.jpg": expect(MISSING, "file not found"),
    }


def write_coco_malformed(root):
    (root / "val2014").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    shutil.copy(photo("dog.jpg"), root / "val2014/COCO_val2014_000000000001.jpg")
    (root / "annotations/instances_val2014.json").write_text(
        '{"images": [{"id": 1, "file_name": "COCO_val2014_000000000001.jpg"}], "annotations": [')


def write_imagenet_run(root):
    """Synsets n00000000 .. n00000009 stand for the demo model's ten classes, in its class order."""
    (root / "val").mkdir(parents=True, exist_ok=True)
    (root / "bbox/val").mkdir(parents=True, exist_ok=True)
    (root / "LOC_synset_mapping.txt").write_text(
        "".join(f"n{k:08d} {label}\n" for k, label in enumerate(DEMO_LABELS)))
    expected = {}
    for number, (source, synset_index) in enumerate([("dog.jpg", 4), ("horses.jpg", 8), ("person.jpg", 6)], 1):
        stem = f"ILSVRC2012_val_{number:08d}"
        shutil.copy(photo(source), root / "val" / f"{stem}.JPEG")
        width, height = Image.open(photo(source)).size
        (root / "bbox/val" / f"{stem}.xml").write_text(
            voc_xml(stem, width, height, [(f"n{synset_index:08d}", (1, 1, width, height))]))
        expected[f"val/{stem}.JPEG"] = dict(expect(OK, target=synset_index), box_count=1)
    return expected


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    if not DARKNET.is_dir():
        sys.exit(f"{DARKNET} is missing: install Debian's darknet package (scripts/packages.txt)")
    out = Path(sys.argv[1])
    shutil.rmtree(out, ignore_errors=True)
    for name, writer in [("list", write_list_run), ("voc", write_voc_run), ("coco", write_coco_run),
                         ("imagenet", write_imagenet_run)]:
        expected = writer(out / name)
        (out / name / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    write_coco_malformed(out / "coco-malformed")
    print(f"wrote the bad-input fixtures to {out}")


if __name__ == "__main__":
    main()
