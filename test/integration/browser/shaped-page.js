// The pages of the shaped-link scenario (shaped.js): one page sends the fake
// camera (VP8 simulcast or VP9 SVC), another, in a browser whose downlink is
// shaped, receives it. Bundled by esbuild into an IIFE; the runner calls the
// window.shaped* functions and reads what they return.
import { Device } from 'mediasoup-client';

const status = document.getElementById('status');
const state = { device: null, transport: null, producer: null, consumer: null, samples: [] };

async function api(method, body = {}) {
  const res = await fetch(`/api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${json.error}`);
  return json;
}

async function createTransport(direction) {
  state.device = new Device();
  await state.device.load({ routerRtpCapabilities: await api('getRouterRtpCapabilities') });
  const params = await api('createWebRtcTransport', { direction });
  const transport =
    direction === 'send' ? state.device.createSendTransport(params) : state.device.createRecvTransport(params);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    api('connectTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
  });
  transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
    api('produce', { transportId: transport.id, kind, rtpParameters }).then(callback, errback);
  });
  state.transport = transport;
  return transport;
}

// The camera at 1280x720 as VP8 in three simulcast streams (quarter, half and
// full size, about 150/500/1500 kbit/s), or as VP9 in one stream of three
// spatial and three temporal layers (L3T3_KEY). Returns the producer's id.
window.shapedSend = async (codecName) => {
  const transport = await createTransport('send');
  const mimeType = `video/${codecName.toUpperCase()}`;
  const codec = state.device.rtpCapabilities.codecs.find((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase());
  if (!codec) throw new Error(`the router offers no ${mimeType}`);
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 1280, height: 720, frameRate: 30 },
  });
  const encodings =
    codecName === 'vp9'
      ? [{ scalabilityMode: 'L3T3_KEY', maxBitrate: 1_800_000 }]
      : [
          { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
          { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
          { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
        ];
  state.producer = await transport.produce({ track: stream.getVideoTracks()[0], encodings, codec });
  status.textContent = 'sending';
  return state.producer.id;
};

// What the sender sends: one entry per outbound-rtp (a simulcast stream, or
// the one SVC stream with its scalability mode).
window.shapedSendStats = async () => {
  const out = [];
  for (const s of (await state.producer.getStats()).values()) {
    if (s.type !== 'outbound-rtp') continue;
    out.push({
      rid: s.rid,
      scalabilityMode: s.scalabilityMode,
      frameWidth: s.frameWidth,
      frameHeight: s.frameHeight,
      framesPerSecond: s.framesPerSecond,
      bytesSent: s.bytesSent,
      targetBitrate: s.targetBitrate,
      qualityLimitationReason: s.qualityLimitationReason,
    });
  }
  return out;
};

const INBOUND_FIELDS = [
  'packetsReceived', 'packetsLost', 'bytesReceived', 'framesDecoded', 'framesDropped', 'keyFramesDecoded',
  'frameWidth', 'frameHeight', 'freezeCount', 'totalFreezesDuration', 'nackCount', 'pliCount', 'jitter',
  'jitterBufferDelay', 'jitterBufferEmittedCount',
];

async function inbound() {
  for (const s of (await state.consumer.getStats()).values()) {
    if (s.type !== 'inbound-rtp') continue;
    return Object.fromEntries(INBOUND_FIELDS.filter((f) => f in s).map((f) => [f, s[f]]));
  }
  return null;
}

// Consumes the producer and samples the receiver's inbound-rtp every
// `sampleMs` (the runner finds frame gaps in framesDecoded from these).
window.shapedRecv = async (producerId, sampleMs) => {
  const transport = await createTransport('recv');
  const params = await api('consume', {
    transportId: transport.id,
    producerId,
    rtpCapabilities: state.device.rtpCapabilities,
  });
  state.consumer = await transport.consume(params);
  const video = document.getElementById('remote-video');
  video.srcObject = new MediaStream([state.consumer.track]);
  await video.play();
  status.textContent = 'receiving';
  const sample = async () => {
    const s = await inbound();
    if (s) state.samples.push({ at: Date.now(), ...s });
    setTimeout(sample, sampleMs);
  };
  sample();
  return state.consumer.id;
};

// The samples taken since the last call (the runner keeps them).
window.shapedTakeSamples = () => state.samples.splice(0);
