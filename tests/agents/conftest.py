"""Fixtures for the OpenAI Agents SDK adapter: tracing off (it would export over HTTP)."""

from __future__ import annotations

import pytest
from agents import set_tracing_disabled


@pytest.fixture(autouse=True, scope="session")
def _no_tracing() -> None:
    set_tracing_disabled(True)
