"""A document compressor for retrievers (``ContextualCompressionRetriever``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Annotated

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict, SkipValidation

from headroom_core import CCRStore, Compression, HeadroomConfig, compress

from ._compress import HEADROOM_KEY, Job, artifact_of, atraced, traced

_TOOL = "retriever"


class HeadroomDocumentCompressor(BaseDocumentCompressor):
    """Compress each retrieved document for the query; omitted parts stay retrievable.

    Each document keeps its id and metadata; ``metadata["headroom"]`` gets the ref and
    token counts when something was left out (give the model ``HeadroomRetrieveTool`` so
    it can get it back). ``metadata["source"]``, when a path, helps detect code. Documents
    below ``config.min_tokens`` pass through; none is dropped.
    """

    config: Annotated[HeadroomConfig | None, SkipValidation()] = None
    store: Annotated[CCRStore | None, SkipValidation()] = None

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def _one(self, doc: Document, query: str) -> tuple[Document, Compression]:
        source = doc.metadata.get("source")
        result = compress(
            doc.page_content,
            query=query or None,
            tool=_TOOL,
            path=source if isinstance(source, str) else None,
            config=self.config,
            store=self.store,
        )
        if result.ref is None:
            return doc, result
        metadata = {**doc.metadata, HEADROOM_KEY: artifact_of(result)}
        return Document(page_content=result.text, metadata=metadata, id=doc.id), result

    def _job(self, doc: Document, query: str) -> Job[Document]:
        return Job(partial(self._one, doc, query), doc, _TOOL, doc.id)

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        config: RunnableConfig = {"callbacks": callbacks}
        return [traced(self._job(d, query), config) for d in documents]

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        config: RunnableConfig = {"callbacks": callbacks}
        return [await atraced(self._job(d, query), config) for d in documents]
