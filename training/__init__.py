"""Training of the shipped models (`make train`).

Reproducible across machines: OpenBLAS (numpy's and scipy's, built with DYNAMIC_ARCH) picks its
kernels by the CPU it finds, and the optimiser of the passage model amplifies the last-bit
differences of another kernel into weights 1e-3 apart (seen on an AMD EPYC whose AVX-512 chose
the SkylakeX kernels: another sha256 than the shipped model). On x86_64 the Haswell kernels
(AVX2, on every x86_64 server of the last ten years) are pinned before numpy loads, unless
OPENBLAS_CORETYPE is already set; the shipped models were trained with them. Importing this
package after numpy has loaded is too late: tests/conftest.py imports it first.
"""
from __future__ import annotations

import os
import platform
import sys

BLAS_CORETYPE = "Haswell"

if platform.machine().lower() in ("x86_64", "amd64") and "numpy" not in sys.modules:
    os.environ.setdefault("OPENBLAS_CORETYPE", BLAS_CORETYPE)
