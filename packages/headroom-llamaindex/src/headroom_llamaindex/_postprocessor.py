"""Query-aware compression of retrieved nodes, as a LlamaIndex node postprocessor."""

from __future__ import annotations

import logging

from llama_index.core.bridge.pydantic import Field
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, Node, NodeWithScore, QueryBundle, TextNode

from headroom_core import CCRStore, HeadroomConfig, compress

from ._events import emit

log = logging.getLogger("headroom")


class HeadroomNodePostprocessor(BaseNodePostprocessor):
    """Compress each retrieved text node for the query; ids, metadata and scores stay.

    Returns new ``NodeWithScore`` objects holding copies of the nodes, so the index's own
    nodes are never changed. Only the node's text is compressed (its metadata is rendered
    by the node's templates as before). Nodes headroom cannot shrink pass through as they
    are; compressed ones carry markers whose ref ``headroom_retrieve`` resolves.
    """

    config: HeadroomConfig | None = Field(default=None, exclude=True)
    store: CCRStore | None = Field(default=None, exclude=True)

    @classmethod
    def class_name(cls) -> str:
        return "HeadroomNodePostprocessor"

    def _postprocess_nodes(
        self,
        nodes: list[NodeWithScore],
        query_bundle: QueryBundle | None = None,
    ) -> list[NodeWithScore]:
        query = query_bundle.query_str if query_bundle is not None else None
        return [self._compress_node(n, query) for n in nodes]

    def _compress_node(self, item: NodeWithScore, query: str | None) -> NodeWithScore:
        node = item.node
        if not isinstance(node, (TextNode, Node)):
            return item
        try:
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            result = compress(text, query=query, config=self.config, store=self.store)
            emit(result, source="node", name=node.node_id)
            if result.ref is None:
                return item
            copy = node.model_copy(update={"metadata": dict(node.metadata)})
            copy.set_content(result.text)
        except Exception:  # fail open: the node as retrieved
            log.exception("headroom: compressing node %s failed; passed through", node.node_id)
            return item
        return NodeWithScore(node=copy, score=item.score)
