'use strict';
// router.pipeToRouter() between two workers of our binary, driven by the
// mediasoup 3.8.4 Node host, with real media: ffmpeg sends VP8 and Opus to
// PlainTransports (comedia) of router1 on worker1; both producers are piped
// to router2 on worker2 (no RTX) and the video producer to router3 on
// worker2 (enableRtx); consumers on router2 and router3 send to local UDP
// receivers. Checks, across the pipe:
//   - RTP reaches the receivers with each consumer's own SSRC;
//   - producer.pause() / resume() on worker1 reach the pipe producers on
//     worker2 and the consumers there (producerpause / producerresume), the
//     receiver's stream stops and starts again; a producer paused before
//     piping gives a paused pipe producer;
//   - consumer.requestKeyFrame() on router2 becomes a PLI out of the pipe
//     producer (worker2), a PLI into the pipe consumer (worker1) and a PLI
//     out of the original producer to ffmpeg (trace events on each);
//   - getStats() and scores of the pipe producer, the pipe consumer and the
//     consumers, and the RTX codec and SSRC of an enableRtx pipe;
//   - closing the producer closes the consumers on worker2;
//   - a DataProducer on a DirectTransport of router1 piped to router2 (SCTP
//     over the pipe transports): every message reaches a DataConsumer on a
//     DirectTransport of router2, in order, strings and binary.
// Prints one JSON summary line; exits 0 when everything held.
//
//   node pipe-workers.js          (SFU_WORKER_BIN, SFU_MEDIASOUP_DIR)

const os = require('os');
const path = require('path');
const c = require('./pipe_common');

const { assert } = c;
process.env.MEDIASOUP_WORKER_BIN = c.workerBin();
const mediasoup = c.loadMediasoup();

const VIDEO_SSRC = 22220001;
const AUDIO_SSRC = 11110001;
const SECONDS = 14;

async function consumeTo(router, transport, producerId, capabilities, receiver) {
  const consumer = await transport.consume({ producerId, rtpCapabilities: capabilities });
  return { consumer, ssrc: consumer.rtpParameters.encodings[0].ssrc, receiver };
}

async function plainTo(router, receiver) {
  const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true,
    comedia: false });
  await transport.connect({ ip: '127.0.0.1', port: receiver.port });
  return transport;
}

