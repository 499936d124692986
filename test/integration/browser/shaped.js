'use strict';
// Bandwidth estimation and allocation over a real shaped link.
//
// A headless Chromium sends the fake camera (1280x720) through the SFU, as
// VP8 in three simulcast streams (about 150/500/1500 kbit/s) or as VP9 with
// three spatial and three temporal layers (L3T3_KEY, an SVC consumer). A
// second headless Chromium receives it from inside a network namespace of
// its own (a veth pair with private addresses), whose downlink is a tc
// queue on the host side of the veth (tbf, or htb: see QUEUE_MS below). Timeline of a run:
//   5 Mbit/s   until the consumer forwards the top spatial layer;
//   600 kbit/s for HOLD_MS: the consumer must settle on a layer that fits
//              within 10 s (its last layer change), and then receive with
//              under 2% loss and no frame gap over 1 s;
//   5 Mbit/s   the consumer must be back on the top spatial layer in 15 s.
// Measured from the host (the consumer's `layerschange` events, with their
// times; the transport's availableOutgoingBitrate) and from the receiving
// browser (inbound-rtp sampled every SAMPLE_MS: packets lost and received,
// frames decoded, Chromium's freezeCount/totalFreezesDuration, and the
// longest gap between two samples where framesDecoded grew).
//
// Usage (as root: it creates the namespace, the veth pair and the qdisc,
// and removes them on exit or interrupt):
//   shaped.sh [vp8] [vp9]            our worker; exits 1 when a run misses a criterion
//   shaped.sh --compare [vp8] [vp9]  the same runs with mediasoup 3.8.4's worker
//                                    too, side by side (its figures are reported only)
//   --runs N                         each run N times
//   --trace                          print the transport's "bwe" trace events
//   --qdisc tbf|htb                  the shaper (default tbf; see QUEUE_MS below)
//   --reference PATH                 mediasoup's worker (default
//                                    ~/.cache/mediasoup-3.8.4-worker/mediasoup-worker)
// Each run is a child process of its own (the host reads the worker binary
// once, at load): `node shaped.js --child vp8` with SFU_WORKER_BIN set,
// which prints its figures as one `RESULT {...}` line.

