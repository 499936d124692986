'use strict';
// A cascade between two "hosts": two network namespaces joined by a veth
// pair (10.77.0.1/24 and 10.77.0.2/24), a worker of our binary in each
// (MEDIASOUP_WORKER_BIN is netns-worker.sh, which execs the worker inside
// the namespace), driven by one mediasoup 3.8.4 Node host the way an
// application cascades across hosts: a PipeTransport on each router
// (enableRtx, SRTP), each connected to the other's tuple, pipeTransport.consume()
// on A and pipeTransport.produce() on B with the pipe consumer's
// rtpParameters.
//
//   namespace A: ffmpeg (VP8 + Opus) -> PlainTransport -> producers
//                -> PipeTransport 10.77.0.1 ====veth====
//   namespace B: PipeTransport 10.77.0.2 -> pipe producers -> consumers
//                -> PlainTransport -> ffmpeg decoding from an SDP
//
// nftables in each namespace drops LOSS_PERCENT % of the pipe's datagrams
// arriving there (media A->B in B, RTCP B->A in A) once the stream runs,
// with named counters. Checks: decoded video frames >= 95 % of those sent,
// the drop counters moved, NACKs and RTX across the pipe, and a key frame
// requested on B (consumer.requestKeyFrame) reaches the sender on A: a PLI
// crosses the pipe and leaves worker A towards ffmpeg's RTCP socket, seen
// by trace events and by nftables counters on the wire.
// Needs root (ip netns, nft). Prints one JSON summary line; exit 0 = held.
//
//   node pipe-cascade.js   (SFU_WORKER_BIN, SFU_MEDIASOUP_DIR,
//                           SFU_CASCADE_NS_A / _NS_B / _VETH: names to use)

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const c = require('./pipe_common');

const { assert } = c;

const NS_A = process.env.SFU_CASCADE_NS_A || `sfupipeA${process.pid}`;
const NS_B = process.env.SFU_CASCADE_NS_B || `sfupipeB${process.pid}`;
const VETH = process.env.SFU_CASCADE_VETH || `sfv${process.pid % 100000}`;
const IP_A = '10.77.0.1';
const IP_B = '10.77.0.2';
const LOSS_PERCENT = Number(process.env.SFU_CASCADE_LOSS || 3);
const SECONDS = Number(process.env.SFU_CASCADE_SECONDS || 20);
const WARMUP_MS = 1500;
const SRTP = process.env.SFU_CASCADE_SRTP !== '0';
const VIDEO_SSRC = 33330001;
const AUDIO_SSRC = 44440001;
// The receiving ffmpeg's ports in B (fresh namespace: free; the workers use
// 20000-29999).
const RECV_VIDEO_PORT = 40000;
const RECV_AUDIO_PORT = 40002;
const TABLE = 'sfupipe';

process.env.SFU_NETNS_WORKER_BIN = c.workerBin();
process.env.MEDIASOUP_WORKER_BIN = path.join(__dirname, 'netns-worker.sh');
const mediasoup = c.loadMediasoup();

