"""Audio level observers."""

from __future__ import annotations

from typing import Any, Dict, List

from .rtp_observer import RtpObserver, logger


class AudioLevelObserver(RtpObserver):
    """Reports the loudest audio producers periodically.

    Events (also on the observer): ``volumes`` (a list of
    ``{"producer": Producer, "volume": dBov}``, loudest first), ``silence``.
    """

    def _on_notification(self, event: str, data: Any) -> None:
        if event == "volumes":
            volumes: List[Dict[str, Any]] = []
            for entry in data or []:
                producer = self._router.get_producer(str(entry.get("producerId")))
                if producer is not None:
                    volumes.append({"producer": producer, "volume": entry.get("volume")})
            if volumes:
                self.safe_emit("volumes", volumes)
                self._observer.safe_emit("volumes", volumes)
        elif event == "silence":
            self.safe_emit("silence")
            self._observer.safe_emit("silence")
        else:
            logger.error("ignoring unknown event %r", event)
