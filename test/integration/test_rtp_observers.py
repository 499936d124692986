"""RTP observers end to end: three audio producers on PlainTransports, an
AudioLevelObserver and an ActiveSpeakerObserver watching them.

ffmpeg's RTP muxer writes no ssrc-audio-level extension, and the worker never
decodes Opus, so the senders here are Python sockets: each packet carries
filler bytes as its payload and, in its RFC 6464 extension, the level of a
20 ms frame of real samples (48 kHz): a sine tone at a set RMS level, white
room noise, or digital silence. The level is the frame's RMS relative to
full scale, in -dBov, as a sender measures it.

The scenario, one phase after the other:
  steady   all three hold a tone (-10, -20, -30 dBov): volumes in that
           order; nobody speaks (a steady tone is taken for the room);
  a, b, c  one producer talks (syllables of tone of irregular lengths with
           pauses down to its room noise), the others send their room noise only: volumes
           loudest first, and the talker becomes the dominant speaker
           within MAX_SWITCH_SECONDS of starting;
  quiet    digital silence from all: a single `silence`.
Each `volumes` notification whose interval lies within one phase is checked
against the levels sent during that interval: same order, each within
MAX_VOLUME_ERROR_DB.

The host side is the project's control library (python/sfu_host, through
library_util), as an application would drive the worker.

Run: test/integration/run_tests.py -v test_rtp_observers
Environment: SFU_TEST_VERBOSE=1 prints the notifications.
"""

import asyncio
import math
import os
import random
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from library_util import library_worker, run_async  # noqa: E402
import media_util as mu  # noqa: E402

ALO_ID = "audio-levels"
ASO_ID = "active-speaker"
SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
LEVEL_EXTENSION_ID = 1
PAYLOAD_TYPE = 100
ALO_INTERVAL_MS = 1000
ALO_THRESHOLD = -75
ASO_INTERVAL_MS = 300
MAX_VOLUME_ERROR_DB = 3
MAX_SWITCH_SECONDS = 2.0

# name, tone frequency, tone level when it talks, room noise (dBov).
SPEAKERS = (("a", 440.0, -10, -60), ("b", 550.0, -20, -52), ("c", 660.0, -30, -66))
# name, seconds, who talks ("steady": every tone held, "quiet": silence).
PHASES = (("steady", 2.5, None), ("a", 3.0, "a"), ("b", 3.0, "b"), ("c", 3.0, "c"),
          ("quiet", 2.5, None))


def verbose():
    return bool(os.environ.get("SFU_TEST_VERBOSE"))


def frame_level(samples):
    """RFC 6464 level of a frame of samples in [-1, 1]: -dBov, 0..127."""
    power = sum(s * s for s in samples) / len(samples)
    if power <= 0:
        return 127
    dbov = 10 * math.log10(power)
    return max(0, min(127, int(round(-dbov))))


class Signal:
    """Sample generator for one speaker: a phase-continuous tone and noise."""

    def __init__(self, frequency, seed):
        self.frequency = frequency
        self.phase = 0.0
        self.rng = random.Random(seed)

    def frame(self, tone_dbov, noise_dbov):
        """One frame: a tone of RMS tone_dbov (None: none) plus white noise of
        RMS noise_dbov (None: none)."""
        amplitude = math.sqrt(2) * 10 ** (tone_dbov / 20) if tone_dbov is not None else 0.0
        sigma = 10 ** (noise_dbov / 20) if noise_dbov is not None else 0.0
        step = 2 * math.pi * self.frequency / SAMPLE_RATE
        out = []
        for i in range(FRAME_SAMPLES):
            value = amplitude * math.sin(self.phase + i * step)
            if sigma:
                value += self.rng.gauss(0.0, sigma)
            out.append(max(-1.0, min(1.0, value)))
        self.phase = (self.phase + FRAME_SAMPLES * step) % (2 * math.pi)
        return out


def syllables(frames, rng):
    """Which frames of a talk are voiced: syllables of 120 to 280 ms with
    pauses of 20 to 80 ms, of irregular lengths as in speech (a fixed
    rhythm could beat with the observer's decision interval)."""
    voiced = []
    while len(voiced) < frames:
        voiced += [True] * rng.randint(6, 14) + [False] * rng.randint(1, 4)
    # Begins with a pause, as a talk does.
    return ([False] + voiced)[:frames]


