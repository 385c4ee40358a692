import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _seed_and_defaults():
    """Every test starts from the same seed and the default dtype float32."""
    import ember
    ember.manual_seed(0)
    prev = ember.get_default_dtype()
    yield
    ember.set_default_dtype(prev)
