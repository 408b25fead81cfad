"""Skip marks for the backward ops, which libkernels may not have yet."""

import pytest

import tokamax_c
from tokamax_c._ops import NO_ATTENTION_BACKWARD, NO_MOE_UNPERMUTE_BACKWARD

needs_attention_backward = pytest.mark.skipif(
    not tokamax_c.HAVE_ATTENTION_BACKWARD, reason=NO_ATTENTION_BACKWARD)
needs_unpermute_backward = pytest.mark.skipif(
    not tokamax_c.HAVE_MOE_UNPERMUTE_BACKWARD, reason=NO_MOE_UNPERMUTE_BACKWARD)
