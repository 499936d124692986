'use strict';
// Drives headless Chromium through a call that loops the fake camera and
// microphone through our worker, once over UDP and once over ICE-TCP, and
// checks both ends: the browser decodes what it receives, and the host sees
// connected transports, a producer stream with packets for each encoding
// sent, and consumers whose packets reached the browser. The data scenario
// sends data channel messages from one page to another and between the
// pages and the host (runDataScenario).

const { launchChromium, watchPage } = require('./chromium');
const { startServer } = require('./server');
const { message, fingerprint } = require('./data-messages');

const POLL_MS = 15000;
const START_MS = 30000;
const MIN_FRAMES = 30;
// initialAvailableOutgoingBitrate of a transport created without one.
const INITIAL_OUTGOING_BPS = 600000;
const MIN_AUDIO_PACKETS = 50;
// What each consumer must have sent at least: what the browser needs to
// pass its own checks above (a packet or more per video frame decoded).
const MIN_CONSUMER_PACKETS = { audio: MIN_AUDIO_PACKETS, video: MIN_FRAMES };
// Of the packets a consumer sent, the share the browser must have received
// (loopback loses nothing; the counts are read a moment apart).
const MIN_DELIVERED_SHARE = 0.9;

const scenarios = [
  { name: 'udp', enableUdp: true, enableTcp: false },
  { name: 'tcp', enableUdp: false, enableTcp: true },
  // The camera as simulcast streams through a simulcast consumer, switched
  // between its smallest and largest stream while the browser decodes.
  { name: 'simulcast', enableUdp: true, enableTcp: false, layered: 'simulcast' },
  // The camera as VP9 with three spatial and three temporal layers
  // (L3T3_KEY) through an SVC consumer, switched between its smallest and
  // largest spatial layer while the browser decodes.
  { name: 'svc', enableUdp: true, enableTcp: false, layered: 'svc' },
  // Data channels between two pages and the host, no media.
  { name: 'data', enableUdp: true, enableTcp: false, data: true },
];

// The data scenario: ordered reliable messages of each size as a string and
// as binary, 256 KiB (Chromium's and the host's maxMessageSize) included.
const DATA_SIZES = [1, 1024, 16384, 65536, 262144];
const DATA_PLAN = DATA_SIZES.flatMap((size, i) => [
  { seed: 2 * i, kind: 'string', size },
  { seed: 2 * i + 1, kind: 'binary', size },
]);
// The DataConsumers' sctpSendBufferSize (server.js). A DataConsumer drops
// what its association's send buffer cannot take, so the sender paces
// itself: a message goes when it fits beside what is still on its way to
// page B or not yet acknowledged by it (the consumer's bufferedAmount).
const DATA_SEND_BUFFER = 262144;
const UNORDERED_COUNT = 50;
const DATA_MS = 20000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const tally = { passed: 0, failed: 0 };

// Cleanups of the scenario in progress, newest first, so that an interrupt
// closes the browser, the server and the worker just as a normal end does.
const cleanups = [];
async function runCleanups(label) {
  while (cleanups.length) {
    const cleanup = cleanups.pop();
    try {
      await cleanup();
    } catch (error) {
      console.log(`  [${label}] cleanup: ${error.message}`);
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.log(`browser: interrupted by ${signal} during a scenario, which counts as failed`);
    console.log(`browser: ${tally.passed} passed, ${tally.failed + 1} failed`);
    // Past this grace period, playwright's exit hook still kills the browser
    // and the worker exits when its channel to this process closes.
    setTimeout(() => process.exit(1), 5000).unref();
    runCleanups('interrupt').finally(() => process.exit(1));
  });
}

// What the browser must have seen; an empty list means the call works.
function browserProblems(stats, protocol) {
  const problems = [];
  const video = stats.recv.video || {};
  const audio = stats.recv.audio || {};
  if (!(video.framesDecoded > MIN_FRAMES)) problems.push(`video framesDecoded ${video.framesDecoded} <= ${MIN_FRAMES}`);
  if (!(audio.packetsReceived > MIN_AUDIO_PACKETS))
    problems.push(`audio packetsReceived ${audio.packetsReceived} <= ${MIN_AUDIO_PACKETS}`);
  if (!(audio.totalSamplesReceived > 0)) problems.push(`audio totalSamplesReceived ${audio.totalSamplesReceived}`);
  if (!(stats.element.videoWidth > 0)) problems.push('the <video> element shows no picture');
  for (const side of ['sendPath', 'recvPath']) {
    const p = stats[side];
    if (!p || p.protocol !== protocol) problems.push(`${side} uses ${p && p.protocol}, not ${protocol}`);
    else if (p.dtlsState !== 'connected') problems.push(`${side} dtlsState ${p.dtlsState}`);
  }
  return problems;
}

