// The browser side of the test: sends the fake camera and microphone through
// the SFU and receives both back on a second transport, like a participant
// that watches itself. Bundled by esbuild into an IIFE; the runner clicks
// #start (a click gives the page the user activation audio playback wants)
// and reads window.callStats().
import { Device } from 'mediasoup-client';
import { message, fingerprint } from './data-messages';

const status = document.getElementById('status');
const call = { device: null, sendTransport: null, recvTransport: null, producers: [], consumers: [] };
// ?data: no media; data channels only (window.data* below).
const dataOnly = new URLSearchParams(location.search).has('data');
window.call = call;

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
  const params = await api('createWebRtcTransport', { direction, sctp: dataOnly });
  const transport =
    direction === 'send' ? call.device.createSendTransport(params) : call.device.createRecvTransport(params);

  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    api('connectTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
  });
  transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
    api('produce', { transportId: transport.id, kind, rtpParameters }).then(callback, errback);
  });
  transport.on('producedata', ({ sctpStreamParameters, label, protocol }, callback, errback) => {
    api('produceData', { transportId: transport.id, sctpStreamParameters, label, protocol }).then(callback, errback);
  });
  return transport;
}

async function start() {
  call.device = new Device();
  await call.device.load({ routerRtpCapabilities: await api('getRouterRtpCapabilities') });
  if (dataOnly) return;
  call.sendTransport = await createTransport('send');
  call.recvTransport = await createTransport('recv');

  // ?simulcast: the camera is sent as three simulcast streams (quarter,
  // half and full size) and received through a simulcast consumer. ?svc: as
  // VP9 in one stream of three spatial layers (quarter, half and full size)
  // and three temporal layers, received through an SVC consumer.
  const query = new URLSearchParams(location.search);
  const simulcast = query.has('simulcast');
  const svc = query.has('svc');
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: simulcast || svc ? { width: 1280, height: 720, frameRate: 30 } : { width: 640, height: 480, frameRate: 30 },
  });
  let encodings = [{ maxBitrate: 1_000_000 }];
  let codec;
  if (simulcast)
    encodings = [
      { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
      { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
      { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
    ];
  if (svc) {
    encodings = [{ scalabilityMode: 'L3T3_KEY', maxBitrate: 1_800_000 }];
    codec = call.device.rtpCapabilities.codecs.find((c) => c.mimeType.toLowerCase() === 'video/vp9');
    if (!codec) throw new Error('the router offers no VP9');
  }
  call.producers.push(
    await call.sendTransport.produce({ track: stream.getVideoTracks()[0], encodings, codec }),
    await call.sendTransport.produce({ track: stream.getAudioTracks()[0] }),
  );

  for (const producer of call.producers) {
    const params = await api('consume', {
      transportId: call.recvTransport.id,
      producerId: producer.id,
      rtpCapabilities: call.device.rtpCapabilities,
    });
    const consumer = await call.recvTransport.consume(params);
    call.consumers.push(consumer);
    const element = document.getElementById(consumer.kind === 'video' ? 'remote-video' : 'remote-audio');
    element.srcObject = new MediaStream([consumer.track]);
    await element.play();
    // Already created unpaused; resuming anyway exercises consumer.resume.
    await api('resume', { consumerId: consumer.id });
  }
}

// ICE restart on both transports, as an application does after a network
// change: new credentials from the worker, then the browser checks again.
window.restartIce = async () => {
  for (const transport of [call.sendTransport, call.recvTransport]) {
    const { iceParameters } = await api('restartIce', { transportId: transport.id });
    await transport.restartIce({ iceParameters });
  }
};

// ----- data channels (?data) -------------------------------------------------
// A sending page produces data (its send transport comes up with the first
// one), a receiving page consumes; the runner calls these and reads what
// arrived: per label, a fingerprint of each message in arrival order.
const data = { producers: new Map(), consumers: new Map(), received: {} };
window.data = data;

window.dataProduce = async (options) => {
  if (!call.sendTransport) call.sendTransport = await createTransport('send');
  const dataProducer = await call.sendTransport.produceData(options);
  data.producers.set(dataProducer.label, dataProducer);
  return dataProducer.id;
};

window.dataConsume = async (dataProducerId) => {
  if (!call.recvTransport) call.recvTransport = await createTransport('recv');
  const params = await api('consumeData', { transportId: call.recvTransport.id, dataProducerId });
  const dataConsumer = await call.recvTransport.consumeData(params);
  dataConsumer.binaryType = 'arraybuffer';
  const received = (data.received[dataConsumer.label] = []);
  dataConsumer.on('message', (m) => received.push(fingerprint(m)));
  data.consumers.set(dataConsumer.label, dataConsumer);
  return dataConsumer.label;
};

// Channels open on both ends: producers here, consumers there.
window.dataStates = () => {
  const out = {};
  for (const [label, p] of data.producers) out[`producer ${label}`] = p.readyState;
  for (const [label, c] of data.consumers) out[`consumer ${label}`] = c.readyState;
  return out;
};

// Sends message `seed` of data-messages.js on a producer; returns the
// producer's bufferedAmount after.
window.dataSend = (label, seed, kind, size) => {
  const dataProducer = data.producers.get(label);
  dataProducer.send(message(seed, kind, size));
  return dataProducer.bufferedAmount;
};

window.dataSendText = (label, texts) => {
  for (const text of texts) data.producers.get(label).send(text);
};

window.dataReceived = () => data.received;

document.getElementById('start').addEventListener('click', () => {
  status.textContent = 'starting';
  start().then(
    () => (status.textContent = 'running'),
    (error) => (status.textContent = `error: ${error.stack || error}`),
  );
});

// Picks the fields the test asserts on; RTCStatsReport is a Map and does not
// cross page.evaluate() as it is.
function pick(report, type, fields) {
  for (const stats of report.values()) {
    if (stats.type !== type) continue;
    return Object.fromEntries(fields.filter((f) => f in stats).map((f) => [f, stats[f]]));
  }
  return null;
}

// The candidate pair the browser's ICE agent is using on a transport.
function selectedPair(report) {
  const transport = [...report.values()].find((s) => s.type === 'transport');
  const pair = transport && report.get(transport.selectedCandidatePairId);
  if (!pair) return null;
  const local = report.get(pair.localCandidateId);
  const remote = report.get(pair.remoteCandidateId);
  return {
    state: pair.state,
    dtlsState: transport.dtlsState,
    protocol: remote && remote.protocol,
    // The sender's bandwidth estimate: it only climbs with congestion
    // feedback (transport-cc or REMB) from the SFU.
    availableOutgoingBitrate: pair.availableOutgoingBitrate,
    local: local && `${local.address}:${local.port}`,
    remote: remote && `${remote.address}:${remote.port}`,
  };
}

window.callStats = async () => {
  const out = { status: status.textContent, send: {}, recv: {} };
  for (const producer of call.producers) {
    out.send[producer.kind] = pick(await producer.getStats(), 'outbound-rtp', [
      'packetsSent', 'bytesSent', 'framesEncoded', 'frameWidth', 'frameHeight', 'framesPerSecond',
      'targetBitrate', 'qualityLimitationReason', 'retransmittedPacketsSent', 'nackCount', 'pliCount',
    ]);
  }
  for (const consumer of call.consumers) {
    out.recv[consumer.kind] = pick(await consumer.getStats(), 'inbound-rtp', [
      'packetsReceived', 'packetsLost', 'bytesReceived', 'framesDecoded', 'keyFramesDecoded',
      'frameWidth', 'frameHeight', 'totalSamplesReceived', 'audioLevel', 'concealedSamples', 'nackCount', 'pliCount',
    ]);
  }
  if (call.sendTransport) out.sendPath = selectedPair(await call.sendTransport.getStats());
  if (call.recvTransport) out.recvPath = selectedPair(await call.recvTransport.getStats());
  const video = document.getElementById('remote-video');
  out.element = { videoWidth: video.videoWidth, videoHeight: video.videoHeight, currentTime: video.currentTime };
  return out;
};