def build_levels():
    """Per phase, per speaker, the level of every frame, computed from the
    samples each sender would encode."""
    signals = {name: Signal(freq, seed) for seed, (name, freq, _, _) in enumerate(SPEAKERS)}
    rhythm = random.Random(7)
    plan = []
    for phase, seconds, talker in PHASES:
        frames = int(round(seconds / FRAME_SECONDS))
        voiced = syllables(frames, rhythm)
        per_speaker = {}
        for name, _, tone, noise in SPEAKERS:
            levels = []
            for f in range(frames):
                if phase == "steady":
                    samples = signals[name].frame(tone, None)
                elif phase == "quiet":
                    samples = [0.0] * FRAME_SAMPLES
                elif name == talker and voiced[f]:
                    samples = signals[name].frame(tone, noise)
                else:
                    samples = signals[name].frame(None, noise)
                levels.append(frame_level(samples))
            per_speaker[name] = levels
        plan.append((phase, frames, per_speaker))
    return plan


def rtp_packet(seq, timestamp, ssrc, level, voice):
    """RTP with a one-byte-form extension block holding the audio level."""
    header = struct.pack("!BBHII", 0x90, PAYLOAD_TYPE, seq & 0xFFFF, timestamp & 0xFFFFFFFF,
                         ssrc)
    extension = struct.pack("!HHBBH", 0xBEDE, 1, LEVEL_EXTENSION_ID << 4,
                            (0x80 if voice else 0) | level, 0)
    # The worker does not decode Opus: a TOC byte and filler do.
    return header + extension + b"\xfc" + bytes(59)


OPUS = {"mimeType": "audio/opus", "clockRate": 48000, "channels": 2}
# Longest the whole scenario may take, set-up to tear-down.
SCENARIO_TIMEOUT = 60


