"""Fetching data files over HTTP(S), checked by sha256 and written atomically.

A file is streamed into a temporary file next to its destination while its sha256
is computed; only when the whole file has arrived and matches is it renamed into
place (``os.replace``, atomic on one file system).  A failed, mismatched or
cancelled download leaves nothing behind: never a half-written file under the
final name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from nnstudio.data.base import DatasetError
from nnstudio.data.registry import ProgressCallback, ProgressReporter

CHUNK_SIZE = 1 << 16


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's contents, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _check_name(name: str) -> None:
    # Names come from code, but a path separator would write outside the folder.
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise DatasetError(f"download: '{name}' is not a plain file name")


def _fetch(
    url: str,
    target: Path,
    digest: str,
    report: ProgressReporter,
    timeout: float,
    chunk_size: int,
) -> None:
    temporary: Path | None = None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            handle, name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".part"
            )
            temporary = Path(name)
            hasher, done = hashlib.sha256(), 0
            with os.fdopen(handle, "wb") as out:
                report(0, total, f"downloading {target.name}")
                while chunk := response.read(chunk_size):
                    out.write(chunk)
                    hasher.update(chunk)
                    done += len(chunk)
                    report(done, total, f"downloading {target.name}")
                out.flush()
                os.fsync(out.fileno())
        if total and done != total:
            raise DatasetError(f"{url}: connection closed after {done} of {total} bytes")
        if hasher.hexdigest() != digest:
            raise DatasetError(
                f"{url}: checksum mismatch (expected sha256 {digest}, got "
                f"{hasher.hexdigest()}); the download was discarded"
            )
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a data file need not be
        os.replace(temporary, target)
        temporary = None
    except urllib.error.HTTPError as error:
        raise DatasetError(f"{url}: HTTP error {error.code} ({error.reason})") from None
    except urllib.error.URLError as error:
        raise DatasetError(f"{url}: cannot connect ({error.reason})") from None
    except (OSError, http.client.HTTPException) as error:
        raise DatasetError(f"{url}: download failed ({error})") from None
    finally:
        # Reached on failure, mismatch and cancellation alike: leave no partial file.
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def download_idx(
    dest_folder: str | Path,
    base_url: str,
    files: Mapping[str, str],
    progress: ProgressCallback | None = None,
    *,
    timeout: float = 30.0,
    chunk_size: int = CHUNK_SIZE,
) -> list[Path]:
    """Download each ``files`` name from ``base_url`` into ``dest_folder``.

    ``files`` maps a file name to its expected sha256 (hex).  A file already there
    with the right checksum is kept without downloading.  ``progress(done_bytes,
    total_bytes, message)`` is called per chunk (total is 0 when the server does not
    say); returning False cancels with DatasetCancelled.  Any network error or
    checksum mismatch raises DatasetError.  Returns the paths of the files, in order.
    """
    scheme = urllib.parse.urlsplit(base_url).scheme
    if scheme not in ("http", "https"):
        raise DatasetError(
            f"download: the address must start with http:// or https://, got '{base_url}'"
        )
    folder = Path(dest_folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(f"{folder}: cannot create the folder ({error.strerror})") from None
    report = ProgressReporter(progress)
    paths = []
    for name, digest in files.items():
        _check_name(name)
        target = folder / name
        if target.is_file() and sha256_file(target) == digest.lower():
            paths.append(target)
            continue
        url = base_url.rstrip("/") + "/" + urllib.parse.quote(name)
        _fetch(url, target, digest.lower(), report, timeout, chunk_size)
        paths.append(target)
    return paths