// What the host (and so the worker) must report. The consumers' packet
// counts are read right after the browser's, so that what the browser
// received can be held against what the worker says it sent.
async function serverProblems(server, protocol, scenario, page) {
  const problems = [];
  for (const t of server.transports.values()) {
    const name = `${t.appData.direction} transport`;
    if (!['connected', 'completed'].includes(t.iceState)) problems.push(`${name} iceState ${t.iceState}`);
    if (t.dtlsState !== 'connected') problems.push(`${name} dtlsState ${t.dtlsState}`);
    const tuple = t.iceSelectedTuple;
    if (!tuple || tuple.protocol !== protocol) problems.push(`${name} selected tuple ${JSON.stringify(tuple)}`);
  }
  // The streams the worker receives: one per encoding the browser sends
  // (three for simulcast video, one for SVC), each with packets. Chromium
  // turns its top simulcast encoding on once its own send estimate has
  // ramped up, which on a loaded host may take longer than the call so far.
  const producerPackets = {};
  for (const p of server.producers.values()) {
    const expected = p.kind === 'video' && scenario.layered === 'simulcast' ? 3 : 1;
    let streams = [];
    let live = [];
    for (const deadline = Date.now() + POLL_MS; ; await sleep(500)) {
      streams = (await p.getStats()).filter((s) => s.type === 'inbound-rtp');
      live = streams.filter((s) => s.packetCount > 0);
      if (live.length >= expected || Date.now() > deadline) break;
    }
    producerPackets[p.kind] = live.map((s) => s.packetCount);
    if (live.length !== expected)
      problems.push(
        `${p.kind} producer: ${live.length} streams with packets ` +
          `(${streams.map((s) => `${s.rid || s.ssrc}:${s.packetCount}`).join(' ')}), expected ${expected}`,
      );
  }
  const browser = await page.evaluate(() => window.callStats());
  const consumerPackets = {};
  for (const c of server.consumers.values()) {
    const sent = (await c.getStats()).find((s) => s.type === 'outbound-rtp');
    const count = (sent && sent.packetCount) || 0;
    const received = (browser.recv[c.kind] || {}).packetsReceived || 0;
    consumerPackets[c.kind] = count;
    if (!(count >= MIN_CONSUMER_PACKETS[c.kind]))
      problems.push(`${c.kind} consumer sent ${count} packets, expected at least ${MIN_CONSUMER_PACKETS[c.kind]}`);
    if (!(received >= MIN_DELIVERED_SHARE * count))
      problems.push(
        `${c.kind}: the browser received ${received} packets of the ${count} the consumer sent ` +
          `(at least ${MIN_DELIVERED_SHARE * 100}% expected on loopback)`,
      );
  }
  if (server.transports.size !== 2) problems.push(`${server.transports.size} transports, expected 2`);
  if (server.producers.size !== 2) problems.push(`${server.producers.size} producers, expected 2`);
  if (server.consumers.size !== 2) problems.push(`${server.consumers.size} consumers, expected 2`);
  return { problems, producerPackets, consumerPackets };
}

