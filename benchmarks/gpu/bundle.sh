#!/usr/bin/env bash
# Build .gpu/ (git-ignored): what a GPU machine without PySide6 needs to run the CUDA
# checks (run.sh).  From the repository root, with .venv set up by .ci/run:
#     benchmarks/gpu/bundle.sh
# then, on the device: bash benchmarks/gpu/run.sh  (carrying .gpu).  About 35 MB.
#
# PySide6's modules are abi3 builds, so this machine's (Python 3.11) run under the GPU
# image's Python 3.12; only Core, Gui, Widgets, OpenGL, Test and the offscreen platform
# travel, compressed.  The system libraries Qt links are copied too; run.sh uses only
# those the machine lacks.  Wheels for pure-Python packages come from pip (Python 3.12).
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx "/.gpu/" .git/info/exclude 2>/dev/null || echo "/.gpu/" >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu/wheels .gpu/syslib
site=$(.venv/bin/python -c "import PySide6, os; print(os.path.dirname(os.path.dirname(PySide6.__file__)))")
P=PySide6
(cd "$site" && tar cf - --exclude=__pycache__ shiboken6 $P/__init__.py $P/_config.py \
    $P/_git_pyside_version.py $P/py.typed $P/support \
    $P/QtCore.abi3.so $P/QtGui.abi3.so $P/QtWidgets.abi3.so $P/QtTest.abi3.so \
    $P/QtOpenGL.abi3.so $P/QtOpenGLWidgets.abi3.so $P/libpyside6.abi3.so.* \
    $P/Qt/lib/libQt6Core.so.6 $P/Qt/lib/libQt6Gui.so.6 $P/Qt/lib/libQt6Widgets.so.6 \
    $P/Qt/lib/libQt6DBus.so.6 $P/Qt/lib/libQt6Test.so.6 $P/Qt/lib/libQt6OpenGL.so.6 \
    $P/Qt/lib/libQt6OpenGLWidgets.so.6 $P/Qt/lib/libicu*.so.* \
    $P/Qt/plugins/platforms/libqoffscreen.so) | xz -T0 -6 > .gpu/qt.tar.xz
for lib in $(ldd "$site"/$P/QtWidgets.abi3.so "$site"/$P/QtOpenGL.abi3.so \
        "$site"/$P/Qt/plugins/platforms/libqoffscreen.so | awk '/=> \/(usr\/)?lib/ {print $1 "|" $3}' | sort -u); do
    name=${lib%%|*}
    case $name in libc.so*|libm.so*|libstdc++*|libgcc_s*|libpthread*|libdl*|librt*) continue ;; esac
    cp -L "${lib##*|}" ".gpu/syslib/$name"
done
versions=$(.venv/bin/python -m pip list --format=freeze | grep -iE '^(psygnal|superqt|pyqtgraph|pytest-qt)==')
.venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .gpu/wheels $versions
du -sh .gpu
