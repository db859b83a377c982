#!/bin/bash
# The CUDA checks on a GPU machine, from the repository root, with .gpu/ built by
# bundle.sh beside this file: tests/train/test_cuda.py, then the training overhead on
# CUDA at batch 128 and 1024.  Results go to $OUT (or ./gpu-out).

set -u
OUT=${OUT:-gpu-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 QT_QPA_PLATFORM=offscreen
mkdir -p /tmp/site /tmp/syslib
xz -dc .gpu/qt.tar.xz | tar xf - -C /tmp/site
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu/wheels/*.whl
for f in .gpu/syslib/*; do n=$(basename "$f"); ldconfig -p | grep -q " $n " || cp "$f" /tmp/syslib/; done
echo "carried system libraries used: $(ls /tmp/syslib | tr '\n' ' ')"
export PYTHONPATH=/tmp/site:$PWD LD_LIBRARY_PATH=/tmp/syslib
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
nproc
python3 -c "import torch, PySide6, pyqtgraph, sklearn; print('torch', torch.__version__, torch.cuda.is_available(), torch.cuda.get_device_name(0), 'PySide6', PySide6.__version__, 'pyqtgraph', pyqtgraph.__version__)"
timeout 240 python3 -m pytest -q -p no:cacheprovider tests/train/test_cuda.py tests/train/test_config.py 2>&1 | tee $OUT/pytest_cuda.txt | tail -30
timeout 150 python3 -m benchmarks.training_overhead --device cuda --repeats 7 --short-repeats 3 2>&1 | grep -v propagateSize | tee $OUT/overhead_cuda.txt
timeout 120 python3 -m benchmarks.training_overhead --device cuda --batch-size 1024 --samples 65536 --repeats 3 --short-repeats 0 2>&1 | grep -v propagateSize | tee $OUT/overhead_cuda_b1024.txt
