"""Freed tensors stay in the process while training: no page-fault churn on a worker
thread (glibc; elsewhere the tuning does nothing)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nnstudio.train import allocator

glibc = pytest.mark.skipif(allocator._glibc() is None, reason="glibc's malloc only")

_WORKER = """
import resource, sys, threading
import torch
from nnstudio.train.allocator import keep_freed_memory
torch.set_num_threads(1)
if sys.argv[1] == "tuned":
    assert keep_freed_memory()
out = {}
def work():  # what the trainer's thread does: an MLP trained with Adam
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters())
    x, y = torch.randn(4096, 784), torch.randint(0, 10, (4096,))
    def steps(n):
        for i in range(n):
            idx = torch.randint(0, 4096, (128,))
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    steps(20)  # warm
    before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    steps(400)
    out["faults"] = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before
t = threading.Thread(target=work)
t.start()
t.join()
print(out["faults"])
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _WORKER, mode], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


@glibc
def test_a_worker_thread_stops_faulting_its_tensors_in_again():
    default, tuned = _faults("default"), _faults("tuned")
    assert default > 2000  # pages given back at each step and faulted in again
    assert tuned < default / 10


@glibc
def test_the_tuning_is_done_once_and_memory_can_be_given_back():
    assert allocator.keep_freed_memory() is True
    assert allocator.keep_freed_memory() is True
    allocator.give_back_memory()  # malloc_trim: returns nothing, must not fail
