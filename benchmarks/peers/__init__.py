"""Peer systems measured next to headroom: name -> factory taking a scratch folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..systems import System
from .builtins import AgentsToolOutputTrimmer, LangChainClearToolUses
from .headroom_ai import HeadroomAI

PEERS: dict[str, Callable[[Path], System]] = {
    HeadroomAI.name: HeadroomAI,
    LangChainClearToolUses.name: LangChainClearToolUses,
    AgentsToolOutputTrimmer.name: AgentsToolOutputTrimmer,
}
