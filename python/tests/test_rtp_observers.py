"""RTP observers' events from real RTP: PlainTransport producers send
packets with RFC 6464 audio levels, an AudioLevelObserver reports
"volumes" (loudest first) and then "silence", an ActiveSpeakerObserver
names the one that talks. test/integration/test_rtp_observers.py checks
the levels and timings closely; this is the library's side of it."""

from __future__ import annotations

import asyncio
import random
from typing import Any, Dict, List, Tuple

from sfu_host import Producer, Router

from conftest import needs_worker
from rtp_sender import AUDIO_LEVEL_EXTENSION, OPUS_CODEC, RtpSender

pytestmark = needs_worker


async def level_producers(router: Router, count: int) -> List[Tuple[Producer, RtpSender, int]]:
    out = []
    for index in range(count):
        transport = await router.create_plain_transport(listen_ip="127.0.0.1", comedia=True)
        ssrc = 5000 + index
        producer = await transport.produce(kind="audio", rtp_parameters={
            "codecs": [OPUS_CODEC], "headerExtensions": [AUDIO_LEVEL_EXTENSION],
            "encodings": [{"ssrc": ssrc}]})
        out.append((producer, RtpSender(transport), ssrc))
    return out


async def test_audio_level_observer_volumes_and_silence(router: Router) -> None:
    observer = await router.create_audio_level_observer(max_entries=2, threshold=-70,
                                                        interval=300)
    senders = await level_producers(router, 3)
    loud, soft, quiet = senders
    for producer, _, _ in senders:
        await observer.add_producer(producer_id=producer.id)
    volumes: List[List[Dict[str, Any]]] = []
    observer.on("volumes", volumes.append)
    silences: List[bool] = []
    observer.on("silence", lambda: silences.append(True))
    try:
        # -20, -40 and -90 dBov (below the threshold): two entries, the
        # loudest first.
        for _ in range(40):
            for (_, sender, ssrc), level in zip(senders, (20, 40, 90)):
                sender.send_opus(ssrc, level=level)
            await asyncio.sleep(0.02)
            if len(volumes) >= 2:
                break
        assert len(volumes) >= 2, volumes
        for entries in volumes[1:]:
            assert [e["producer"] for e in entries] == [loud[0], soft[0]]
            assert [e["volume"] for e in entries] == [-20, -40]
        assert silences == []
        # Nobody sends: one "silence", no more volumes.
        count = len(volumes)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if silences:
                break
        await asyncio.sleep(0.7)
        assert silences == [True] and len(volumes) <= count + 1
    finally:
        for _, sender, _ in senders:
            sender.close()


async def test_active_speaker_observer_dominant_speaker(router: Router) -> None:
    observer = await router.create_active_speaker_observer(interval=100)
    senders = await level_producers(router, 2)
    for producer, _, _ in senders:
        await observer.add_producer(producer_id=producer.id)
    speakers: List[Producer] = []
    observer.on("dominantspeaker", lambda speaker: speakers.append(speaker["producer"]))
    rng = random.Random(1)
    try:
        for talker in (0, 1):
            # The talker speaks in syllables (loud frames with short pauses),
            # the other one sends its room noise.
            voiced: List[bool] = []
            while len(voiced) < 200:
                voiced += [True] * rng.randint(6, 14) + [False] * rng.randint(1, 4)
            for frame in range(200):
                for index, (_, sender, ssrc) in enumerate(senders):
                    talking = index == talker and voiced[frame]
                    sender.send_opus(ssrc, level=10 if talking else 60 + rng.randint(0, 4))
                await asyncio.sleep(0.02)
                if speakers and speakers[-1] is senders[talker][0]:
                    break
            assert speakers and speakers[-1] is senders[talker][0], (talker, speakers)
    finally:
        for _, sender, _ in senders:
            sender.close()
    assert speakers == [senders[0][0], senders[1][0]]
