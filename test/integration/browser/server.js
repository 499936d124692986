'use strict';
// A one-room signalling server for the browser test: the mediasoup 3.8.4 host
// drives our worker binary, and the page talks to it with JSON over HTTP.
// Everything listens on 127.0.0.1 only, unless told otherwise (shaped.js
// uses a veth address of its own).

const http = require('http');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '../../..');

// The host reads MEDIASOUP_WORKER_BIN once, when its Worker module loads, so
// it must be set before the first require('mediasoup').
process.env.MEDIASOUP_WORKER_BIN =
  process.env.SFU_WORKER_BIN || path.join(root, 'build/sfu-worker');
const mediasoup = require('mediasoup');

const mediaCodecs = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
  // For the SVC scenario; pages that name no codec send VP8, the first.
  { kind: 'video', mimeType: 'video/VP9', clockRate: 90000 },
];

// The host's default, and Chromium's own limit.
const MAX_SCTP_MESSAGE_SIZE = 262144;

const indexHtml = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>sfu-worker browser test</title></head>
<body>
<button id="start">start</button>
<div id="status">idle</div>
<video id="remote-video" autoplay playsinline></video>
<audio id="remote-audio" autoplay></audio>
<script src="/page.js"></script>
</body>
</html>
`;

// The shaped-link scenario's pages: one sends, one receives (shaped.js).
const shapedHtml = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>sfu-worker shaped link</title></head>
<body>
<div id="status">idle</div>
<video id="remote-video" autoplay playsinline muted></video>
<script src="/shaped-page.js"></script>
</body>
</html>
`;

