"""Active speaker observers."""

from __future__ import annotations

from typing import Any

from .rtp_observer import RtpObserver, logger


class ActiveSpeakerObserver(RtpObserver):
    """Reports the dominant speaker among audio producers.

    Events (also on the observer): ``dominantspeaker``
    (``{"producer": Producer or None}``).
    """

    def _on_notification(self, event: str, data: Any) -> None:
        if event == "dominantspeaker":
            speaker = {"producer": self._router.get_producer(str((data or {}).get("producerId")))}
            self.safe_emit("dominantspeaker", speaker)
            self._observer.safe_emit("dominantspeaker", speaker)
        else:
            logger.error("ignoring unknown event %r", event)
