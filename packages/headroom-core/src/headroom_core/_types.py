"""Result types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["json", "search", "log", "code", "diff", "text", "binary"]
KINDS: tuple[str, ...] = ("json", "search", "log", "code", "diff", "text", "binary")


@dataclass(frozen=True)
class Compression:
    """What ``compress`` returns.

    Attributes:
        text: what the model sees.
        kind: the content kind that was compressed (``json``, ``search``, ``log``, ``code``,
            ``diff``, ``text``, ``binary``).
        original_tokens / compressed_tokens: token counts of the input and of ``text``.
        ref: the CCR reference under which the original is stored, or ``None`` when the
            text is the original unchanged (nothing to retrieve).
        language: programming language for ``code`` (and search results), else ``None``.
        tokenizer: encoding used for the counts; ``tokens_exact`` is False when it is a
            stand-in or an estimate.
        notes: what happened, for logs and callbacks (e.g. ``"passthrough: below min_tokens"``).
    """

    text: str
    kind: str
    original_tokens: int
    compressed_tokens: int
    ref: str | None = None
    language: str | None = None
    tokenizer: str = "cl100k_base"
    tokens_exact: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def savings(self) -> float:
        """Share of tokens saved, 0..1."""
        if self.original_tokens <= 0:
            return 0.0
        return max(0.0, 1.0 - self.compressed_tokens / self.original_tokens)

    @property
    def saved_tokens(self) -> int:
        return max(0, self.original_tokens - self.compressed_tokens)

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "language": self.language,
            "original_tokens": self.original_tokens,
            "compressed_tokens": self.compressed_tokens,
            "savings": round(self.savings, 4),
            "ref": self.ref,
            "tokenizer": self.tokenizer,
            "tokens_exact": self.tokens_exact,
            "notes": list(self.notes),
            "text": self.text,
        }
