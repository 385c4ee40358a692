"""``ember.random``: seeding and generator state (as ``torch.random``)."""
from ._random import (Generator, default_generator, manual_seed, seed, initial_seed, get_rng_state,  # noqa: F401
                      set_rng_state)


class fork_rng:
    """Run a block and restore the default generator's state afterwards."""

    def __init__(self, devices=None, enabled: bool = True, **kwargs) -> None:
        self.enabled = enabled

    def __enter__(self) -> None:
        if self.enabled:
            self.state = get_rng_state()

    def __exit__(self, *exc) -> None:
        if self.enabled:
            set_rng_state(self.state)
