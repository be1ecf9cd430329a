"""Peer systems measured next to headroom: name -> factory taking a scratch folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..systems import System

PEERS: dict[str, Callable[[Path], System]] = {}