const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '../../..');
// Both browsers are headless and in the background: nothing may throttle
// their timers, renderers or decoders.
const UNTHROTTLED = [
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

// The criteria.
const LIMIT_KBPS = 600;
const HIGH_KBPS = 5000;
const SETTLE_MAX_S = 10;
const LOSS_MAX = 0.02;
const FREEZE_MAX_MS = 1000;
const BACK_TO_TOP_MAX_S = 15;
// How long the 600 kbit/s limit holds: the settling time allowed plus 15 s
// on the settled layer.
const HOLD_MS = 25000;
// The shaper, on the host side of the veth (the receiver's downlink). Its
// queue holds up to QUEUE_MS of traffic at the rate (the delay a
// delay-based estimator sees; drops past it).
//  - tbf (default): a token bucket of BURST_TBF bytes drained at most at
//    PEAK_FACTOR times the rate one MTU at a time. Its buckets cannot be
//    smaller than a packet, so a probe cluster of small packets passes a
//    bucket's worth at once and looks faster than the link to a probe
//    estimator (our probes are therefore few large packets).
//  - htb (--qdisc htb): a class at the rate with a bucket of BURST_HTB
//    bytes, under a byte fifo: each packet waits for its own tokens, as on
//    a link of that speed, small packets included.
const QUEUE_MS = 200;
const BURST_HTB = 300;
const BURST_TBF = 2000;
const PEAK_FACTOR = 1.05;
const MTU_BYTES = 1600;
const SAMPLE_MS = 100;
// Generous set-up waits for a loaded 2-core machine.
const START_MS = 30000;
const TOP_AT_START_MS = 60000;
const BACK_WAIT_MS = 30000;
// The top layer: the full-size stream (spatial layer) at the full frame rate
// (temporal layer), both VP8's simulcast streams and VP9's L3T3 having three
// temporal layers.
const TOP = { spatialLayer: 2, temporalLayer: 2 };
const isTop = (l) => Boolean(l && l.spatialLayer === TOP.spatialLayer && l.temporalLayer === TOP.temporalLayer);
const layerName = (l) => (l ? `${l.spatialLayer}/${l.temporalLayer}` : 'none');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ----- the namespace and the shaped veth ------------------------------------

function sh(cmd, args) {
  return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

// A namespace, a veth pair and a /24 of 10.77.0.0/16 no other interface of
// the machine uses; `shape(kbps)` sets the shaper on the host side's egress
// (the namespace's downlink); `remove()` undoes it all (also at exit).
function createShapedLink(qdisc) {
  const id = process.pid;
  const ns = `sfu-shaped-${id}`;
  const hostIf = `shp${id}h`.slice(0, 15);
  const nsIf = `shp${id}n`.slice(0, 15);
  const used = sh('ip', ['-o', '-4', 'addr', 'show']);
  let subnet = null;
  for (let i = 0; i < 254 && subnet === null; i++) {
    const x = ((id + i) % 254) + 1;
    if (!used.includes(` 10.77.${x}.`)) subnet = x;
  }
  if (subnet === null) throw new Error('no free /24 in 10.77.0.0/16');
  const link = {
    ns,
    hostIf,
    hostIp: `10.77.${subnet}.1`,
    nsIp: `10.77.${subnet}.2`,
    removed: false,
    shape(kbps) {
      const dev = ['dev', hostIf];
      if (qdisc === 'tbf') {
        sh('tc', ['qdisc', 'replace', ...dev, 'root', 'tbf', 'rate', `${kbps}kbit`, 'burst', `${BURST_TBF}`,
          'latency', `${QUEUE_MS}ms`, 'peakrate', `${Math.round(kbps * PEAK_FACTOR)}kbit`, 'mtu', `${MTU_BYTES}`]);
        return;
      }
      // Changed in place once there, so that what is queued stays queued.
      const verb = link.htb ? 'change' : 'replace';
      if (!link.htb) sh('tc', ['qdisc', 'replace', ...dev, 'root', 'handle', '1:', 'htb', 'default', '1']);
      const burst = [`${BURST_HTB}b`];
      sh('tc', ['class', verb, ...dev, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', `${kbps}kbit`, 'ceil',
        `${kbps}kbit`, 'burst', ...burst, 'cburst', ...burst]);
      const limit = Math.max(Math.round((kbps * 1000 * QUEUE_MS) / 8000), 2 * MTU_BYTES);
      sh('tc', ['qdisc', verb, ...dev, 'parent', '1:1', 'handle', '10:', 'bfifo', 'limit', `${limit}`]);
      link.htb = true;
    },
    remove() {
      if (link.removed) return;
      link.removed = true;
      for (const args of [['link', 'del', hostIf], ['netns', 'del', ns]]) {
        try {
          sh('ip', args);
        } catch {
          // Already gone (deleting one end of a veth deletes both).
        }
      }
    },
  };
  process.on('exit', () => link.remove());
  sh('ip', ['netns', 'add', ns]);
  try {
    sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
    sh('ip', ['link', 'set', nsIf, 'netns', ns]);
    sh('ip', ['addr', 'add', `${link.hostIp}/24`, 'dev', hostIf]);
    sh('ip', ['link', 'set', hostIf, 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', `${link.nsIp}/24`, 'dev', nsIf]);
    sh('ip', ['-n', ns, 'link', 'set', nsIf, 'up']);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    link.remove();
    throw error;
  }
  return link;
}

// ----- one run (child process) ----------------------------------------------

// Cleanups of the run, newest first, run on a normal end and on a signal.
const cleanups = [];
async function runCleanups() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch (error) {
      console.log(`  cleanup: ${error.message}`);
    }
  }
}

// `origin`: the pages' origin, a veth address and not localhost, so not a
// secure context by default (no media devices; mediasoup-client refuses).
async function launchBrowser(executablePath, label, origin) {
  const { launchChromium, watchPage } = require('./chromium');
  const context = await launchChromium({
    executablePath,
    label: `shaped-${label}`,
    extraArgs: [...UNTHROTTLED, `--unsafely-treat-insecure-origin-as-secure=${origin}`],
    timeout: START_MS,
    cleanups,
  });
  return watchPage(context.pages()[0] || (await context.newPage()), label);
}

// Polls `check` until it returns something truthy or `ms` passed.
async function waitFor(ms, check, everyMs = 200) {
  for (const deadline = Date.now() + ms; ; ) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await sleep(everyMs);
  }
}

async function runOnce(codec, qdisc) {
  const { startServer } = require('./server');
  const link = createShapedLink(qdisc);
  cleanups.push(() => link.remove());
  link.shape(HIGH_KBPS);

  const server = await startServer({
    enableUdp: true,
    enableTcp: false,
    httpHost: link.hostIp,
    listenIps: { send: '127.0.0.1', recv: link.hostIp },
    mediaCodecs: [
      { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
      { kind: 'video', mimeType: 'video/VP9', clockRate: 90000 },
    ],
    logLevel: process.env.SFU_LOG_LEVEL || 'warn',
    logTags: (process.env.SFU_LOG_TAGS || '').split(/[\s,]+/).filter(Boolean),
  });
  cleanups.push(() => server.close());
  if (!server.router.rtpCapabilities.codecs.some((c) => c.mimeType === 'video/VP9'))
    throw new Error('the router offers no VP9');

  // The receiving browser runs in the namespace: playwright starts this
  // wrapper, which keeps its pipe to the browser (fds 3 and 4) across exec.
  const wrapperDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-shaped-wrapper-'));
  cleanups.push(() => fs.rmSync(wrapperDir, { recursive: true, force: true }));
  const wrapper = path.join(wrapperDir, 'chromium-in-netns');
  const { CHROMIUM } = require('./chromium');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${link.ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });

  const origin = new URL(server.url).origin;
  const sender = await launchBrowser(CHROMIUM, 'sender', origin);
  const receiver = await launchBrowser(wrapper, 'receiver', origin);
  await sender.goto(`${server.url}shaped`, { timeout: START_MS });
  await receiver.goto(`${server.url}shaped`, { timeout: START_MS });
  const producerId = await sender.evaluate((c) => window.shapedSend(c), codec);
  await receiver.evaluate(([id, ms]) => window.shapedRecv(id, ms), [producerId, SAMPLE_MS]);

  const producer = server.producers.get(producerId);
  const consumer = [...server.consumers.values()][0];
  const recvTransport = [...server.transports.values()].find((t) => t.appData.direction === 'recv');
  // When the consumer stops forwarding (layers null): the producer's stream
  // scores then, for the report.
  const stops = [];
  consumer.on('layerschange', (layers) => {
    if (!layers) stops.push({ at: Date.now(), producerScore: producer.score.map((s) => s.score) });
  });
  const expectedType = codec === 'vp9' ? 'svc' : 'simulcast';
  if (consumer.type !== expectedType) throw new Error(`consumer type ${consumer.type}, expected ${expectedType}`);

  const samples = [];
  const takeSamples = async () => samples.push(...(await receiver.evaluate(() => window.shapedTakeSamples())));
  const estimates = [];
  const sampleEstimate = async () => {
    const stats = (await recvTransport.getStats())[0] || {};
    estimates.push({ at: Date.now(), bps: stats.availableOutgoingBitrate, sendBps: stats.sendBitrate });
  };

  // The transport's "bwe" trace events, shown with --trace.
  const bweTrace = [];
  await recvTransport.enableTraceEvent(['bwe']);
  recvTransport.on('trace', (trace) => {
    if (trace.type === 'bwe') bweTrace.push({ at: Date.now(), ...trace.info });
  });
  // Key frames in, key frame requests and NACKs both ways (--trace).
  const mediaTrace = [];
  await producer.enableTraceEvent(['keyframe', 'pli', 'fir', 'nack']);
  await consumer.enableTraceEvent(['keyframe', 'pli', 'fir', 'nack']);
  for (const [who, entity] of [['producer', producer], ['consumer', consumer]])
    entity.on('trace', (trace) =>
      mediaTrace.push({ at: Date.now(), who, type: trace.type, direction: trace.direction }),
    );
  // What the producer's streams carry (bit/s), read on the top layer.
  const streamRates = async () =>
    (await producer.getStats()).map((st) => `${st.rid || st.ssrc}:${Math.round((st.bitrate || 0) / 1000)}`).join(' ');
  const loadAtStart = os.loadavg()[0];

  // Phase 1: 5 Mbit/s until the top layer.
  const t0 = Date.now();
  const atTop = await waitFor(TOP_AT_START_MS, async () => {
    await takeSamples();
    await sampleEstimate();
    return isTop(consumer.currentLayers);
  }, 500);
  const senderStats = await sender.evaluate(() => window.shapedSendStats());
  if (!atTop)
    throw new Error(
      `never on the top layer at ${HIGH_KBPS} kbit/s in ${TOP_AT_START_MS / 1000} s: layers ` +
        `${layerName(consumer.currentLayers)} (changes ${consumer.appData.layers.map(layerName).join(' ')}), ` +
        `estimates kbit/s ${estimates.map((e) => Math.round((e.bps || 0) / 1000)).join(' ')}, sender ` +
        `${JSON.stringify(senderStats)}`,
    );
  const topAfterS = (Date.now() - t0) / 1000;
  // A few seconds on the top layer, for the streams' rates.
  await sleep(2000);
  const ratesAtTop = await streamRates();
  if (codec === 'vp9' && !senderStats.some((s) => s.scalabilityMode === 'L3T3_KEY'))
    throw new Error(`the sender does not send L3T3_KEY: ${JSON.stringify(senderStats)}`);

  // Phase 2: 600 kbit/s.
  link.shape(LIMIT_KBPS);
  const tLimit = Date.now();
  while (Date.now() < tLimit + HOLD_MS) {
    await takeSamples();
    await sampleEstimate();
    await sleep(1000);
  }
  const settledLayers = consumer.currentLayers;
  const topAtHigh = isTop(consumer.currentLayers);

  // Phase 3: 5 Mbit/s again.
  link.shape(HIGH_KBPS);
  const tHigh = Date.now();
  await waitFor(BACK_WAIT_MS, async () => {
    await takeSamples();
    await sampleEstimate();
    return isTop(consumer.currentLayers);
  }, 200);
  await takeSamples();
  const producerStats = await producer.getStats();
  const consumerStats = await consumer.getStats();

  return measure({
    codec,
    samples,
    estimates,
    layerTimes: consumer.appData.layerTimes,
    tLimit,
    tHigh,
    settledLayers,
    topAtHigh,
    topAfterS,
    senderStats,
    producerStreams: producerStats.map((s) => `${s.rid || s.ssrc}:${s.packetCount}`),
    ratesAtTop,
    stops,
    load: `${loadAtStart.toFixed(1)} -> ${os.loadavg()[0].toFixed(1)}`,
    bweTrace,
    workerStats: { producer: producerStats, consumer: consumerStats },
    mediaTrace,
  });
}

// The sample closest to time `at`, at or after it.
function sampleAt(samples, at) {
  return samples.find((s) => s.at >= at) || samples.at(-1);
}

// Longest interval in [from, to] from the window's first sample or a
// sample where framesDecoded grew to the next growth (or the window's end),
// and how many such intervals exceed FREEZE_MAX_MS.
function frameGaps(samples, from, to) {
  const window = samples.filter((s) => s.at >= from && s.at <= to);
  let longest = 0;
  let count = 0;
  const close = (gap) => {
    longest = Math.max(longest, gap);
    if (gap > FREEZE_MAX_MS) count++;
  };
  for (let i = 1, since = window.length ? window[0].at : 0; i <= window.length; i++) {
    if (i === window.length) close(window[i - 1].at - since);
    else if (window[i].framesDecoded > window[i - 1].framesDecoded) {
      close(window[i].at - since);
      since = window[i].at;
    }
  }
  return { longest, count };
}

function delta(samples, from, to) {
  const a = sampleAt(samples, from);
  const b = sampleAt(samples, to);
  const d = (f) => (b[f] || 0) - (a[f] || 0);
  const lost = d('packetsLost');
  const received = d('packetsReceived');
  const seconds = (b.at - a.at) / 1000;
  return {
    seconds,
    lost,
    received,
    loss: received + lost > 0 ? Math.max(0, lost) / (received + lost) : 0,
    frames: d('framesDecoded'),
    kbps: seconds > 0 ? (d('bytesReceived') * 8) / seconds / 1000 : 0,
    freezeCount: d('freezeCount'),
    freezesS: d('totalFreezesDuration'),
    width: b.frameWidth,
  };
}

function measure(r) {
  const limited = r.layerTimes.filter((e) => e.at >= r.tLimit && e.at < r.tHigh);
  const settleAt = limited.length ? limited.at(-1).at : null;
  const firstTop = r.topAtHigh ? { at: r.tHigh } : r.layerTimes.find((e) => e.at >= r.tHigh && isTop(e.layers));
  const held = delta(r.samples, settleAt ?? r.tLimit, r.tHigh);
  const whole = delta(r.samples, r.tLimit, r.tHigh);
  const gaps = frameGaps(r.samples, r.tLimit, r.tHigh);
  const heldEstimates = r.estimates.filter((e) => e.at >= (settleAt ?? r.tLimit) && e.at < r.tHigh && e.bps > 0);
  const meanEstimate = heldEstimates.length
    ? heldEstimates.reduce((n, e) => n + e.bps, 0) / heldEstimates.length
    : null;
  return {
    codec: r.codec,
    topAfterS: r.topAfterS,
    settleS: settleAt === null ? null : (settleAt - r.tLimit) / 1000,
    settled: layerName(r.settledLayers),
    settledTop: isTop(r.settledLayers),
    settledNone: !r.settledLayers,
    heldS: held.seconds,
    heldKbps: held.kbps,
    heldWidth: held.width,
    loss: held.loss,
    lossWhole: whole.loss,
    lost: held.lost,
    received: held.received,
    framesHeld: held.frames,
    framesLimited: whole.frames,
    fpsLimited: whole.seconds > 0 ? whole.frames / whole.seconds : 0,
    freezeCount: whole.freezeCount,
    freezesS: whole.freezesS,
    gapCount: gaps.count,
    longestGapMs: gaps.longest,
    meanEstimateKbps: meanEstimate === null ? null : meanEstimate / 1000,
    backToTopS: firstTop ? (firstTop.at - r.tHigh) / 1000 : null,
    changes: r.layerTimes.map((e) => `${((e.at - r.tLimit) / 1000).toFixed(1)}s:${layerName(e.layers)}`).join(' '),
    estimates: r.estimates
      .filter((e, i) => i % 2 === 0)
      .map((e) => `${((e.at - r.tLimit) / 1000).toFixed(0)}s:${Math.round((e.bps || 0) / 1000)}`)
      .join(' '),
    producerStreams: r.producerStreams.join(' '),
    ratesAtTop: r.ratesAtTop,
    stops: r.stops
      .map((e) => `${((e.at - r.tLimit) / 1000).toFixed(1)}s (producer scores ${e.producerScore.join(',')})`)
      .join(' '),
    load: r.load,
    bweTrace: r.bweTrace.map((e) => ({ ...e, at: e.at - r.tLimit })),
    workerStats: r.workerStats,
    mediaTrace: r.mediaTrace
      .filter((e) => e.at >= r.tLimit - 1000 && e.at < r.tLimit + 6000)
      .map((e) => `${((e.at - r.tLimit) / 1000).toFixed(2)}s:${e.who}:${e.type}:${e.direction}`)
      .join(' '),
    // The receiver's counters every half second while limited (--trace).
    receiverTrace: r.samples
      .filter((s, i) => s.at >= r.tLimit - 2000 && s.at < r.tHigh && i % 5 === 0)
      .map((s) => ({
        at: s.at - r.tLimit,
        frames: s.framesDecoded,
        key: s.keyFramesDecoded,
        dropped: s.framesDropped,
        width: s.frameWidth,
        received: s.packetsReceived,
        lost: s.packetsLost,
        nack: s.nackCount,
        pli: s.pliCount,
      })),
    sender: r.senderStats.map((s) => `${s.rid || s.scalabilityMode}:${s.frameWidth}x${s.frameHeight}`).join(' '),
  };
}

// The criteria; an empty list means the run passes.
function problemsOf(r) {
  if (r.error) return [r.error];
  const problems = [];
  if (r.settleS === null) problems.push(`no layer change at ${LIMIT_KBPS} kbit/s (stayed on ${r.settled})`);
  else if (r.settleS > SETTLE_MAX_S)
    problems.push(`settled ${r.settleS.toFixed(1)} s after the limit (at most ${SETTLE_MAX_S} s)`);
  if (r.settledTop || r.settledNone) problems.push(`settled on layer ${r.settled}`);
  if (!(r.heldKbps <= LIMIT_KBPS)) problems.push(`received ${r.heldKbps.toFixed(0)} kbit/s on the settled layer`);
  if (!(r.loss < LOSS_MAX)) problems.push(`loss ${(100 * r.loss).toFixed(2)}% on the settled layer`);
  if (r.gapCount > 0) problems.push(`${r.gapCount} frame gaps over ${FREEZE_MAX_MS} ms (longest ${r.longestGapMs} ms)`);
  if (!(r.framesHeld > 0)) problems.push('no frames decoded on the settled layer');
  if (r.backToTopS === null) problems.push(`not back on the top layer ${BACK_WAIT_MS / 1000} s after ${HIGH_KBPS} kbit/s`);
  else if (r.backToTopS > BACK_TO_TOP_MAX_S)
    problems.push(`back on the top layer ${r.backToTopS.toFixed(1)} s after ${HIGH_KBPS} kbit/s (at most ${BACK_TO_TOP_MAX_S} s)`);
  return problems;
}

async function child(codec, qdisc) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      setTimeout(() => process.exit(1), 5000).unref();
      runCleanups().finally(() => process.exit(1));
    });
  }
  let result;
  try {
    result = await runOnce(codec, qdisc);
  } catch (error) {
    result = { codec, error: String(error.message || error) };
  } finally {
    await runCleanups();
  }
  console.log(`RESULT ${JSON.stringify(result)}`);
}

