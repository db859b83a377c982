"""The real window, started as a person starts it, painted on a real X server (Xvfb)
when there is one, and photographed: the picture must exist, have the window's size,
and show something (not a blank rectangle).

The window runs in a subprocess so that it gets its own display and platform plugin.
Set ``NNSTUDIO_SCREENSHOT_DIR`` to keep the pictures (CI uploads them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
SIZE = (1440, 900)

SCRIPT = textwrap.dedent("""
    import json, os, sys
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtTest import QTest

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      os.environ["SHOT_SETTINGS"])
    from nnstudio.graph.templates import load_template
    from nnstudio.ui.app import create_application
    from nnstudio.ui.main_window import MainWindow
    from nnstudio.ui.session import ProjectSession

    app = create_application([sys.argv[0]])
    app.setOrganizationName("nnstudio-screenshot")
    out = os.environ["SHOT_OUT"]
    window = MainWindow(ProjectSession(load_template(os.environ["SHOT_TEMPLATE"])))
    window.resize(int(os.environ["SHOT_W"]), int(os.environ["SHOT_H"]))
    window.show()
    QTest.qWaitForWindowExposed(window, 5000)
    graph = window.session.current_graph
    window.canvas.select_ids([graph.find(os.environ["SHOT_SELECT"]).id])

    def shoot():
        app.processEvents()
        window.grab().save(os.path.join(out, "window.png"))
        page = window.show_start_page()
        QTest.qWait(300)
        page.grab().save(os.path.join(out, "start_page.png"))
        page.close()
        info = {"width": window.width(), "height": window.height(),
                "platform": app.platformName(),
                "dpr": window.devicePixelRatioF(), "title": window.windowTitle()}
        with open(os.path.join(out, "info.json"), "w") as f:
            json.dump(info, f)
        window.session.undo_stack.setClean()
        window.close()
        app.quit()

    QTimer.singleShot(700, shoot)  # let it paint (canvas, code highlighting, docks)
    sys.exit(app.exec())
""")


def _free_display() -> int:
    for n in range(91, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def _start_xvfb():
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1920x1200x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            return proc, f":{n}"
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    return None, None


def _run(out: Path, tmp: Path, platform: str, display: str | None):
    env = dict(os.environ)
    env.update(SHOT_OUT=str(out), SHOT_SETTINGS=str(tmp / "settings"), SHOT_TEMPLATE="lenet5",
               SHOT_SELECT="conv1", SHOT_W=str(SIZE[0]), SHOT_H=str(SIZE[1]),
               QT_QPA_PLATFORM=platform, XDG_CONFIG_HOME=str(tmp / "config"),
               XDG_RUNTIME_DIR=str(tmp / "runtime"))
    (tmp / "runtime").mkdir(mode=0o700, exist_ok=True)
    if display:
        env["DISPLAY"] = display
    script = tmp / "shoot.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                          check=False,
                          text=True, timeout=120)


def _offscreen_platform(tmp: Path) -> str:
    # the offscreen plugin's default screen is 800 × 800: give it one the window fits on
    cfg = tmp / "offscreen.json"
    cfg.write_text(json.dumps({"screens": [{"name": "shot", "x": 0, "y": 0, "width": 1920,
                                            "height": 1200, "logicalDpi": 96}]}))
    return f"offscreen:configfile={cfg}"


def _grey(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h)
    arr = arr.reshape(h, img.bytesPerLine() // 4, 4)[:, :w, :3].astype(np.float32)
    return arr.mean(axis=2)


def test_window_screenshot_is_painted(tmp_path, capsys):
    keep = os.environ.get("NNSTUDIO_SCREENSHOT_DIR")
    out = Path(keep) if keep else tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)

    how = "offscreen (Xvfb not installed)"
    result = None
    if shutil.which("Xvfb"):
        xvfb, display = _start_xvfb()
        if xvfb is not None:
            try:
                result = _run(out, tmp_path, "xcb", display)
            finally:
                xvfb.terminate()
                xvfb.wait(10)
            how = f"Xvfb {display} (xcb)"
            if result.returncode != 0 and "platform plugin" in result.stderr:
                how = "offscreen (the xcb plugin could not load: missing X libraries)"
                result = None
        else:
            how = "offscreen (Xvfb did not start)"
    if result is None:
        result = _run(out, tmp_path, _offscreen_platform(tmp_path), None)
    with capsys.disabled():
        print(f"\n[screenshot] painted under {how}; pictures in {out}")
    assert result.returncode == 0, result.stderr[-3000:]

    info = json.loads((out / "info.json").read_text())
    assert (info["width"], info["height"]) == SIZE
    assert info["title"].startswith("LeNet-5 for MNIST")
    png = out / "window.png"
    assert png.exists()
    img = QImage(str(png))
    dpr = info["dpr"]
    assert (img.width(), img.height()) == (round(SIZE[0] * dpr), round(SIZE[1] * dpr))
    grey = _grey(img)
    assert grey.std() > 10, "the window picture is (almost) one colour"
    # each part of the window has something drawn in it, not just the background
    h, w = grey.shape
    for name, part in {"palette": grey[:, : w // 7], "inspector": grey[:, -w // 5:],
                       "code": grey[int(h * 0.75):, w // 6: -w // 5]}.items():
        assert part.std() > 8, f"the {name} area looks blank"
    start = QImage(str(out / "start_page.png"))
    assert not start.isNull() and _grey(start).std() > 10

