import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402

# The CI machine has two cores; keep torch from oversubscribing them.
torch.set_num_threads(1)