function sh(argv, { input, allowFail = false } = {}) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${argv.join(' ')} failed (${r.status}): ${(r.stderr || '').trim()}`);
  }
  return r.stdout || '';
}

function inNs(ns, argv, opts) {
  return sh(['ip', 'netns', 'exec', ns].concat(argv), opts);
}

function setUpNamespaces() {
  tearDownNamespaces();
  sh(['ip', 'netns', 'add', NS_A]);
  sh(['ip', 'netns', 'add', NS_B]);
  sh(['ip', 'link', 'add', `${VETH}a`, 'type', 'veth', 'peer', 'name', `${VETH}b`]);
  sh(['ip', 'link', 'set', `${VETH}a`, 'netns', NS_A]);
  sh(['ip', 'link', 'set', `${VETH}b`, 'netns', NS_B]);
  for (const [ns, dev, ip] of [[NS_A, `${VETH}a`, IP_A], [NS_B, `${VETH}b`, IP_B]]) {
    inNs(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', dev]);
    inNs(ns, ['ip', 'link', 'set', dev, 'up']);
    inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  }
}

function tearDownNamespaces() {
  for (const ns of [NS_A, NS_B]) {
    sh(['ip', 'netns', 'del', ns], { allowFail: true });
  }
  sh(['ip', 'link', 'del', `${VETH}a`], { allowFail: true });
}

// In each namespace: named counters, an (empty for now) set of ports to
// drop from, and rules that count what arrives on the pipe's port, drop
// LOSS_PERCENT % of it once the port is in the set, then count what passed:
// RTX packets (their payload type) in B, NACKs and PLIs (first packet of
// the datagram; SRTCP leaves those 8 bytes clear) in A; and in A's output,
// PLIs leaving worker A from the ingest transport's RTCP port to ffmpeg.
function setUpNftables({ pipePortA, pipePortB, rtxPt, ingestRtcpPort }) {
  const rules = {
    [NS_B]: [
      'table inet sfupipe {',
      '  counter pipe_in {}', '  counter dropped {}', '  counter rtx_in {}',
      '  set lossy { type inet_service; }',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      `    udp dport ${pipePortB} counter name pipe_in`,
      `    udp dport @lossy numgen random mod 100 < ${LOSS_PERCENT} counter name dropped drop`,
      `    udp dport ${pipePortB} @th,73,7 ${rtxPt} counter name rtx_in`,
      '  }',
      '}'
    ],
    [NS_A]: [
      'table inet sfupipe {',
      '  counter pipe_in {}', '  counter dropped {}', '  counter nack_in {}', '  counter pli_in {}',
      '  counter pli_to_sender {}',
      '  set lossy { type inet_service; }',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      `    udp dport ${pipePortA} counter name pipe_in`,
      `    udp dport @lossy numgen random mod 100 < ${LOSS_PERCENT} counter name dropped drop`,
      `    udp dport ${pipePortA} @th,64,16 0x81cd counter name nack_in`,
      `    udp dport ${pipePortA} @th,64,16 0x81ce counter name pli_in`,
      '  }',
      '  chain output {',
      '    type filter hook output priority 0; policy accept;',
      `    udp sport ${ingestRtcpPort} @th,64,16 0x81ce counter name pli_to_sender`,
      '  }',
      '}'
    ]
  };
  for (const [ns, lines] of Object.entries(rules)) {
    inNs(ns, ['nft', '-f', '-'], { input: lines.join('\n') + '\n' });
  }
}

function startLoss(ns, port) {
  inNs(ns, ['nft', 'add', 'element', 'inet', TABLE, 'lossy', `{ ${port} }`]);
}

function stopLoss(ns, port) {
  inNs(ns, ['nft', 'delete', 'element', 'inet', TABLE, 'lossy', `{ ${port} }`], { allowFail: true });
}

function counters(ns) {
  const out = {};
  const json = JSON.parse(inNs(ns, ['nft', '-j', 'list', 'counters', 'table', 'inet', TABLE]));
  for (const entry of json.nftables) {
    if (entry.counter) out[entry.counter.name] = entry.counter.packets;
  }
  return out;
}

function receiverSdp() {
  return [
    'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=pipe cascade receiver', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=video ${RECV_VIDEO_PORT} RTP/AVP ${c.VIDEO_PT}`, `a=rtpmap:${c.VIDEO_PT} VP8/90000`,
    'a=rtcp-mux', 'a=recvonly',
    `m=audio ${RECV_AUDIO_PORT} RTP/AVP ${c.AUDIO_PT}`, `a=rtpmap:${c.AUDIO_PT} opus/48000/2`,
    'a=rtcp-mux', 'a=recvonly', ''
  ].join('\r\n');
}

// An empty RR then a BYE (ffmpeg ignores RTCP shorter than 12 bytes), sent
// from inside the namespace to each port on its loopback.
function sendByes(ns, ports) {
  const script = 'const d = require("dgram").createSocket("udp4");' +
    'const b = Buffer.from("80c90001000004d281cb0001000004d2", "hex");' +
    `let n = ${ports.length};` +
    `for (const p of ${JSON.stringify(ports)}) d.send(b, p, "127.0.0.1", () => { if (!--n) d.close(); });`;
  inNs(ns, [process.execPath, '-e', script], { allowFail: true });
}

// framecrc: one line per decoded frame, "stream index, dts, pts, ...".
function decodedFrames(crcPath) {
  const counts = { video: 0, audio: 0 };
  let text = '';
  try {
    text = fs.readFileSync(crcPath, 'utf8');
  } catch (error) {
    return counts;
  }
  for (const line of text.split('\n')) {
    if (/^0,/.test(line)) counts.video++;
    else if (/^1,/.test(line)) counts.audio++;
  }
  return counts;
}

async function waitUdpBound(ns, port, ms) {
  await c.waitFor(`ffmpeg receiver bound to ${port} in ${ns}`,
    () => inNs(ns, ['ss', '-Hlun', `sport = :${port}`], { allowFail: true }).trim() !== '', ms);
}

