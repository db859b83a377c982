"""Exports are written beside their destination in a hidden folder and moved into place
only when finished: a failed or cancelled export leaves nothing behind."""

from __future__ import annotations

import pytest

from nnstudio.export.python_source import export_python
from nnstudio.export.staging import PARTIAL, Staging
from nnstudio.graph.templates import load_template


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_finished_export_moves_the_file_and_its_sidecars_into_place(tmp_path):
    (tmp_path / "LeNet5.py").write_text("an older export")
    project = load_template("lenet5")
    from nnstudio.graph import compile_graph

    weights = compile_graph(project.graph()).state_dict()
    with Staging(tmp_path / "LeNet5.py") as staging:
        assert staging.folder.parent == tmp_path and staging.folder.name.endswith(PARTIAL)
        export_python(project, staging.target, weights=weights)
        assert names(tmp_path) == sorted([staging.folder.name, "LeNet5.py"])  # not in place yet
        assert (tmp_path / "LeNet5.py").read_text() == "an older export"
        written = staging.commit()
    assert [p.name for p in written] == ["LeNet5.pt", "LeNet5.py"]  # the chosen file last
    assert names(tmp_path) == ["LeNet5.pt", "LeNet5.py"]
    assert "class LeNet5(nn.Module)" in (tmp_path / "LeNet5.py").read_text()


def test_an_export_that_fails_half_way_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="stopped"), Staging(tmp_path / "model.onnx") as st:
        st.target.write_bytes(b"half an ONNX file")
        raise RuntimeError("stopped half-way")
    assert names(tmp_path) == []


def test_a_bundle_folder_goes_into_an_empty_folder_but_never_over_a_full_one(tmp_path):
    empty, full = tmp_path / "empty", tmp_path / "full"
    empty.mkdir()
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    for out in (empty, full):
        with Staging(out) as staging:
            staging.target.mkdir()
            (staging.target / "README.md").write_text("bundle")
            if out is full:
                with pytest.raises(OSError, match="not empty"):
                    staging.commit()
            else:
                staging.commit()
    assert names(empty) == ["README.md"]
    assert names(full) == ["keep.txt"]
    assert names(tmp_path) == ["empty", "full"]


def test_staging_needs_the_destination_folder_to_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        Staging(tmp_path / "missing" / "model.py")
