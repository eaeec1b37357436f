"""Text parsing shared by every dataset format: rows of numbers, label columns, INI files.

Every parser takes the text and the name of the file it came from and raises
``FormatError`` with one sentence naming the file and line; nothing else escapes, so
a malformed file is always a user-facing message (fuzzed in the tests).
Numbers are written so that reading them back gives the same float bit for bit:
0-based values with ``repr``, 1-based values by exact decimal arithmetic
(``x + 1`` done on the shortest decimal of x, not on the binary float).
"""
from __future__ import annotations

import configparser
import decimal
import math
import re
from pathlib import Path

import numpy as np

from ..errors import FormatError

_SEPARATORS = re.compile(r"[,\s;]+")
_EXACT = decimal.Context(prec=1000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def is_finite_number(value: object) -> bool:
    """A JSON number that fits a float (json gives huge ints and Infinity too; bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def read_text(path: Path) -> str:
    """The file as text; unreadable or non-UTF-8 files become one FormatError sentence."""
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found.") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not a UTF-8 text file.") from None
    except OSError as error:
        raise FormatError(f"{path}: cannot be read ({error.strerror}).") from None


def content_lines(text: str) -> list[str]:
    """Lines of a row file; trailing blank lines are ignored, blank lines inside are kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def split_row(line: str) -> list[str]:
    """Tokens of one row separated by commas, tabs, spaces or semicolons (OTB uses all of them)."""
    stripped = line.strip().strip(",;")
    return [t for t in _SEPARATORS.split(stripped) if t] if stripped else []


def parse_float(token: str, where: str, *, one_based: bool = False) -> float:
    """One number (NaN allowed, infinity not); 1-based values are shifted exactly to 0-based.

    float() is already correctly rounded; only a 1-based value that is not a whole number
    needs decimal arithmetic, so that (x + 1) written by format_one_based reads back as x.
    """
    try:
        value = float(token)
    except (ValueError, TypeError):
        raise FormatError(f"{where}: '{token[:20]}' is not a number.") from None
    if math.isnan(value):
        return math.nan
    if math.isinf(value):
        raise FormatError(f"{where}: '{token[:20]}' is not a finite number.")
    if not one_based:
        return value
    digits = token.strip().lstrip("+-")
    if digits.isascii() and digits.isdigit():  # the common case: whole pixels
        return float(int(token) - 1)
    shifted = float(_EXACT.subtract(decimal.Decimal(token.strip().replace("_", "")), decimal.Decimal(1)))
    if not math.isfinite(shifted):
        raise FormatError(f"{where}: '{token[:20]}' is too large.")
    return shifted


def parse_int(token: str, where: str) -> int:
    """An integer field; '3.0' is accepted (some tools write floats), '3.5' is not."""
    number = parse_float(token, where)
    if math.isnan(number) or number != int(number):
        raise FormatError(f"{where}: '{token[:20]}' is not a whole number.")
    return int(number)


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float; whole numbers without '.0'."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def format_one_based(value: float) -> str:
    """value + 1 computed on its shortest decimal, so ``parse_float(..., one_based=True)`` is exact."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    shifted = _EXACT.add(decimal.Decimal(repr(value)), decimal.Decimal(1))
    if shifted == shifted.to_integral_value() and abs(shifted) < 10**16:
        return str(int(shifted))
    text = format(shifted, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_box_rows(text: str, source: str, *, one_based: bool = False, columns: int = 4) -> np.ndarray:
    """Rows of x, y, w, h as float64 Nx4 0-based; NaN rows where the box is absent.

    An all-NaN row or a row with zero width or height means "no box" (GOT-10k and LaSOT
    write 0,0,0,0 for absent frames); a negative size is an error.
    """
    rows = []
    for number, line in enumerate(content_lines(text), start=1):
        where = f"{source} line {number}"
        tokens = split_row(line)
        if len(tokens) != columns:
            raise FormatError(f"{where}: expected {columns} numbers (x,y,w,h), found {len(tokens)}.")
        w = parse_float(tokens[2], where)
        h = parse_float(tokens[3], where)
        if w < 0 or h < 0:
            raise FormatError(f"{where}: box width and height must not be negative.")
        if math.isnan(w) or math.isnan(h) or w == 0 or h == 0:
            rows.append([math.nan] * 4)
            continue
        x = parse_float(tokens[0], where, one_based=one_based)
        y = parse_float(tokens[1], where, one_based=one_based)
        if math.isnan(x) or math.isnan(y):
            rows.append([math.nan] * 4)
            continue
        rows.append([x, y, w, h])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def format_box_row(box: tuple[float, float, float, float] | None, *, one_based: bool = False) -> str:
    """One x,y,w,h line; None (absent) is written 0,0,0,0 as GOT-10k and LaSOT do."""
    if box is None:
        return "0,0,0,0"
    x, y, w, h = box
    shift = format_one_based if one_based else format_number
    return ",".join([shift(x), shift(y), format_number(w), format_number(h)])


def parse_label_column(text: str, source: str, *, low: int, high: int, one_line: bool = False) -> np.ndarray:
    """Integer labels one per line (GOT-10k .label) or on one comma line (LaSOT .txt)."""
    lines = content_lines(text)
    if one_line:
        if len(lines) > 1:
            raise FormatError(f"{source}: expected one comma-separated line, found {len(lines)} lines.")
        tokens = split_row(lines[0]) if lines else []
        places = [f"{source} value {i}" for i in range(1, len(tokens) + 1)]
    else:
        tokens = []
        places = []
        for number, line in enumerate(lines, start=1):
            row = split_row(line)
            if len(row) != 1:
                raise FormatError(f"{source} line {number}: expected one number, found {len(row)}.")
            tokens.append(row[0])
            places.append(f"{source} line {number}")
    values = []
    for token, where in zip(tokens, places):
        value = parse_int(token, where)
        if not low <= value <= high:
            raise FormatError(f"{where}: {value} is outside {low}-{high}.")
        values.append(value)
    return np.asarray(values, dtype=np.int64)


class _CaseKeepingParser(configparser.ConfigParser):
    """Keeps key case (imWidth, seqLength): ConfigParser lower-cases keys by default."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def parse_ini(text: str, source: str, section: str) -> dict[str, str]:
    """`key: value` lines under [section] (GOT-10k meta_info.ini, MOT seqinfo.ini)."""
    parser = _CaseKeepingParser(interpolation=None, delimiters=(":", "="), strict=False)
    try:
        parser.read_string(text, source=source)
    except configparser.Error as error:
        line = getattr(error, "lineno", None)
        place = f"{source} line {line}" if line else source
        raise FormatError(f"{place}: not a valid INI file.") from None
    if not parser.has_section(section):
        raise FormatError(f"{source}: missing the [{section}] section.")
    return {key: value.strip() for key, value in parser.items(section)}


def format_ini(section: str, values: dict[str, str], separator: str = ": ") -> str:
    """An INI file with one section; values are single-line (newlines become spaces)."""
    lines = [f"[{section}]"]
    for key, value in values.items():
        clean = " ".join(str(value).split())
        lines.append(f"{key}{separator}{clean}")
    return "\n".join(lines) + "\n"