class RtpObserversTest(unittest.TestCase):

    def test_volumes_silence_and_dominant_speaker(self):
        run_async(self.scenario(), SCENARIO_TIMEOUT)

    async def scenario(self):
        plan = build_levels()
        async with library_worker(log_level="warn") as worker:
            router = await worker.create_router(media_codecs=[dict(OPUS, kind="audio")])
            # Every notification, stamped as it arrives: (time, observer,
            # event, data), data with the producers by name.
            seen = []
            names = {}

            def stamp(observer_id, event, data=None):
                seen.append((time.monotonic(), observer_id, event, data))

            alo = await router.create_audio_level_observer(
                max_entries=3, threshold=ALO_THRESHOLD, interval=ALO_INTERVAL_MS)
            alo.on("volumes", lambda volumes: stamp(ALO_ID, "volumes", [
                {"producerId": names[v["producer"].id], "volume": v["volume"]}
                for v in volumes]))
            alo.on("silence", lambda: stamp(ALO_ID, "silence"))
            aso = await router.create_active_speaker_observer(interval=ASO_INTERVAL_MS)
            aso.on("dominantspeaker", lambda speaker: stamp(
                ASO_ID, "dominantspeaker", {"producerId": names[speaker["producer"].id]}))

            senders = {}
            try:
                for index, (name, _, _, _) in enumerate(SPEAKERS):
                    transport = await router.create_plain_transport(
                        listen_ip=mu.LOCAL_IP, rtcp_mux=True, comedia=True)
                    ssrc = 1000 + index
                    producer = await transport.produce(kind="audio", rtp_parameters={
                        "codecs": [dict(OPUS, payloadType=PAYLOAD_TYPE)],
                        "headerExtensions": [{
                            "uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                            "id": LEVEL_EXTENSION_ID}],
                        "encodings": [{"ssrc": ssrc}]})
                    names[producer.id] = name
                    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    senders[name] = (sock, (mu.LOCAL_IP, transport.tuple["localPort"]), ssrc)
                    await alo.add_producer(producer_id=producer.id)
                    await aso.add_producer(producer_id=producer.id)
                sent, phase_starts = await self.send(plan, senders)
                # The last interval of each observer.
                await asyncio.sleep(ALO_INTERVAL_MS / 1000 + 0.2)
            finally:
                for sock, _, _ in senders.values():
                    sock.close()

        if verbose():
            start = phase_starts[0][1]
            for when, target, event, data in seen:
                print("%6.2f %s %s %s" % (when - start, target, event, data))
        self._check_volumes(seen, sent, phase_starts)
        self._check_silence(seen, phase_starts)
        self._check_dominant(seen, phase_starts)

    async def send(self, plan, senders):
        """Sends the plan's frames in real time; returns what each speaker
        sent, {name: [(time, level)]}, and when each phase began."""
        sent = {name: [] for name, _, _, _ in SPEAKERS}
        phase_starts = []
        seq = 0
        start = time.monotonic()
        frame_index = 0
        for phase, frames, per_speaker in plan:
            phase_starts.append((phase, start + frame_index * FRAME_SECONDS))
            for f in range(frames):
                due = start + frame_index * FRAME_SECONDS
                delay = due - time.monotonic()
                # Yields to the loop either way: notifications are stamped
                # while the frames go out.
                await asyncio.sleep(max(0.0, delay))
                now = time.monotonic()
                for name, (sock, address, ssrc) in senders.items():
                    level = per_speaker[name][f]
                    sock.sendto(rtp_packet(seq, seq * FRAME_SAMPLES, ssrc, level, level < 50),
                                address)
                    sent[name].append((now, level))
                seq += 1
                frame_index += 1
        phase_starts.append(("end", time.monotonic()))
        return sent, phase_starts

    def _phase_at(self, phase_starts, begin, end):
        """The phase that holds [begin, end] whole, or None."""
        for (phase, start), (_, next_start) in zip(phase_starts, phase_starts[1:]):
            if start <= begin and end <= next_start:
                return phase
        return None

    def _check_volumes(self, seen, sent, phase_starts):
        interval = ALO_INTERVAL_MS / 1000
        checked = {}
        for when, target, event, data in seen:
            if target != ALO_ID or event != "volumes":
                continue
            # The notification is stamped up to a frame late; the window
            # must leave room for that on both sides.
            begin, end = when - interval - 0.06, when
            phase = self._phase_at(phase_starts, begin - 0.05, end)
            if phase is None:
                continue
            expected = {}
            for name, levels in sent.items():
                window = [level for t, level in levels if begin + 0.06 <= t <= end - 0.03]
                expected[name] = -sum(window) / len(window)
            order = sorted(expected, key=lambda name: -expected[name])
            order = [name for name in order if expected[name] >= ALO_THRESHOLD]
            got = [entry["producerId"] for entry in data]
            self.assertEqual(got, order, "phase %s: %s, expected %s" % (phase, data, expected))
            for entry in data:
                self.assertLessEqual(abs(entry["volume"] - expected[entry["producerId"]]),
                                     MAX_VOLUME_ERROR_DB,
                                     "phase %s: %s, expected %s" % (phase, data, expected))
            checked[phase] = checked.get(phase, 0) + 1
        for phase, seconds, _ in PHASES:
            if phase != "quiet":
                self.assertGreaterEqual(checked.get(phase, 0), 1,
                                        "no volumes checked within phase %s (%s)"
                                        % (phase, checked))
        # The steady phase: the tones' own levels, loudest first.
        steady = [data for when, target, event, data in seen
                  if target == ALO_ID and event == "volumes" and
                  self._phase_at(phase_starts, when - interval - 0.11, when) == "steady"]
        for data in steady:
            self.assertEqual([(e["producerId"]) for e in data], ["a", "b", "c"])
            for entry, (_, _, tone, _) in zip(data, SPEAKERS):
                self.assertLessEqual(abs(entry["volume"] - tone), MAX_VOLUME_ERROR_DB, data)

    def _check_silence(self, seen, phase_starts):
        quiet_start = dict(phase_starts)["quiet"]
        silences = [when for when, target, event, _ in seen
                    if target == ALO_ID and event == "silence"]
        self.assertEqual(len(silences), 1, "one silence, when all went quiet: %s" % silences)
        self.assertGreaterEqual(silences[0], quiet_start)
        self.assertLessEqual(silences[0] - quiet_start, 2 * ALO_INTERVAL_MS / 1000 + 0.2)
        later = [when for when, target, event, _ in seen
                 if target == ALO_ID and event == "volumes" and when > silences[0]]
        self.assertEqual(later, [], "no volumes after the silence")

    def _check_dominant(self, seen, phase_starts):
        changes = [(when, data["producerId"]) for when, target, event, data in seen
                   if target == ASO_ID and event == "dominantspeaker"]
        self.assertEqual([name for _, name in changes], ["a", "b", "c"],
                         "the dominant speaker follows the talker: %s" % changes)
        starts = dict(phase_starts)
        for when, name in changes:
            delay = when - starts[name]
            self.assertGreaterEqual(delay, 0, "%s named before it talked" % name)
            self.assertLessEqual(delay, MAX_SWITCH_SECONDS,
                                 "%s named %.2f s after it began to talk" % (name, delay))


if __name__ == "__main__":
    unittest.main()
