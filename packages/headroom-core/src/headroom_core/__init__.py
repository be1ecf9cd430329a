"""headroom: context compression for AI agents.

Shrink tool outputs (JSON, search results, logs, code, diffs, prose) before they reach the
model, and keep every omitted byte retrievable by ref::

    from headroom_core import compress, retrieve

    c = compress(tool_output, query="why did the deploy fail?", tool="get_logs")
    c.text          # what the model sees, with [headroom: ...; ref=hr_...] markers
    retrieve(c.ref, query="OOMKilled")   # just the matching chunks of the original
"""

# first: decides, before any of them is imported, which compiled modules may be used
from . import _compiled  # noqa: F401
from ._api import compress, fetch_original, retrieve
from ._cache_aligner import AlignedPrefix, CacheAligner, PrefixReport, VolatilePart
from ._config import DEFAULT_TARGET_RATIOS, HeadroomConfig
from ._detect import Detection, detect_kind, guess_language
from ._exceptions import (
    CompressionError,
    ConfigError,
    DependencyError,
    HeadroomError,
    RefNotFoundError,
    StoreError,
)
from ._markers import MARKER_RE, REF_RE, Marker, find_markers, format_marker
from ._messages import MessagesCompression, MessageStats, compress_messages
from ._query import query_for_tool_result, query_from_arguments
from ._records import CompressionRecord, SavingsSummary, summarize
from ._search import search
from ._tokens import Tokenizer, count_tokens, get_tokenizer
from ._tool import (
    RETRIEVE_TOOL,
    RETRIEVE_TOOL_DESCRIPTION,
    RETRIEVE_TOOL_NAME,
    RETRIEVE_TOOL_PARAMETERS,
    ToolSpec,
    retrieve_from_arguments,
    retrieve_tool,
)
from ._types import Compression
from .store import CCRStore, SQLiteStore, StoredOriginal, get_default_store, open_store

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_TARGET_RATIOS",
    "MARKER_RE",
    "REF_RE",
    "RETRIEVE_TOOL",
    "RETRIEVE_TOOL_DESCRIPTION",
    "RETRIEVE_TOOL_NAME",
    "RETRIEVE_TOOL_PARAMETERS",
    "AlignedPrefix",
    "CCRStore",
    "CacheAligner",
    "Compression",
    "CompressionError",
    "CompressionRecord",
    "ConfigError",
    "DependencyError",
    "Detection",
    "HeadroomConfig",
    "HeadroomError",
    "Marker",
    "MessageStats",
    "MessagesCompression",
    "PrefixReport",
    "RefNotFoundError",
    "SQLiteStore",
    "SavingsSummary",
    "StoreError",
    "StoredOriginal",
    "Tokenizer",
    "ToolSpec",
    "VolatilePart",
    "__version__",
    "compress",
    "compress_messages",
    "count_tokens",
    "detect_kind",
    "fetch_original",
    "find_markers",
    "format_marker",
    "get_default_store",
    "get_tokenizer",
    "guess_language",
    "open_store",
    "query_for_tool_result",
    "query_from_arguments",
    "retrieve",
    "retrieve_from_arguments",
    "retrieve_tool",
    "search",
    "summarize",
]
