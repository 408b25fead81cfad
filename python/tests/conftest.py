"""Shared fixtures of the tokamax_c tests (run by .ci/run's Python stage:
`python -m pytest python/tests` in a venv where `pip install ./python` put
the package)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