async function main(summary) {
  const cleanup = [];
  const tmp = require('fs').mkdtempSync(path.join(os.tmpdir(), 'sfu-pipe-workers-'));
  try {
    const worker1 = await mediasoup.createWorker({ logLevel: 'warn' });
    const worker2 = await mediasoup.createWorker({ logLevel: 'warn' });
    cleanup.push(() => c.closeWorker(worker1), () => c.closeWorker(worker2));
    for (const w of [worker1, worker2]) {
      w.on('died', (error) => { summary.died = String(error); });
    }
    assert.notStrictEqual(worker1.pid, worker2.pid);
    const router1 = await worker1.createRouter({ mediaCodecs: c.MEDIA_CODECS });
    const router2 = await worker2.createRouter({ mediaCodecs: c.MEDIA_CODECS });
    const router3 = await worker2.createRouter({ mediaCodecs: c.MEDIA_CODECS });

    // ----- ingest on worker1 ------------------------------------------------
    const ingest = {};
    for (const kind of ['video', 'audio']) {
      ingest[kind] = await router1.createPlainTransport({ listenIp: '127.0.0.1',
        rtcpMux: false, comedia: true });
    }
    const videoProducer = await ingest.video.produce({ kind: 'video',
      rtpParameters: c.videoRtpParameters(VIDEO_SSRC) });
    const audioProducer = await ingest.audio.produce({ kind: 'audio',
      rtpParameters: c.audioRtpParameters(AUDIO_SSRC) });

    // ----- pipes to worker2 -------------------------------------------------
    const videoPipe = await router1.pipeToRouter({ producerId: videoProducer.id, router: router2 });
    const audioPipe = await router1.pipeToRouter({ producerId: audioProducer.id, router: router2 });
    assert.strictEqual(audioPipe.pipeProducer.paused, false);
    // A producer paused before piping: the pipe producer starts paused (and
    // the one piped before pauses).
    const audioPipePaused = c.once(audioPipe.pipeConsumer, 'producerpause');
    await audioProducer.pause();
    await audioPipePaused;
    const rtxVideoPipe = await router1.pipeToRouter({ producerId: videoProducer.id,
      router: router3, enableRtx: true });
    const rtxAudioPipe = await router1.pipeToRouter({ producerId: audioProducer.id,
      router: router3, enableRtx: true });
    assert.strictEqual(rtxAudioPipe.pipeProducer.paused, true,
      'pipe producer of a paused producer not paused');
    assert.strictEqual((await rtxAudioPipe.pipeProducer.dump()).paused, true);
    assert.strictEqual(rtxAudioPipe.pipeConsumer.producerPaused, true);
    summary.pausedBeforePipe = { pipeProducerPaused: rtxAudioPipe.pipeProducer.paused };

    // The pipe producers are on worker2, with the ids of the originals.
    assert.strictEqual(videoPipe.pipeProducer.id, videoProducer.id);
    assert.strictEqual(videoPipe.pipeProducer.type, 'simple');
    assert.strictEqual(videoPipe.pipeConsumer.type, 'pipe');
    // enableRtx: an RTX codec and an RTX SSRC for the pipe, NACK feedback.
    const rtxParams = rtxVideoPipe.pipeConsumer.rtpParameters;
    assert(rtxParams.codecs.some((codec) => /\/rtx$/i.test(codec.mimeType)),
      'no RTX codec on an enableRtx pipe: ' + JSON.stringify(rtxParams.codecs));
    assert(rtxParams.encodings[0].rtx && rtxParams.encodings[0].rtx.ssrc,
      'no RTX ssrc on an enableRtx pipe');
    assert(rtxParams.codecs[0].rtcpFeedback.some((fb) => fb.type === 'nack' && !fb.parameter));
    const plainParams = videoPipe.pipeConsumer.rtpParameters;
    assert(!plainParams.codecs.some((codec) => /\/rtx$/i.test(codec.mimeType)));
    assert(!plainParams.codecs[0].rtcpFeedback.some((fb) => fb.type === 'nack' && !fb.parameter));
    const pipeDump = await rtxVideoPipe.pipeProducer.dump();
    summary.rtxPipe = { codecs: rtxParams.codecs.map((codec) => codec.mimeType),
      ssrc: rtxParams.encodings[0].ssrc, rtxSsrc: rtxParams.encodings[0].rtx.ssrc,
      pipeProducerRtpStreams: (pipeDump.rtpStreams || []).length };

    // ----- consumers on worker2 -------------------------------------------
    const receivers = { r2: new c.RtpReceiver(), r3: new c.RtpReceiver() };
    for (const r of Object.values(receivers)) {
      await r.bind();
      cleanup.push(() => r.close());
    }
    const t2 = await plainTo(router2, receivers.r2);
    const t3 = await plainTo(router3, receivers.r3);
    const v2 = await consumeTo(router2, t2, videoProducer.id, c.plainCapabilities(), receivers.r2);
    const a2 = await consumeTo(router2, t2, audioProducer.id, c.plainCapabilities(), receivers.r2);
    const v3 = await consumeTo(router3, t3, videoProducer.id,
      c.plainCapabilities({ nack: true }), receivers.r3);
    const a3 = await consumeTo(router3, t3, audioProducer.id, c.plainCapabilities(), receivers.r3);
    assert.strictEqual(a3.consumer.producerPaused, true);

    // ----- the sender -------------------------------------------------------
    const ffmpeg = new c.Child('ffmpeg sender', ['ffmpeg'].concat(c.ffmpegSenderArgs({
      ip: '127.0.0.1',
      videoPort: ingest.video.tuple.localPort, videoRtcpPort: ingest.video.rtcpTuple
        ? ingest.video.rtcpTuple.localPort : ingest.video.tuple.localPort,
      videoSsrc: VIDEO_SSRC,
      audioPort: ingest.audio.tuple.localPort, audioRtcpPort: ingest.audio.rtcpTuple
        ? ingest.audio.rtcpTuple.localPort : ingest.audio.tuple.localPort,
      audioSsrc: AUDIO_SSRC, seconds: SECONDS })), path.join(tmp, 'ffmpeg-send.log'));
    cleanup.push(() => ffmpeg.stop());

    await c.waitFor('video RTP at the router2 receiver with the consumer ssrc',
      () => receivers.r2.packets(v2.ssrc) > 50, 8000);
    await c.waitFor('video RTP at the router3 receiver (enableRtx pipe)',
      () => receivers.r3.packets(v3.ssrc) > 50);
    assert.strictEqual(receivers.r3.packets(a3.ssrc), 0, 'audio of a paused producer arrived');
    assert.strictEqual(receivers.r2.packets(a2.ssrc), 0, 'audio of a paused producer arrived');

    // Resume the audio paused before piping: router3's consumer hears it.
    const resumed3 = c.once(a3.consumer, 'producerresume');
    await audioProducer.resume();
    await resumed3;
    await c.waitFor('audio at router3 after resume', () => receivers.r3.packets(a3.ssrc) > 10);
    await c.waitFor('audio at router2 after resume', () => receivers.r2.packets(a2.ssrc) > 10);

    const unknown = [...receivers.r2.bySsrc.keys()].filter((s) => s !== v2.ssrc && s !== a2.ssrc);
    assert.deepStrictEqual(unknown, [], 'RTP with an SSRC no consumer announced');

    // ----- pause and resume across the pipe ---------------------------------
    const paused = c.once(v2.consumer, 'producerpause');
    const pausedRtx = c.once(v3.consumer, 'producerpause');
    const pipePaused = c.once(videoPipe.pipeConsumer, 'producerpause');
    await videoProducer.pause();
    await Promise.all([paused, pausedRtx, pipePaused]);
    // The host marks a producer paused when worker2 answers producer.pause,
    // which it does after notifying the consumers: wait for the answer.
    await c.waitFor('pipe producers paused', () => videoPipe.pipeProducer.paused &&
      rtxVideoPipe.pipeProducer.paused, 2000);
    assert.strictEqual(v2.consumer.producerPaused, true);
    const pipeProducerDump = await videoPipe.pipeProducer.dump();
    assert.strictEqual(pipeProducerDump.paused, true, 'worker2 pipe producer dump not paused');
    await c.sleep(300);
    const atPause = receivers.r2.packets(v2.ssrc);
    await c.sleep(1000);
    const whilePaused = receivers.r2.packets(v2.ssrc) - atPause;
    assert.strictEqual(whilePaused, 0, `${whilePaused} video packets while paused`);
    const audioWhileVideoPaused = receivers.r2.packets(a2.ssrc);
    const resumed = c.once(v2.consumer, 'producerresume');
    await videoProducer.resume();
    await resumed;
    await c.waitFor('pipe producer resumed', () => !videoPipe.pipeProducer.paused, 2000);
    assert.strictEqual(v2.consumer.producerPaused, false);
    // The consumer asks for a key frame on resume; ffmpeg sends one every
    // second anyway.
    await c.waitFor('video after resume', () => receivers.r2.packets(v2.ssrc) > atPause + 30,
      4000);
    assert(receivers.r2.packets(a2.ssrc) > audioWhileVideoPaused, 'audio stopped too');
    summary.pause = { videoPacketsWhilePaused: whilePaused,
      afterResume: receivers.r2.packets(v2.ssrc) - atPause };

    // ----- key frame request from router2 to the sender ---------------------
    await c.sleep(500);
    const traces = {
      pipeProducer: await c.recordTraces(videoPipe.pipeProducer, ['pli', 'fir']),
      pipeConsumer: await c.recordTraces(videoPipe.pipeConsumer, ['pli', 'fir']),
      producer: await c.recordTraces(videoProducer, ['pli', 'fir'])
    };
    await c.sleep(300);
    for (const list of Object.values(traces)) list.length = 0;
    const requestedAt = Date.now();
    await v2.consumer.requestKeyFrame();
    await c.waitFor('a PLI or FIR out of worker1 to the sender after requestKeyFrame on router2',
      () => traces.producer.some((t) => t.direction === 'out'), 3000);
    const first = (list, direction) => {
      const t = list.find((e) => e.direction === direction);
      return t ? { type: t.type, ms: t.at - requestedAt } : null;
    };
    summary.keyFrameRequest = {
      pipeProducerOut: first(traces.pipeProducer, 'out'),
      pipeConsumerIn: first(traces.pipeConsumer, 'in'),
      producerOut: first(traces.producer, 'out')
    };
    assert(summary.keyFrameRequest.pipeProducerOut, 'no PLI/FIR out of the pipe producer');
    assert(summary.keyFrameRequest.pipeConsumerIn, 'no PLI/FIR into the pipe consumer');

    // ----- stats and scores -------------------------------------------------
    await c.sleep(1500);
    const pipeProducerStats = await videoPipe.pipeProducer.getStats();
    const inbound = c.statsOf(pipeProducerStats, 'inbound-rtp');
    assert.strictEqual(inbound.length, 1, JSON.stringify(pipeProducerStats));
    assert(inbound[0].packetCount > 100, 'pipe producer packetCount ' + inbound[0].packetCount);
    assert.strictEqual(inbound[0].ssrc, plainParams.encodings[0].ssrc);
    const pipeConsumerStats = await videoPipe.pipeConsumer.getStats();
    const outbound = c.statsOf(pipeConsumerStats, 'outbound-rtp');
    assert.strictEqual(outbound.length, 1, JSON.stringify(pipeConsumerStats));
    assert(outbound[0].packetCount >= inbound[0].packetCount,
      'the pipe consumer sent fewer packets than the pipe producer got');
    const producerStats = c.statsOf(await videoProducer.getStats(), 'inbound-rtp')[0];
    const consumerStats = c.statsOf(await v2.consumer.getStats(), 'outbound-rtp')[0];
    assert(consumerStats.packetCount > 100);
    assert(videoPipe.pipeProducer.score.length === 1 && videoPipe.pipeProducer.score[0].score > 0,
      'pipe producer score ' + JSON.stringify(videoPipe.pipeProducer.score));
    assert(v2.consumer.score.producerScore > 0,
      'consumer producerScore ' + JSON.stringify(v2.consumer.score));
    assert.strictEqual(videoPipe.pipeConsumer.score.score, 10);
    summary.stats = {
      producerPackets: producerStats.packetCount,
      pipeConsumerPacketsSent: outbound[0].packetCount,
      pipeProducerPackets: inbound[0].packetCount,
      pipeProducerBytes: inbound[0].byteCount,
      pipeProducerLost: inbound[0].packetsLost,
      consumerPacketsSent: consumerStats.packetCount,
      receiverVideoPackets: receivers.r2.packets(v2.ssrc),
      receiverAudioPackets: receivers.r2.packets(a2.ssrc),
      receiverRtxPipeVideoPackets: receivers.r3.packets(v3.ssrc)
    };
    summary.scores = {
      producer: videoProducer.score,
      pipeConsumer: videoPipe.pipeConsumer.score,
      pipeProducer: videoPipe.pipeProducer.score,
      consumer: v2.consumer.score
    };

    // ----- data: DirectTransport -> pipe (SCTP) -> DirectTransport ----------
    const direct1 = await router1.createDirectTransport();
    const direct2 = await router2.createDirectTransport();
    const dataProducer = await direct1.produceData({ label: 'chat', protocol: 'json' });
    const dataPipe = await router1.pipeToRouter({ dataProducerId: dataProducer.id,
      router: router2 });
    assert.strictEqual(dataPipe.pipeDataProducer.id, dataProducer.id);
    assert.strictEqual(dataPipe.pipeDataConsumer.type, 'sctp');
    const dataConsumer = await direct2.consumeData({ dataProducerId: dataProducer.id });
    assert.strictEqual(dataConsumer.label, 'chat');
    assert.strictEqual(dataConsumer.protocol, 'json');
    const received = [];
    dataConsumer.on('message', (message, ppid) => received.push({ message, ppid }));
    const COUNT = 200;
    const sent = [];
    for (let i = 0; i < COUNT; i++) {
      if (i % 4 === 3) {
        const buf = Buffer.alloc(100 + (i * 37) % 3000, i & 0xff);
        buf.writeUInt32BE(i, 0);
        sent.push(buf);
        dataProducer.send(buf);
      } else {
        const text = JSON.stringify({ i, pad: 'x'.repeat((i * 13) % 500) });
        sent.push(text);
        dataProducer.send(text);
      }
    }
    await c.waitFor(`${COUNT} messages at router2's DataConsumer`,
      () => received.length >= COUNT, 10000);
    await c.sleep(200);
    assert.strictEqual(received.length, COUNT, 'more messages than were sent');
    for (let i = 0; i < COUNT; i++) {
      const got = received[i];
      if (typeof sent[i] === 'string') {
        assert.strictEqual(got.ppid, 51, `message ${i}: ppid ${got.ppid}`);
        assert.strictEqual(got.message.toString('utf8'), sent[i], `message ${i} differs`);
      } else {
        assert.strictEqual(got.ppid, 53, `message ${i}: ppid ${got.ppid}`);
        assert(Buffer.compare(got.message, sent[i]) === 0, `binary message ${i} differs`);
      }
    }
    const dcStats = (await dataPipe.pipeDataConsumer.getStats())[0];
    const dpStats = (await dataPipe.pipeDataProducer.getStats())[0];
    summary.data = { sent: COUNT, received: received.length, inOrder: true,
      pipeDataConsumerMessagesSent: dcStats.messagesSent,
      pipeDataProducerMessagesReceived: dpStats.messagesReceived };

    // Closing the original DataProducer closes the pipe DataProducer too.
    const dataClosed = c.once(dataConsumer, 'dataproducerclose');
    dataProducer.close();
    await dataClosed;

    // Closing the original producer closes the pipe producers on worker2
    // and the consumers there.
    const closed2 = c.once(v2.consumer, 'producerclose');
    const closed3 = c.once(v3.consumer, 'producerclose');
    videoProducer.close();
    await Promise.all([closed2, closed3]);
    await c.waitFor('pipe producer closed', () => videoPipe.pipeProducer.closed, 2000);
    summary.producerCloseCarried = true;

    // ----- end -----------------------------------------------------------------
    await ffmpeg.stop();
    assert(!summary.died, 'a worker died: ' + summary.died);
    summary.ok = true;
  } finally {
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch (error) { /* already closed */ }
    }
    if (!process.env.SFU_TEST_KEEP_MEDIA) {
      require('fs').rmSync(tmp, { recursive: true, force: true });
    }
  }
}

c.runMain('pipe-workers', main, 60000);