// The simulcast or SVC consumer (`type`): it must be forwarding one of the
// producer's streams or spatial layers, move to the smallest one when asked
// (the browser then decodes a smaller picture) and back up to a larger one,
// with frames decoded all along.
async function switchLayers(server, page, type) {
  const problems = [];
  const video = [...server.consumers.values()].find((c) => c.kind === 'video');
  const producer = [...server.producers.values()].find((p) => p.kind === 'video');
  if (video.type !== type) return { problems: [`video consumer type ${video.type}, expected ${type}`] };
  const streams = async () =>
    (await producer.getStats()).filter((s) => s.packetCount > 0).map((s) => `${s.rid || s.ssrc}:${s.packetCount}`);
  const call = (method, body) =>
    page.evaluate(([m, b]) => fetch(`/api/${m}`, { method: 'POST', body: JSON.stringify(b) }).then((r) => r.json()), [
      method,
      body,
    ]);
  // Waits until the consumer forwards `spatial` (a predicate on it) and the
  // browser decoded MIN_FRAMES more frames since it does (the bitrate
  // allocation may take a few seconds to grant a larger stream); returns
  // the last stats.
  const waitFor = async (label, accept) => {
    const start = await page.evaluate(() => window.callStats());
    const frames0 = (start.recv.video || {}).framesDecoded || 0;
    let framesAtSwitch = null;
    for (const deadline = Date.now() + POLL_MS; ; ) {
      const stats = await page.evaluate(() => window.callStats());
      const v = stats.recv.video || {};
      const layers = video.currentLayers;
      const accepted = Boolean(layers && accept(layers.spatialLayer));
      if (!accepted) framesAtSwitch = null;
      else if (framesAtSwitch === null) framesAtSwitch = v.framesDecoded || 0;
      if (accepted && v.framesDecoded > framesAtSwitch + MIN_FRAMES) return { stats, layers };
      if (Date.now() > deadline) {
        problems.push(
          `${label}: current layers ${JSON.stringify(layers)}, frames ${frames0} -> ${v.framesDecoded}, ` +
            `producer streams ${(await streams()).join(' ')}`,
        );
        return { stats };
      }
      await sleep(500);
    }
  };
  // The worker's estimate of the bandwidth towards the browser (the
  // consumers negotiated transport-wide-cc): reported, and moved by the
  // browser's feedback while the layers change.
  const recvTransport = [...server.transports.values()].find((t) => t.appData.direction === 'recv');
  const estimate = async () => ((await recvTransport.getStats())[0] || {}).availableOutgoingBitrate;
  const estimates = [await estimate()];
  const first = await waitFor('start', (s) => s >= 0);
  estimates.push(await estimate());
  const top = first.layers ? first.layers.spatialLayer : -1;
  await call('setPreferredLayers', { consumerId: video.id, spatialLayer: 0 });
  const low = await waitFor('switch to the smallest stream', (s) => s === 0);
  await call('setPreferredLayers', { consumerId: video.id, spatialLayer: 2 });
  const high = await waitFor('switch back up', (s) => s > 0);
  estimates.push(await estimate());
  if (!estimates.every((e) => e > 0)) problems.push(`availableOutgoingBitrate ${estimates.join(' -> ')}`);
  // Moved from where the transport starts (the host's default initial
  // estimate) by the browser's feedback; it may have reached its ceiling
  // before the first reading.
  else if (estimates.every((e) => e === INITIAL_OUTGOING_BPS))
    problems.push(`availableOutgoingBitrate never moved from ${INITIAL_OUTGOING_BPS}: ${estimates.join(' -> ')}`);
  const width = (r) => r.stats && r.stats.recv.video && r.stats.recv.video.frameWidth;
  if (!problems.length && !(width(low) < width(high)))
    problems.push(`decoded width ${width(low)} on stream 0, ${width(high)} on stream ${high.layers.spatialLayer}`);
  const changes = video.appData.layers.map((l) => (l ? `${l.spatialLayer}/${l.temporalLayer}` : 'none'));
  return {
    problems,
    stats: high.stats,
    summary: `; ${type}: estimate ${estimates.join(' -> ')} bps, started on stream ${top}, layer changes ${changes.join(' ')}, decoded width ${width(low)} -> ${width(high)}, producer streams ${(await streams()).join(' ')}`,
  };
}

// The server (with its worker) and a fresh Chromium, both closed by the
// scenario's cleanups.
async function launch(scenario) {
  const server = await startServer({
    enableUdp: scenario.enableUdp,
    enableTcp: scenario.enableTcp,
    logLevel: process.env.SFU_LOG_LEVEL || 'warn',
    logTags: (process.env.SFU_LOG_TAGS || '').split(/[\s,]+/).filter(Boolean),
  });
  cleanups.push(() => server.close());

  const context = await launchChromium({ label: scenario.name, timeout: 15000, cleanups });
  return { server, context };
}

// A page of the context (its first tab, else a new one) at the server's URL.
async function openPage(context, server, query, label) {
  const fresh = context.pages().find((p) => p.url() === 'about:blank');
  const page = watchPage(fresh || (await context.newPage()), label);
  await page.goto(server.url + query, { timeout: 10000 });
  return page;
}