// ----- the runner -----------------------------------------------------------

const running = new Set();

function runChild(workerBin, codec, qdisc) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [__filename, '--child', codec, qdisc], {
      env: { ...process.env, SFU_WORKER_BIN: workerBin },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    running.add(proc);
    let result = null;
    let buffer = '';
    proc.stdout.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7));
        else console.log(line);
      }
    });
    proc.on('exit', (code) => {
      running.delete(proc);
      resolve(result || { codec, error: `run exited with ${code} and no result` });
    });
  });
}

const fmt = {
  s: (v) => (v === null || v === undefined ? '-' : `${v.toFixed(1)} s`),
  pct: (v) => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(2)}%`),
  n: (v) => (v === null || v === undefined ? '-' : String(Math.round(v))),
};

function table(rows) {
  const columns = [
    ['worker', (r) => r.worker],
    ['codec', (r) => r.codec],
    ['top at start', (r) => fmt.s(r.topAfterS)],
    ['settle @600k', (r) => fmt.s(r.settleS)],
    ['layer', (r) => r.settled],
    ['kbit/s', (r) => fmt.n(r.heldKbps)],
    ['est. kbit/s', (r) => fmt.n(r.meanEstimateKbps)],
    ['loss', (r) => fmt.pct(r.loss)],
    ['loss (all 600k)', (r) => fmt.pct(r.lossWhole)],
    ['frames @600k', (r) => `${fmt.n(r.framesLimited)} (${(r.fpsLimited || 0).toFixed(1)}/s)`],
    ['gaps>1s, longest', (r) => `${fmt.n(r.gapCount)}, ${fmt.n(r.longestGapMs)} ms`],
    ['chromium freezes', (r) => `${fmt.n(r.freezeCount)} (${(r.freezesS || 0).toFixed(1)} s)`],
    ['back to top @5M', (r) => fmt.s(r.backToTopS)],
    ['verdict', (r) => r.verdict],
  ];
  const cells = rows.map((r) => columns.map(([, f]) => (r.error ? (f === columns[0][1] || f === columns[1][1] ? f(r) : '') : f(r))));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values) => values.map((v, i) => v.padEnd(widths[i])).join(' | ');
  console.log(line(columns.map(([h]) => h)));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const c of cells) console.log(line(c));
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], args[2]).then(() => 0);

  const compare = args.includes('--compare');
  const trace = args.includes('--trace');
  const qdiscAt = args.indexOf('--qdisc');
  const qdisc = qdiscAt >= 0 ? args[qdiscAt + 1] : 'tbf';
  if (!['htb', 'tbf'].includes(qdisc)) {
    console.log(`shaped: --qdisc htb or tbf, not ${qdisc}`);
    return 1;
  }
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 1;
  const refAt = args.indexOf('--reference');
  const reference =
    refAt >= 0
      ? args[refAt + 1]
      : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mediasoup-3.8.4-worker/mediasoup-worker');
  const codecs = args.filter((a) => a === 'vp8' || a === 'vp9');
  if (!codecs.length) codecs.push('vp8', 'vp9');
  const ours = process.env.SFU_WORKER_BIN || path.join(root, 'build/sfu-worker');
  const workers = [['ours', ours]];
  if (compare) {
    if (!fs.existsSync(reference)) {
      console.log(`shaped: no reference worker at ${reference} (build it with build-reference-worker.sh, or --reference PATH)`);
      return 1;
    }
    workers.push(['mediasoup 3.8.4', reference]);
  }
  let interrupted = false;
  if (process.getuid && process.getuid() !== 0) {
    console.log('shaped: needs root (ip netns, veth, tc)');
    return 1;
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      console.log(`shaped: interrupted by ${signal}`);
      interrupted = true;
      for (const proc of running) proc.kill('SIGTERM');
      setTimeout(() => process.exit(1), 8000).unref();
    });
  }

  const rows = [];
  let failed = 0;
  for (let run = 0; run < runs && !interrupted; run++) {
    for (const codec of codecs) {
      for (const [name, bin] of workers) {
        if (interrupted) break;
        const started = Date.now();
        const r = await runChild(bin, codec, qdisc);
        r.worker = name;
        const problems = problemsOf(r);
        const asserted = name === 'ours';
        r.verdict = problems.length ? (asserted ? 'FAIL' : 'misses') : asserted ? 'PASS' : 'meets';
        if (asserted && problems.length) failed++;
        const took = ((Date.now() - started) / 1000).toFixed(1);
        console.log(`${r.verdict} ${name} ${codec} (${took} s)`);
        for (const p of problems) console.log(`  - ${p}`);
        if (!r.error)
          console.log(
            `  layers (s from the limit): ${r.changes}\n  estimate kbit/s: ${r.estimates}\n` +
              `  sender: ${r.sender}; producer streams (packets): ${r.producerStreams}; ` +
              `kbit/s on the top layer: ${r.ratesAtTop}; decoded width on the settled layer ${r.heldWidth}; ` +
              `load average ${r.load}` +
              (r.stops ? `\n  forwarding stopped at: ${r.stops}` : ''),
          );
        if (trace && r.bweTrace)
          for (const e of r.bweTrace) {
            const { at, ...info } = e;
            console.log(`  bwe ${(at / 1000).toFixed(1)}s ${JSON.stringify(info)}`);
          }
        if (trace && r.workerStats) console.log(`  worker stats ${JSON.stringify(r.workerStats)}`);
        if (trace && r.mediaTrace) console.log(`  media trace ${r.mediaTrace}`);
        if (trace && r.receiverTrace)
          for (const e of r.receiverTrace) {
            const { at, ...info } = e;
            console.log(`  receiver ${(at / 1000).toFixed(1)}s ${JSON.stringify(info)}`);
          }
        rows.push(r);
      }
    }
  }
  console.log('');
  table(rows);
  console.log(`shaped: ${rows.filter((r) => r.worker === 'ours').length - failed} passed, ${failed} failed (our worker)`);
  return failed || interrupted ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
