'use strict';
// Shared pieces of the pipe transport scripts (pipe-workers.js,
// pipe-cascade.js): the mediasoup 3.8.4 host package, media codecs, an
// ffmpeg VP8 + Opus sender, a UDP receiver that counts RTP per SSRC, and
// small waiting helpers. Node's standard library only, plus the host.

const assert = require('assert');
const childProcess = require('child_process');
const dgram = require('dgram');
const fs = require('fs');
const path = require('path');

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
// Slower workers (sanitizers) get more time: SFU_TEST_TIMEOUT_SCALE=N.
const SCALE = Math.max(1, Number(process.env.SFU_TEST_TIMEOUT_SCALE) || 1);

// The host package: SFU_MEDIASOUP_DIR, else the copy install-host.sh puts
// in .cache/.
function loadMediasoup() {
  const dir = process.env.SFU_MEDIASOUP_DIR ||
    path.join(REPO_ROOT, '.cache', 'mediasoup-3.8.4');
  if (!fs.existsSync(path.join(dir, 'lib', 'index.js'))) {
    throw new Error(`mediasoup 3.8.4 host not found in ${dir} ` +
      '(test/integration/host/install-host.sh installs it)');
  }
  return require(dir);
}

function workerBin() {
  return process.env.SFU_WORKER_BIN || path.join(REPO_ROOT, 'build', 'sfu-worker');
}

const MEDIA_CODECS = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }
];

const VIDEO_PT = 101;
const AUDIO_PT = 100;

// What ffmpeg sends: one VP8 stream (NACK, PLI, FIR negotiated; ffmpeg
// itself answers none of them) and one Opus stream, no header extensions
// (Debian's ffmpeg 5.1 sends none).
function videoRtpParameters(ssrc) {
  return {
    codecs: [{
      mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000,
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' }]
    }],
    encodings: [{ ssrc }],
    rtcp: { cname: 'ffmpeg-sender' }
  };
}

function audioRtpParameters(ssrc) {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
    encodings: [{ ssrc }],
    rtcp: { cname: 'ffmpeg-sender' }
  };
}

// Receiving capabilities of a peer that knows VP8 and Opus and nothing else:
// no RTX, no header extensions (ffmpeg as a receiver chokes on RTX and on
// probation packets), PLI and FIR but no NACK for a receiver that asks for
// nothing again, NACK too when `nack` is set.
function plainCapabilities({ nack = false } = {}) {
  const fb = [{ type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];
  if (nack) fb.unshift({ type: 'nack' });
  return {
    codecs: [
      { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: AUDIO_PT,
        clockRate: 48000, channels: 2, rtcpFeedback: [] },
      { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: VIDEO_PT,
        clockRate: 90000, rtcpFeedback: fb }
    ],
    headerExtensions: []
  };
}

// ffmpeg arguments sending a `seconds` long test pattern (VP8, 30 fps, a
// key frame each second) and a tone (Opus) in real time, each to its own
// port with RTCP to the next port (ffmpeg sends RTCP from a socket of its
// own, so the worker's transports run with rtcpMux false).
function ffmpegSenderArgs({ ip, videoPort, videoRtcpPort, videoSsrc, audioPort, audioRtcpPort,
  audioSsrc, seconds }) {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-stats',
    '-re', '-f', 'lavfi', '-i', `testsrc=size=320x240:rate=30:duration=${seconds}`];
  if (audioPort) {
    args.push('-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`);
  }
  args.push('-map', '0:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8',
    '-lag-in-frames', '0', '-g', '30', '-b:v', '500k', '-pix_fmt', 'yuv420p',
    '-ssrc', String(videoSsrc), '-payload_type', String(VIDEO_PT),
    '-f', 'rtp', `rtp://${ip}:${videoPort}?rtcpport=${videoRtcpPort}&pkt_size=1200`);
  if (audioPort) {
    args.push('-map', '1:a', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k',
      '-ssrc', String(audioSsrc), '-payload_type', String(AUDIO_PT),
      '-f', 'rtp', `rtp://${ip}:${audioPort}?rtcpport=${audioRtcpPort}&pkt_size=1200`);
  }
  return args;
}

// Every Child still running, for killAll() on a time-out.
const children = new Set();

// A child process with its stdout and stderr kept in a log file.
class Child {
  constructor(name, argv, logPath) {
    this.name = name;
    this.logPath = logPath;
    this.logFd = fs.openSync(logPath, 'w');
    this.proc = childProcess.spawn(argv[0], argv.slice(1),
      { stdio: ['ignore', this.logFd, this.logFd] });
    this.exitCode = undefined;
    children.add(this);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code === null ? signal : code;
        children.delete(this);
        resolve(this.exitCode);
      });
    });
  }

  running() {
    return this.exitCode === undefined;
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch (error) {
      return '';
    }
  }

  async wait(ms) {
    return Promise.race([this.exited, sleep(ms).then(() => undefined)]);
  }

  // SIGINT, a second one later (a receiving ffmpeg blocked on a silent
  // socket ignores the first), SIGKILL at the end.
  async stop(graceMs = 3000) {
    for (const [signal, ms] of [['SIGINT', 400], ['SIGINT', graceMs], ['SIGKILL', 2000]]) {
      if (!this.running()) break;
      try {
        this.proc.kill(signal);
      } catch (error) { /* gone */ }
      await this.wait(ms);
    }
    try {
      fs.closeSync(this.logFd);
    } catch (error) { /* closed */ }
    return this.exitCode;
  }
}

