"""Fixtures the test modules share: the language-server modules each define their own `client` (a server
started with that module's options) and `session` wraps whichever one the module has; tiny-model modules
opt in to one torch thread."""

from __future__ import annotations

import pytest
import torch

from tests.test_server_support import Session, build_tiny_checkpoint


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def session(client) -> Session:
    return client.verifrag


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine threads cost 10x; modules opt
    in with `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
