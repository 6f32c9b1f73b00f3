"""Fixtures the language-server test modules share; each module defines its own `client` (a server
started with that module's options), and `session` wraps whichever one the module has."""

from __future__ import annotations

import pytest

from tests.test_server_support import Session, build_tiny_checkpoint


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def session(client) -> Session:
    return client.verifrag
