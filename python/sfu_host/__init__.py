"""Control library for the sfu-worker media worker, in asyncio.

The object model is that of the mediasoup 3.8 Node host: a
:class:`Worker` process owns :class:`Router` objects, which own transports
(:class:`WebRtcTransport`, :class:`PlainTransport`, :class:`PipeTransport`,
:class:`DirectTransport`) and RTP observers; transports own producers,
consumers, data producers and data consumers. Closing an entity closes
what it owns.

    import asyncio
    from sfu_host import create_worker

    async def main() -> None:
        async with await create_worker(log_level="warn") as worker:
            router = await worker.create_router(media_codecs=[
                {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2}])
            transport = await router.create_webrtc_transport(listen_ips=["127.0.0.1"])
            print(transport.ice_parameters)

    asyncio.run(main())
"""

from __future__ import annotations

import logging

from .active_speaker_observer import ActiveSpeakerObserver
from .audio_level_observer import AudioLevelObserver
from .consumer import Consumer
from .data_consumer import DataConsumer
from .data_producer import DataProducer
from .direct_transport import DirectTransport
from .errors import (InvalidStateError, RequestError, RequestTimeoutError, RequestTypeError,
                     SfuError, UnsupportedError, WorkerDiedError)
from .events import EventEmitter, EventStream
from .pipe_transport import PipeTransport
from .plain_transport import PlainTransport
from .producer import Producer
from .router import PipeToRouterResult, Router
from .rtp_observer import RtpObserver
from .scalability_modes import ScalabilityMode, parse_scalability_mode
from .supported_rtp_capabilities import get_supported_rtp_capabilities
from .transport import Transport
from .webrtc_transport import WebRtcTransport
from .worker import (MEDIASOUP_VERSION, Worker, close_all_workers, create_worker,
                     default_worker_bin, observer)

# A library does not print: logs go wherever the application sends them.
logging.getLogger("sfu_host").addHandler(logging.NullHandler())

__version__ = "0.1.0"

#: Version of the mediasoup protocol spoken with the worker.
version = MEDIASOUP_VERSION

__all__ = [
    "ActiveSpeakerObserver", "AudioLevelObserver", "Consumer", "DataConsumer", "DataProducer",
    "DirectTransport", "EventEmitter", "EventStream", "InvalidStateError", "MEDIASOUP_VERSION",
    "PipeToRouterResult", "PipeTransport", "PlainTransport", "Producer", "RequestError",
    "RequestTimeoutError", "RequestTypeError", "Router", "RtpObserver", "ScalabilityMode",
    "SfuError", "Transport", "UnsupportedError", "WebRtcTransport", "Worker", "WorkerDiedError",
    "close_all_workers", "create_worker", "default_worker_bin", "get_supported_rtp_capabilities",
    "observer", "parse_scalability_mode", "version",
]