// Bundled in memory at start-up: nothing is written next to the sources.
async function bundle(entry) {
  const result = await esbuild.build({
    entryPoints: [path.join(__dirname, entry)],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

// Options: { enableUdp, enableTcp, logLevel, logTags } and, all optional,
// mediaCodecs (the router's), httpHost (where the pages are served; default
// 127.0.0.1) and listenIps ({ send, recv }: where each direction's
// WebRtcTransport listens; default 127.0.0.1).
async function startServer(options) {
  const pageJs = await bundle('page.js');
  const shapedPageJs = await bundle('shaped-page.js');
  const worker = await mediasoup.createWorker({
    logLevel: options.logLevel || 'warn',
    logTags: options.logTags || [],
  });
  const router = await worker.createRouter({ mediaCodecs: options.mediaCodecs || mediaCodecs });
  const listenIp = (direction) => (options.listenIps && options.listenIps[direction]) || '127.0.0.1';

  const transports = new Map();
  const producers = new Map();
  const consumers = new Map();
  const dataProducers = new Map();
  const dataConsumers = new Map();

  const api = {
    async getRouterRtpCapabilities() {
      return router.rtpCapabilities;
    },

    // With `sctp` the transport carries data channels too (1024 streams
    // each way), messages of up to 256 KiB.
    async createWebRtcTransport({ direction, sctp }) {
      const transport = await router.createWebRtcTransport({
        listenIps: [{ ip: listenIp(direction) }],
        enableUdp: options.enableUdp,
        enableTcp: options.enableTcp,
        preferUdp: options.enableUdp,
        preferTcp: !options.enableUdp,
        enableSctp: Boolean(sctp),
        numSctpStreams: { OS: 1024, MIS: 1024 },
        maxSctpMessageSize: MAX_SCTP_MESSAGE_SIZE,
        sctpSendBufferSize: MAX_SCTP_MESSAGE_SIZE,
        appData: { direction },
      });
      transports.set(transport.id, transport);
      return {
        id: transport.id,
        iceParameters: transport.iceParameters,
        iceCandidates: transport.iceCandidates,
        dtlsParameters: transport.dtlsParameters,
        sctpParameters: transport.sctpParameters,
      };
    },

    async connectTransport({ transportId, dtlsParameters }) {
      await lookup(transports, transportId).connect({ dtlsParameters });
      return {};
    },

    async produce({ transportId, kind, rtpParameters }) {
      const producer = await lookup(transports, transportId).produce({ kind, rtpParameters });
      producers.set(producer.id, producer);
      return { id: producer.id };
    },

    async consume({ transportId, producerId, rtpCapabilities }) {
      if (!router.canConsume({ producerId, rtpCapabilities }))
        throw new Error(`cannot consume producer ${producerId}`);
      const consumer = await lookup(transports, transportId).consume({
        producerId,
        rtpCapabilities,
        paused: false,
      });
      consumers.set(consumer.id, consumer);
      // Every layer change the worker reports, for the simulcast and shaped
      // scenarios, and when it came.
      consumer.appData.layers = [];
      consumer.appData.layerTimes = [];
      consumer.on('layerschange', (layers) => {
        consumer.appData.layers.push(layers || null);
        consumer.appData.layerTimes.push({ at: Date.now(), layers: layers || null });
      });
      return {
        id: consumer.id,
        producerId,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
      };
    },

    // What a receiving page may consume.
    async listProducers() {
      return [...producers.values()].map((p) => ({ id: p.id, kind: p.kind, type: p.type }));
    },

    async produceData({ transportId, sctpStreamParameters, label, protocol }) {
      const dataProducer = await lookup(transports, transportId).produceData({
        sctpStreamParameters,
        label,
        protocol,
      });
      dataProducers.set(dataProducer.id, dataProducer);
      return { id: dataProducer.id };
    },

    async consumeData({ transportId, dataProducerId }) {
      const dataConsumer = await lookup(transports, transportId).consumeData({ dataProducerId });
      dataConsumers.set(dataConsumer.id, dataConsumer);
      return {
        id: dataConsumer.id,
        dataProducerId,
        sctpStreamParameters: dataConsumer.sctpStreamParameters,
        label: dataConsumer.label,
        protocol: dataConsumer.protocol,
      };
    },

    async resume({ consumerId }) {
      await lookup(consumers, consumerId).resume();
      return {};
    },

    async setPreferredLayers({ consumerId, spatialLayer, temporalLayer }) {
      const consumer = lookup(consumers, consumerId);
      await consumer.setPreferredLayers({ spatialLayer, temporalLayer });
      return { preferredLayers: consumer.preferredLayers };
    },

    async restartIce({ transportId }) {
      const iceParameters = await lookup(transports, transportId).restartIce();
      return { iceParameters };
    },
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => reply(res, 500, { error: String(error.message || error) }));
  });

  async function handle(req, res) {
    const pathname = req.url.split('?')[0];
    if (req.method === 'GET' && (pathname === '/' || pathname === '/index.html'))
      return send(res, 200, 'text/html', indexHtml);
    if (req.method === 'GET' && pathname === '/shaped') return send(res, 200, 'text/html', shapedHtml);
    if (req.method === 'GET' && req.url === '/page.js')
      return send(res, 200, 'application/javascript', pageJs);
    if (req.method === 'GET' && req.url === '/shaped-page.js')
      return send(res, 200, 'application/javascript', shapedPageJs);
    if (req.method === 'GET' && req.url === '/favicon.ico') return send(res, 204, 'text/plain', '');

    const match = /^\/api\/(\w+)$/.exec(req.url);
    if (req.method !== 'POST' || !match || !Object.hasOwn(api, match[1]))
      return reply(res, 404, { error: `no such endpoint: ${req.method} ${req.url}` });
    const body = JSON.parse((await readBody(req)) || '{}');
    reply(res, 200, await api[match[1]](body));
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.httpHost || '127.0.0.1', resolve);
  });

  return {
    url: `http://${options.httpHost || '127.0.0.1'}:${server.address().port}/`,
    worker,
    router,
    transports,
    producers,
    consumers,
    dataProducers,
    dataConsumers,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      worker.close();
      await waitForExit(worker.pid, 3000);
    },
  };
}

// worker.close() only signals the process; waiting for it to be gone (the
// host reaps it) keeps a quick exit of this process from orphaning it.
async function waitForExit(pid, timeoutMs) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`worker ${pid} still running ${timeoutMs} ms after close`);
}

function lookup(map, id) {
  const entity = map.get(id);
  if (!entity) throw new Error(`unknown id ${id}`);
  return entity;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function reply(res, status, json) {
  send(res, status, 'application/json', JSON.stringify(json));
}

module.exports = { startServer };

// Standalone use, to poke at it with a desktop browser:
//   node server.js [udp|tcp]
if (require.main === module) {
  const tcp = process.argv[2] === 'tcp';
  startServer({ enableUdp: !tcp, enableTcp: tcp }).then((s) => {
    console.log(`serving ${s.url} (${tcp ? 'ICE-TCP' : 'UDP'}); Ctrl-C stops`);
    process.once('SIGINT', () => s.close().then(() => process.exit(0)));
  });
}
