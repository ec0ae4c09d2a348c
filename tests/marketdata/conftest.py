from __future__ import annotations

from typing import Any

import pytest

from .desk import Desk


@pytest.fixture
def desk(backend: Any) -> Desk:
    return Desk(backend.Book)