// A UDP socket standing for a receiving peer: counts RTP packets per SSRC
// (and their arrival times) and RTCP packets.
class RtpReceiver {
  constructor(ip = '127.0.0.1') {
    this.ip = ip;
    this.socket = dgram.createSocket('udp4');
    this.bySsrc = new Map();
    this.rtcp = 0;
    this.socket.on('message', (msg) => this._onMessage(msg));
  }

  async bind() {
    await new Promise((resolve) => this.socket.bind(0, this.ip, resolve));
    this.port = this.socket.address().port;
    return this.port;
  }

  _onMessage(msg) {
    if (msg.length < 12 || (msg[0] >> 6) !== 2) return;
    if (msg[1] >= 192 && msg[1] <= 223) {
      this.rtcp++;
      return;
    }
    const ssrc = msg.readUInt32BE(8);
    let entry = this.bySsrc.get(ssrc);
    if (!entry) {
      entry = { packets: 0, last: 0 };
      this.bySsrc.set(ssrc, entry);
    }
    entry.packets++;
    entry.last = Date.now();
  }

  packets(ssrc) {
    const entry = this.bySsrc.get(ssrc);
    return entry ? entry.packets : 0;
  }

  close() {
    this.socket.close();
  }
}

// Closes a worker and waits until its process is gone, so that whatever it
// prints on its way out (a sanitizer's leak report) reaches the host's log
// (DEBUG=mediasoup:ERROR:Worker prints the worker's stderr lines).
async function closeWorker(worker) {
  worker.close();
  const deadline = Date.now() + 5000 * SCALE;
  while (Date.now() < deadline) {
    try {
      process.kill(worker.pid, 0);
    } catch (error) {
      break;
    }
    await sleep(50);
  }
  await sleep(100);
}

function killAll() {
  for (const child of children) {
    try {
      child.proc.kill('SIGKILL');
    } catch (error) { /* gone */ }
  }
}

// Runs main(summary) under a time limit and prints the summary as one JSON
// line (with the error, if any); exits 0 only when main returned and
// summary.ok was set. onExit runs before every exit.
function runMain(name, main, limitMs, onExit = () => {}) {
  limitMs *= SCALE;
  const summary = { ok: false };
  const finish = (code) => {
    killAll();
    try {
      onExit();
    } catch (error) { /* best effort */ }
    console.log(JSON.stringify(summary));
    process.exit(code);
  };
  const timer = setTimeout(() => {
    summary.error = `${name}: timed out after ${limitMs} ms`;
    finish(2);
  }, limitMs);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      summary.error = `${name}: ${signal}`;
      finish(130);
    });
  }
  main(summary).then(() => {
    clearTimeout(timer);
    finish(summary.ok ? 0 : 1);
  }, (error) => {
    clearTimeout(timer);
    summary.ok = false;
    summary.error = String(error && error.stack || error);
    console.error(`${name}: FAILED:`, summary.error);
    finish(1);
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `check` until it returns a truthy value or `ms` pass; throws with
// `what` then.
async function waitFor(what, check, ms = 5000, every = 50) {
  ms *= SCALE;
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

// Resolves with the event's arguments when `emitter` emits `event`; rejects
// after `ms`.
function once(emitter, event, ms = 5000) {
  ms *= SCALE;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, handler);
      reject(new Error(`no "${event}" event within ${ms} ms`));
    }, ms);
    function handler(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, handler);
  });
}

// Records the trace events of a producer or consumer of the given types.
async function recordTraces(entity, types) {
  const events = [];
  entity.on('trace', (trace) => events.push({ ...trace, at: Date.now() }));
  await entity.enableTraceEvent(types);
  return events;
}

function statsOf(stats, type) {
  return stats.filter((s) => s.type === type);
}

module.exports = {
  assert,
  closeWorker,
  SCALE,
  AUDIO_PT,
  Child,
  MEDIA_CODECS,
  REPO_ROOT,
  RtpReceiver,
  VIDEO_PT,
  audioRtpParameters,
  ffmpegSenderArgs,
  loadMediasoup,
  once,
  plainCapabilities,
  recordTraces,
  runMain,
  killAll,
  sleep,
  statsOf,
  videoRtpParameters,
  waitFor,
  workerBin
};
