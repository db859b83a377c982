"""Reading CSV text into a :class:`Table` of strings, and a quick head for previews.

Kept apart from the encoding in ``csv_data`` so a UI preview can read a file
without loading it as a dataset.  Errors name the file and the line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nnstudio.data.base import DatasetError

if TYPE_CHECKING:
    import _csv

MISSING_MARKS = frozenset({"", "na", "n/a", "nan", "null", "?"})


@dataclass
class Table:
    """A parsed CSV file: header, rows of strings and the file line of each row."""

    name: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def column(self, index: int) -> list[str]:
        return [row[index].strip() for row in self.rows]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheet exports are often Windows-1252; latin-1 reads any byte and keeps
        # the digits and separators intact, which is what matters here.
        return raw.decode("latin-1")


def _guess_delimiter(first_line: str) -> str:
    # The header line decides: whichever usual separator it contains most.
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _header(names: list[str], file: str) -> list[str]:
    # A blank header cell still needs a name to refer to in messages and features.
    header = [name.strip() or f"column {i + 1}" for i, name in enumerate(names)]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DatasetError(f"{file}: the header names column '{name}' twice")
        seen.add(name)
    return header


def _first_row(reader: _csv._reader, file: str) -> list[str]:
    # Blank lines above the header are tolerated; the first non-blank row is the header.
    for row in reader:
        if any(cell.strip() for cell in row):
            return _header(row, file)
    raise DatasetError(f"{file} is empty")


def _reader(text: str) -> _csv._reader:
    lines = text[:4096].splitlines()
    delimiter = _guess_delimiter(next((line for line in lines if line.strip()), ""))
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def read_table(path: str | Path, raw: bytes | None = None) -> Table:
    """Parse the CSV file at ``path`` (or its already-read bytes ``raw``).

    Blank lines are skipped; a row with the wrong number of fields, an empty file or
    a header with no rows raises DatasetError naming the file and line.
    """
    path = Path(path)
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise DatasetError(f"{path}: cannot read the file ({error.strerror})") from None
    text = _decode(raw)
    if not text.strip():
        raise DatasetError(f"{path.name} is empty")
    reader = _reader(text)
    try:
        table = Table(path.name, _first_row(reader, path.name))
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(table.header):
                raise DatasetError(
                    f"{path.name} line {reader.line_num}: expected {len(table.header)} "
                    f"fields like the header, found {len(row)}"
                )
            table.rows.append(row)
            table.lines.append(reader.line_num)
    except csv.Error as error:
        raise DatasetError(f"{path.name} line {reader.line_num}: {error}") from None
    if not table.rows:
        raise DatasetError(f"{path.name} has a header but no data rows")
    return table


def csv_head(path: str | Path, n: int = 5) -> tuple[list[str], list[list[str]]]:
    """The header and the first ``n`` data rows of a CSV file, as strings, for a preview."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(1 << 20)  # a preview never needs more than the first MiB
            if handle.read(1):
                # cut at the last full line so no character is split in two
                raw = raw[: raw.rfind(b"\n") + 1] or raw
    except OSError as error:
        raise DatasetError(f"{path}: cannot read the file ({error.strerror})") from None
    text = _decode(raw)
    if not text.strip():
        raise DatasetError(f"{path.name} is empty")
    reader = _reader(text)
    try:
        header = _first_row(reader, path.name)
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) >= n:
                break
            if any(cell.strip() for cell in row):
                rows.append(row)
    except csv.Error as error:
        raise DatasetError(f"{path.name} line {reader.line_num}: {error}") from None
    return header, rows


def is_missing(value: str) -> bool:
    """True for the usual marks of a missing value: '', NA, N/A, NaN, null, ?."""
    return value.strip().lower() in MISSING_MARKS