async function pipeProducer(pipeA, pipeB, producer) {
  const pipeConsumer = await pipeA.consume({ producerId: producer.id });
  const pipeProd = await pipeB.produce({ id: producer.id, kind: pipeConsumer.kind,
    rtpParameters: pipeConsumer.rtpParameters, paused: pipeConsumer.producerPaused });
  // What Router.pipeToRouter() wires up, across hosts by the application.
  pipeConsumer.observer.on('pause', () => pipeProd.pause());
  pipeConsumer.observer.on('resume', () => pipeProd.resume());
  pipeConsumer.observer.on('close', () => pipeProd.close());
  return { pipeConsumer, pipeProducer: pipeProd };
}

async function main(summary) {
  Object.assign(summary, { lossPercent: LOSS_PERCENT, seconds: SECONDS, srtp: SRTP });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-pipe-cascade-'));
  const cleanup = [];
  try {
    setUpNamespaces();
    process.env.SFU_NETNS = NS_A;
    const workerA = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 20000,
      rtcMaxPort: 29999 });
    cleanup.push(() => c.closeWorker(workerA));
    process.env.SFU_NETNS = NS_B;
    const workerB = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 20000,
      rtcMaxPort: 29999 });
    cleanup.push(() => c.closeWorker(workerB));
    for (const w of [workerA, workerB]) {
      w.on('died', (error) => { summary.died = String(error); });
    }
    const routerA = await workerA.createRouter({ mediaCodecs: c.MEDIA_CODECS });
    const routerB = await workerB.createRouter({ mediaCodecs: c.MEDIA_CODECS });

    // ----- A: ingest --------------------------------------------------------
    const ingestV = await routerA.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false,
      comedia: true });
    const ingestA = await routerA.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false,
      comedia: true });
    const videoProducer = await ingestV.produce({ kind: 'video',
      rtpParameters: c.videoRtpParameters(VIDEO_SSRC) });
    const audioProducer = await ingestA.produce({ kind: 'audio',
      rtpParameters: c.audioRtpParameters(AUDIO_SSRC) });

    // ----- the pipe, across the veth ------------------------------------
    const pipeA = await routerA.createPipeTransport({ listenIp: IP_A, enableRtx: true,
      enableSrtp: SRTP });
    const pipeB = await routerB.createPipeTransport({ listenIp: IP_B, enableRtx: true,
      enableSrtp: SRTP });
    await pipeA.connect({ ip: pipeB.tuple.localIp, port: pipeB.tuple.localPort,
      srtpParameters: pipeB.srtpParameters });
    await pipeB.connect({ ip: pipeA.tuple.localIp, port: pipeA.tuple.localPort,
      srtpParameters: pipeA.srtpParameters });
    assert.strictEqual(pipeA.tuple.localIp, IP_A);
    assert.strictEqual(pipeB.tuple.remoteIp, IP_A);
    const video = await pipeProducer(pipeA, pipeB, videoProducer);
    const audio = await pipeProducer(pipeA, pipeB, audioProducer);
    const rtxCodec = video.pipeConsumer.rtpParameters.codecs.find((x) => /\/rtx$/i.test(x.mimeType));
    assert(rtxCodec, 'no RTX codec on the enableRtx pipe');
    summary.pipe = { a: `${pipeA.tuple.localIp}:${pipeA.tuple.localPort}`,
      b: `${pipeB.tuple.localIp}:${pipeB.tuple.localPort}`, rtxPayloadType: rtxCodec.payloadType,
      srtp: SRTP ? pipeA.srtpParameters.cryptoSuite : null };

    setUpNftables({ pipePortA: pipeA.tuple.localPort, pipePortB: pipeB.tuple.localPort,
      rtxPt: rtxCodec.payloadType, ingestRtcpPort: ingestV.rtcpTuple.localPort });
    cleanup.push(() => {
      stopLoss(NS_A, pipeA.tuple.localPort);
      stopLoss(NS_B, pipeB.tuple.localPort);
    });

    // ----- B: consumers to a decoding ffmpeg -------------------------------
    const outV = await routerB.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true,
      comedia: false });
    const outA = await routerB.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true,
      comedia: false });
    await outV.connect({ ip: '127.0.0.1', port: RECV_VIDEO_PORT });
    await outA.connect({ ip: '127.0.0.1', port: RECV_AUDIO_PORT });
    const videoConsumer = await outV.consume({ producerId: videoProducer.id,
      rtpCapabilities: c.plainCapabilities(), paused: true });
    const audioConsumer = await outA.consume({ producerId: audioProducer.id,
      rtpCapabilities: c.plainCapabilities(), paused: true });
    assert.strictEqual(videoConsumer.rtpParameters.codecs[0].payloadType, c.VIDEO_PT);
    assert.strictEqual(audioConsumer.rtpParameters.codecs[0].payloadType, c.AUDIO_PT);

    const sdpPath = path.join(tmp, 'recv.sdp');
    const crcPath = path.join(tmp, 'recv.framecrc');
    fs.writeFileSync(sdpPath, receiverSdp());
    const receiver = new c.Child('ffmpeg receiver', ['ip', 'netns', 'exec', NS_B, 'ffmpeg',
      '-hide_banner', '-nostdin', '-loglevel', 'warning', '-protocol_whitelist', 'file,udp,rtp',
      '-max_delay', '500000', '-reorder_queue_size', '1000', '-i', sdpPath,
      '-map', '0:v', '-map', '0:a', '-fps_mode', 'passthrough', '-f', 'framecrc', '-flush_packets', '1',
      '-y', crcPath],
    path.join(tmp, 'ffmpeg-recv.log'));
    cleanup.push(() => receiver.stop());
    await waitUdpBound(NS_B, RECV_VIDEO_PORT, 5000);
    await videoConsumer.resume();
    await audioConsumer.resume();

    // ----- A: the sender ------------------------------------------------------
    const sender = new c.Child('ffmpeg sender', ['ip', 'netns', 'exec', NS_A, 'ffmpeg']
      .concat(c.ffmpegSenderArgs({ ip: '127.0.0.1',
        videoPort: ingestV.tuple.localPort, videoRtcpPort: ingestV.rtcpTuple.localPort,
        videoSsrc: VIDEO_SSRC, audioPort: ingestA.tuple.localPort,
        audioRtcpPort: ingestA.rtcpTuple.localPort, audioSsrc: AUDIO_SSRC,
        seconds: SECONDS })), path.join(tmp, 'ffmpeg-send.log'));
    cleanup.push(() => sender.stop());
    const traces = {
      producer: await c.recordTraces(videoProducer, ['pli', 'fir']),
      pipeConsumer: await c.recordTraces(video.pipeConsumer, ['pli', 'fir', 'nack']),
      pipeProducer: await c.recordTraces(video.pipeProducer, ['pli', 'fir', 'nack'])
    };
    const startedAt = Date.now();
    await c.waitFor('video at the pipe producer in B', async () => {
      const s = c.statsOf(await video.pipeProducer.getStats(), 'inbound-rtp')[0];
      return s && s.packetCount > 0;
    }, 8000, 100);
    await c.sleep(WARMUP_MS);
    startLoss(NS_B, pipeB.tuple.localPort);
    startLoss(NS_A, pipeA.tuple.localPort);
    const lossFrom = Date.now();

    // ----- mid-stream: a key frame requested on B ----------------------------
    await c.sleep(Math.max(0, SECONDS * 500 - (Date.now() - startedAt)));
    summary.scoresMidStream = { producer: videoProducer.score,
      pipeConsumer: video.pipeConsumer.score, pipeProducer: video.pipeProducer.score,
      consumer: videoConsumer.score };
    const before = counters(NS_A);
    const kf = { attempts: 0 };
    for (let attempt = 1; attempt <= 4 && !kf.producerOut; attempt++) {
      for (const list of Object.values(traces)) {
        list.splice(0, list.length, ...list.filter((t) => t.type === 'nack'));
      }
      kf.attempts = attempt;
      const at = Date.now();
      await videoConsumer.requestKeyFrame();
      await c.waitFor('PLI', () => traces.producer.some((t) => t.direction === 'out'), 1500)
        .catch(() => null);
      const first = (list, dir) => {
        const t = list.find((e) => e.direction === dir && e.type !== 'nack');
        return t ? { type: t.type, ms: t.at - at } : null;
      };
      kf.pipeProducerOut = first(traces.pipeProducer, 'out');
      kf.pipeConsumerIn = first(traces.pipeConsumer, 'in');
      kf.producerOut = first(traces.producer, 'out');
    }
    const after = counters(NS_A);
    kf.wirePliIntoA = after.pli_in - before.pli_in;
    kf.wirePliToSender = after.pli_to_sender - before.pli_to_sender;
    summary.keyFrameRequest = kf;

    // ----- the end ------------------------------------------------------------
    await sender.wait((SECONDS + 10) * 1000 * c.SCALE);
    const senderLog = sender.log();
    const sentMatches = [...senderLog.matchAll(/frame=\s*(\d+)/g)];
    const framesSent = sentMatches.length ? Number(sentMatches[sentMatches.length - 1][1]) : 0;
    summary.lossMs = Date.now() - lossFrom;
    await c.sleep(1500);
    stopLoss(NS_B, pipeB.tuple.localPort);
    stopLoss(NS_A, pipeA.tuple.localPort);
    // An RTCP BYE on each of its streams ends the receiving ffmpeg's input.
    sendByes(NS_B, [RECV_VIDEO_PORT, RECV_AUDIO_PORT]);
    await receiver.wait(5000);
    summary.receiverEndedByBye = !receiver.running();
    await receiver.stop();
    const decoded = decodedFrames(crcPath);
    const nftA = counters(NS_A);
    const nftB = counters(NS_B);
    const ppStats = c.statsOf(await video.pipeProducer.getStats(), 'inbound-rtp')[0];
    const pcStats = c.statsOf(await video.pipeConsumer.getStats(), 'outbound-rtp')[0];
    const apStats = c.statsOf(await audio.pipeProducer.getStats(), 'inbound-rtp')[0];
    const producerStats = c.statsOf(await videoProducer.getStats(), 'inbound-rtp')[0];
    const consumerStats = c.statsOf(await videoConsumer.getStats(), 'outbound-rtp')[0];
    summary.frames = { sent: framesSent, decodedVideo: decoded.video,
      decodedAudio: decoded.audio,
      decodedShare: framesSent ? Math.round(1000 * decoded.video / framesSent) / 10 : 0 };
    summary.nft = { A: nftA, B: nftB };
    summary.repair = {
      pipeProducerNacksSent: ppStats.nackCount, pipeProducerNackedPackets: ppStats.nackPacketCount,
      pipeProducerPackets: ppStats.packetCount, pipeProducerLost: ppStats.packetsLost,
      pipeProducerRepaired: ppStats.packetsRepaired,
      pipeProducerRetransmitted: ppStats.packetsRetransmitted,
      pipeConsumerNacksReceived: pcStats.nackCount,
      pipeConsumerNackedPackets: pcStats.nackPacketCount,
      pipeConsumerRetransmitted: pcStats.packetsRetransmitted,
      pipeConsumerPackets: pcStats.packetCount,
      producerPackets: producerStats.packetCount,
      consumerPackets: consumerStats.packetCount,
      audioPipeProducerPackets: apStats.packetCount,
      nackTracesOutOfPipeProducer: traces.pipeProducer.filter((t) => t.type === 'nack').length,
      nackTracesIntoPipeConsumer: traces.pipeConsumer.filter((t) => t.type === 'nack').length
    };
    // (At the end the streams are silent: inactive streams score 0.)
    summary.scoresAtEnd = { pipeProducer: video.pipeProducer.score,
      consumer: videoConsumer.score };
    summary.logs = { sender: senderLog.slice(-300), receiver: receiver.log().slice(-600) };

    assert(!summary.died, 'a worker died: ' + summary.died);
    assert(framesSent >= SECONDS * 30 * 0.9, `ffmpeg sent ${framesSent} frames`);
    assert(nftB.dropped > 0, 'nothing dropped on the pipe A->B');
    // B->A carries RTCP only (about 50 datagrams): drops there are few or none.
    assert(nftA.pipe_in > 20, 'no RTCP crossed the pipe B->A');
    assert(nftB.rtx_in > 0, 'no RTX packet crossed the pipe A->B');
    assert(pcStats.nackCount > 0, 'the pipe consumer got no NACK');
    assert(decoded.video >= 0.95 * framesSent,
      `decoded ${decoded.video} of ${framesSent} video frames (< 95 %)`);
    const mid = summary.scoresMidStream;
    assert(mid.pipeProducer[0].score > 0 && mid.consumer.producerScore > 0,
      'scores across the pipe mid-stream ' + JSON.stringify(mid));
    assert(kf.pipeProducerOut, 'no PLI/FIR out of the pipe producer in B');
    assert(kf.pipeConsumerIn, 'no PLI/FIR into the pipe consumer in A');
    assert(kf.producerOut, 'no PLI/FIR from worker A to the sender');
    assert(kf.wirePliToSender > 0, 'no PLI datagram left worker A towards the sender');
    summary.ok = true;
  } finally {
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch (error) { /* gone */ }
    }
    await c.sleep(200);
    tearDownNamespaces();
    if (!process.env.SFU_TEST_KEEP_MEDIA) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

c.runMain('pipe-cascade', main, 90000, tearDownNamespaces);
