"""Write an export where nobody sees it, then move it into place in one go.

An exporter that is stopped half-way (a Cancel pressed, an error, a crash) must leave
nothing half-written beside the person's files.  :class:`Staging` gives the exporter a
path inside a hidden temporary folder next to the destination (same file system, so the
final move is a rename): ``export_torchscript(project, staging.target)`` writes there,
sidecar files (``model.pt`` beside ``model.py``, ``train.data.pt``) land beside it, and
only :meth:`Staging.commit` moves them into the destination folder.  Leaving the
``with`` block without committing removes the temporary folder and everything in it.

No Qt here: the window's Export dialog and tests use it the same way.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

PARTIAL = ".partial"


class ExportCancelled(Exception):
    """The person stopped the export; nothing was written."""


class Staging:
    """A hidden folder beside ``out`` to export into; :meth:`commit` publishes it.

    ``out`` is the file (or, for a bundle, the folder) the person chose.  Its folder must
    exist.  An existing file is replaced on commit; an existing folder only when empty.
    """

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        if not self.out.parent.is_dir():
            raise FileNotFoundError(errno.ENOENT, "no such folder", str(self.out.parent))
        self.folder = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=PARTIAL,
                                            dir=self.out.parent))
        self.committed: list[Path] = []

    @property
    def target(self) -> Path:
        """Where the exporter writes: ``out``'s name inside the hidden folder."""
        return self.folder / self.out.name

    def commit(self) -> list[Path]:
        """Move what the exporter wrote into ``out``'s folder: sidecar files first, the
        chosen file or folder last; returns the paths written."""
        entries = sorted(self.folder.iterdir(), key=lambda p: (p.name == self.out.name, p.name))
        if not any(p.name == self.out.name for p in entries):
            raise FileNotFoundError(errno.ENOENT, "the exporter wrote nothing", str(self.out))
        for entry in entries:
            dest = self.out.parent / entry.name
            if entry.is_dir() and dest.is_dir():
                if any(dest.iterdir()):
                    raise OSError(errno.ENOTEMPTY, "the folder is not empty", str(dest))
                dest.rmdir()  # os.replace cannot put a folder over another one everywhere
            os.replace(entry, dest)
            self.committed.append(dest)
        self.discard()
        return list(self.committed)

    def discard(self) -> None:
        """Remove the hidden folder and whatever is still in it."""
        if self.folder.exists():
            shutil.rmtree(self.folder)

    def __enter__(self):  # -> Staging (typing.Self needs Python 3.11)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.discard()