async function runScenario(scenario) {
  const started = Date.now();
  const protocol = scenario.enableUdp ? 'udp' : 'tcp';
  let stats = null;
  try {
    const { server, context } = await launch(scenario);
    const page = await openPage(context, server, scenario.layered ? `?${scenario.layered}` : '', scenario.name);
    await page.click('#start');
    // Getting the call up (media devices, transports, producers,
    // consumers) takes a few seconds, more for the first Chromium of a
    // loaded machine: CI builds the sanitizer worker meanwhile.
    await page.waitForFunction(() => document.getElementById('status').textContent !== 'starting', null, {
      timeout: START_MS,
    });

    let problems = [];
    const deadline = Date.now() + POLL_MS;
    for (;;) {
      stats = await page.evaluate(() => window.callStats());
      if (stats.status !== 'running') throw new Error(`page: ${stats.status}`);
      problems = browserProblems(stats, protocol);
      if (!problems.length || Date.now() > deadline) break;
      await sleep(500);
    }
    let layersSummary = '';
    if (!problems.length && scenario.layered) {
      const result = await switchLayers(server, page, scenario.layered);
      problems.push(...result.problems);
      layersSummary = result.summary;
      stats = result.stats || stats;
    }
    // Media must keep flowing across an ICE restart once the browser has
    // checked again with the new credentials.
    if (!problems.length && !scenario.layered) {
      const before = stats.recv.video || {};
      const beforeAudio = stats.recv.audio || {};
      const transports = [...server.transports.values()];
      const validChecks = async () => Promise.all(transports.map(async (t) => (await t.dump()).iceChecks.valid));
      const oldUfrags = transports.map((t) => t.iceParameters.usernameFragment);
      const checksBefore = await validChecks();
      await page.evaluate(() => window.restartIce());
      const newUfrags = [...server.transports.values()].map((t) => t.iceParameters.usernameFragment);
      if (newUfrags.some((u, i) => u === oldUfrags[i])) problems.push('restartIce kept the old ICE username fragment');
      const restartDeadline = Date.now() + POLL_MS;
      for (;;) {
        stats = await page.evaluate(() => window.callStats());
        const v = stats.recv.video || {};
        const a = stats.recv.audio || {};
        // The old credentials are refused after a restart, so checks that
        // pass now were made with the new ones: the browser re-checked.
        const checks = await validChecks();
        const rechecked = checks.every((n, i) => n > checksBefore[i]);
        const flowing =
          v.framesDecoded > before.framesDecoded + MIN_FRAMES && a.packetsReceived > beforeAudio.packetsReceived + 50;
        if (flowing && rechecked) break;
        if (Date.now() > restartDeadline) {
          problems.push(
            `after ICE restart: video ${before.framesDecoded} -> ${v.framesDecoded} frames, ` +
              `audio ${beforeAudio.packetsReceived} -> ${a.packetsReceived} packets, ` +
              `valid ICE checks ${checksBefore} -> ${checks}`,
          );
          break;
        }
        await sleep(500);
      }
    }

    const host = await serverProblems(server, protocol, scenario, page);
    problems.push(...host.problems);

    const v = stats.recv.video || {};
    const a = stats.recv.audio || {};
    const summary =
      `video ${v.framesDecoded} frames decoded (${v.frameWidth}x${v.frameHeight}, ${v.packetsReceived} packets, ` +
      `${v.packetsLost} lost), audio ${a.packetsReceived} packets / ${a.totalSamplesReceived} samples ` +
      `(level ${a.audioLevel}), producers ${JSON.stringify(host.producerPackets)}, ` +
      `consumers ${JSON.stringify(host.consumerPackets)}, path ${stats.recvPath && stats.recvPath.local} -> ` +
      `${stats.recvPath && stats.recvPath.remote}, sender estimate ` +
      `${stats.sendPath && stats.sendPath.availableOutgoingBitrate} bps${layersSummary}`;
    return { ok: !problems.length, summary, problems, stats, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    return { ok: false, summary: '', problems: [String(error.message || error)], stats, seconds: (Date.now() - started) / 1000 };
  } finally {
    await runCleanups(scenario.name);
  }
}

// Polls `check` (returning a problem string, or null when done) until done
// or `ms` passed; returns the last problem or null.
async function until(ms, check) {
  for (const deadline = Date.now() + ms; ; ) {
    const problem = await check();
    if (!problem || Date.now() > deadline) return problem;
    await sleep(50);
  }
}

function sameList(label, got, want, problems) {
  const show = (list) => list.map((m) => `${m.kind}:${m.size}:${m.hash}`);
  const a = show(got);
  const b = show(want);
  if (a.length !== b.length || a.some((x, i) => x !== b[i]))
    problems.push(`${label}: got [${a.join(' ')}], expected [${b.join(' ')}]`);
}

// Page A produces two data channels (ordered reliable; unordered with
// maxRetransmits 0), page B consumes both; the host has a DirectTransport
// whose data producer page B consumes too, and whose data consumer gets
// page A's reliable channel.
async function runDataScenario(scenario) {
  const started = Date.now();
  const problems = [];
  let summary = '';
  try {
    const { server, context } = await launch(scenario);
    const pageA = await openPage(context, server, '?data', `${scenario.name} A`);
    const pageB = await openPage(context, server, '?data', `${scenario.name} B`);
    for (const page of [pageA, pageB]) {
      await page.click('#start');
      await page.waitForFunction(() => document.getElementById('status').textContent !== 'starting', null, {
        timeout: START_MS,
      });
      const status = await page.evaluate(() => document.getElementById('status').textContent);
      if (status !== 'running') throw new Error(`page: ${status}`);
    }

    const reliableId = await pageA.evaluate(() => window.dataProduce({ label: 'reliable', ordered: true }));
    const unorderedId = await pageA.evaluate(() =>
      window.dataProduce({ label: 'unordered', ordered: false, maxRetransmits: 0 }),
    );
    const direct = await server.router.createDirectTransport({ maxMessageSize: 262144 });
    const hostProducer = await direct.produceData({ label: 'host' });
    const hostConsumer = await direct.consumeData({ dataProducerId: reliableId });
    const hostGot = [];
    // The host hands every message over as a Buffer, with its PPID: 51 for
    // a string.
    hostConsumer.on('message', (m, ppid) => hostGot.push({ ...fingerprint(ppid === 51 ? m.toString() : m), ppid }));
    for (const id of [reliableId, unorderedId, hostProducer.id]) await pageB.evaluate((i) => window.dataConsume(i), id);

    const open = async () => {
      const states = { ...(await pageA.evaluate(() => window.dataStates())), ...(await pageB.evaluate(() => window.dataStates())) };
      const closed = Object.entries(states).filter(([, s]) => s !== 'open');
      return closed.length ? `not open: ${JSON.stringify(states)}` : null;
    };
    const notOpen = await until(DATA_MS, open);
    if (notOpen) throw new Error(notOpen);
    const t0 = Date.now();

    // Ordered reliable, paced by what page B received.
    const receivedBytes = async (label) =>
      ((await pageB.evaluate(() => window.dataReceived()))[label] || []).reduce((n, m) => n + m.size, 0);
    const reliableConsumer = [...server.dataConsumers.values()].find((c) => c.label === 'reliable');
    let sent = 0;
    for (const m of DATA_PLAN) {
      const problem = await until(DATA_MS, async () => {
        const got = await receivedBytes('reliable');
        const buffered = await reliableConsumer.getBufferedAmount();
        return sent - got + buffered + m.size <= DATA_SEND_BUFFER
          ? null
          : `${got} of ${sent} bytes arrived, ${buffered} buffered`;
      });
      if (problem) throw new Error(`reliable: waiting for room to send ${m.size} bytes: ${problem}`);
      await pageA.evaluate(([s, k, n]) => window.dataSend('reliable', s, k, n), [m.seed, m.kind, m.size]);
      sent += m.size;
    }
    // The send buffer is the association's, shared by page B's consumers:
    // the other channels go once the reliable one drained.
    const expected = DATA_PLAN.map((m) => fingerprint(message(m.seed, m.kind, m.size)));
    const drained = await until(DATA_MS, async () => {
      const got = ((await pageB.evaluate(() => window.dataReceived())).reliable || []).length;
      const buffered = await reliableConsumer.getBufferedAmount();
      return got >= expected.length && buffered === 0 ? null : `${got} messages arrived, ${buffered} bytes buffered`;
    });
    if (drained) problems.push(`reliable channel: ${drained}`);
    // A burst of small ones on the unordered channel.
    const unordered = Array.from({ length: UNORDERED_COUNT }, (_, i) => `unordered-${i}`);
    await pageA.evaluate((texts) => window.dataSendText('unordered', texts), unordered);
    // The host's direct producer to page B: strings and binary (Buffer).
    const hostMessages = ['hello from the host', Buffer.from(message(100, 'binary', 1000)), 'x', Buffer.from(message(101, 'binary', 65536))];
    for (const m of hostMessages) hostProducer.send(m);

    const arrived = await until(DATA_MS, async () => {
      const got = await pageB.evaluate(() => window.dataReceived());
      const counts = {
        reliable: (got.reliable || []).length,
        unordered: (got.unordered || []).length,
        host: (got.host || []).length,
        hostConsumer: hostGot.length,
      };
      const done =
        counts.reliable >= expected.length &&
        counts.unordered >= unordered.length &&
        counts.host >= hostMessages.length &&
        counts.hostConsumer >= expected.length;
      return done ? null : `arrived ${JSON.stringify(counts)}`;
    });
    if (arrived) problems.push(arrived);
    const seconds = (Date.now() - t0) / 1000;
    const got = await pageB.evaluate(() => window.dataReceived());

    sameList('page B, reliable channel', got.reliable || [], expected, problems);
    sameList('host direct consumer', hostGot, expected, problems);
    const ppids = hostGot.map((m) => m.ppid).join(',');
    const wantPpids = DATA_PLAN.map((m) => (m.kind === 'string' ? 51 : 53)).join(',');
    if (ppids !== wantPpids) problems.push(`host consumer PPIDs ${ppids}, expected ${wantPpids}`);
    const unorderedGot = (got.unordered || []).map((m) => `${m.kind}:${m.size}:${m.hash}`).sort();
    const unorderedWant = unordered.map((t) => fingerprint(t)).map((m) => `${m.kind}:${m.size}:${m.hash}`).sort();
    if (unorderedGot.join() !== unorderedWant.join())
      problems.push(`unordered: ${unorderedGot.length} of ${unorderedWant.length} arrived, or not as sent`);
    sameList('page B, host channel', got.host || [], hostMessages.map((m) => fingerprint(m)), problems);

    // The host's account: every message received and sent, none dropped.
    const stats = {};
    for (const p of server.dataProducers.values()) stats[`producer ${p.label}`] = (await p.getStats())[0];
    for (const c of server.dataConsumers.values()) stats[`consumer ${c.label}`] = (await c.getStats())[0];
    stats['host consumer'] = (await hostConsumer.getStats())[0];
    const expectCount = {
      'producer reliable': ['messagesReceived', DATA_PLAN.length],
      'producer unordered': ['messagesReceived', UNORDERED_COUNT],
      'consumer reliable': ['messagesSent', DATA_PLAN.length],
      'consumer unordered': ['messagesSent', UNORDERED_COUNT],
      'consumer host': ['messagesSent', hostMessages.length],
      'host consumer': ['messagesSent', DATA_PLAN.length],
    };
    for (const [name, [field, want]] of Object.entries(expectCount)) {
      const s = stats[name];
      if (!s || s[field] !== want) problems.push(`${name}: ${field} ${s && s[field]}, expected ${want}: ${JSON.stringify(s)}`);
      else if (s.messagesDropped) problems.push(`${name}: ${s.messagesDropped} messages dropped`);
    }
    const bytes = DATA_PLAN.reduce((n, m) => n + m.size, 0);
    summary =
      `${DATA_PLAN.length} ordered reliable messages (${bytes} bytes, sizes ${DATA_SIZES.join('/')}, string and ` +
      `binary) in order to page B and the host, ${unorderedGot.length}/${UNORDERED_COUNT} unordered, ` +
      `${(got.host || []).length}/${hostMessages.length} from the host, in ${seconds.toFixed(1)} s`;
  } catch (error) {
    problems.push(String(error.message || error));
  } finally {
    await runCleanups(scenario.name);
  }
  return { ok: !problems.length, summary, problems, stats: null, seconds: (Date.now() - started) / 1000 };
}

async function main() {
  const only = process.argv.slice(2);
  for (const scenario of scenarios) {
    if (only.length && !only.includes(scenario.name)) continue;
    const result = scenario.data ? await runDataScenario(scenario) : await runScenario(scenario);
    const verdict = result.ok ? 'PASS' : 'FAIL';
    console.log(`${verdict} ${scenario.name} (${result.seconds.toFixed(1)} s): ${result.summary}`);
    if (!result.ok) {
      for (const p of result.problems) console.log(`  - ${p}`);
      if (result.stats) console.log(`  last browser stats: ${JSON.stringify(result.stats)}`);
    }
    result.ok ? tally.passed++ : tally.failed++;
  }
  console.log(`browser: ${tally.passed} passed, ${tally.failed} failed`);
  return tally.failed || !tally.passed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
