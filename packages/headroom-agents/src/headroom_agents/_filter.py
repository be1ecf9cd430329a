"""``call_model_input_filter``: compress tool outputs in the history the model is sent."""

from __future__ import annotations

import logging
from typing import Any

from agents.run_config import CallModelData, CallModelInputFilter, ModelInputData

from headroom_core import CCRStore, HeadroomConfig, compress_messages

from ._hooks import HeadroomRunHooks
from ._records import CallRecord

log = logging.getLogger("headroom.agents")


def make_input_filter(
    *,
    config: HeadroomConfig | None = None,
    store: CCRStore | None = None,
    hooks: HeadroomRunHooks | None = None,
) -> CallModelInputFilter:
    """A filter for ``RunConfig(call_model_input_filter=...)``.

    Before each model call it compresses the ``function_call_output`` items of the input
    (function, MCP and hosted tools alike) and leaves everything else as it is. The run's
    own items are not changed: ``result.to_input_list()`` and sessions keep full outputs,
    and each call's compression is byte-stable across turns, so prompt caches keep
    hitting. With a server-managed conversation (``previous_response_id`` or
    ``conversation_id``) items already sent live on the server and cannot be changed; only
    outputs sent for the first time are compressed.
    """

    def headroom_input_filter(data: CallModelData[Any]) -> ModelInputData:
        model_data = data.model_data
        try:
            result = compress_messages(list(model_data.input), config=config, store=store)
        except Exception:  # fail open: the model gets the uncompressed input
            log.exception("headroom: input filter failed; sending the input unchanged")
            return model_data
        if hooks is not None:
            for stat in result.stats:
                if stat.live and stat.action == "compressed":  # new this turn, counted once
                    hooks.record(
                        CallRecord(
                            tool=",".join(stat.tools),
                            call_id=None,
                            kind=None,
                            original_tokens=stat.original_tokens,
                            compressed_tokens=stat.compressed_tokens,
                            ref=stat.refs[0] if stat.refs else None,
                            seconds=None,
                        )
                    )
        return ModelInputData(input=list(result.messages), instructions=model_data.instructions)

    return headroom_input_filter


#: The filter with the default config and store.
headroom_input_filter: CallModelInputFilter = make_input_filter()
