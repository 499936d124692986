// The demo room's page: joins over a WebSocket, sends the camera (VP8,
// three simulcast encodings) and the microphone, receives everyone else,
// and chats over data channels. Bundled by esbuild into /app.js.
//
// URL parameters: ?name=NAME&autojoin joins at once (the headless check
// uses them). window.demo exposes statistics for that check.
import { Device } from 'mediasoup-client';
import { icons } from './icons';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// ----- signalling --------------------------------------------------------------

// JSON over a WebSocket: requests {id, method, data} answered by
// {response: id, ok, data | error}; the server's notifications
// {notification, data} are handled one after another, in order.
class Signal {
  constructor(url) {
    this.ws = new WebSocket(url);
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = {};
    this.queue = Promise.resolve();
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error('cannot reach the room server'));
    });
    this.ws.onmessage = (event) => this.receive(JSON.parse(event.data));
    this.ws.onclose = () => {
      for (const { reject } of this.pending.values()) reject(new Error('connection closed'));
      this.pending.clear();
      if (this.onclose) this.onclose();
    };
  }

  receive(message) {
    if ('response' in message) {
      const request = this.pending.get(message.response);
      if (!request) return;
      this.pending.delete(message.response);
      if (message.ok) request.resolve(message.data);
      else request.reject(new Error(message.error));
      return;
    }
    const handler = this.handlers[message.notification];
    if (!handler) return;
    this.queue = this.queue
      .then(() => handler(message.data))
      .catch((error) => console.error(`${message.notification}:`, error));
  }

  request(method, data = {}) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, data }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  on(notification, handler) {
    this.handlers[notification] = handler;
  }
}

// ----- room state --------------------------------------------------------------

const state = {
  signal: null,
  device: null,
  me: null, // { id, name }
  sendTransport: null,
  recvTransport: null,
  localStream: null,
  producers: {}, // by source: camera, mic
  chatProducer: null,
  peers: new Map(), // id -> { id, name, bot, tile, consumers: Map, level, dataConsumers }
  consumers: new Map(), // consumer id -> { consumer, peerId }
  chatLog: [],
  speakerDetection: false,
  activeSpeaker: null,
  levels: {},
};
window.demo = { state };

// ----- tiles -------------------------------------------------------------------

function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  const letters = words.length > 1 ? [...words[0]][0] + [...words[words.length - 1]][0] : [...words[0]][0];
  return letters.toUpperCase();
}

// A stable colour per name, for avatars and chat names.
function hue(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) % 360;
  return h;
}

function makeTile(peer, { self = false } = {}) {
  const tile = document.createElement('div');
  tile.className = 'tile no-video';
  tile.dataset.peer = peer.id;
  tile.innerHTML = `
    <video autoplay playsinline muted></video>
    <div class="avatar"><span></span></div>
    <div class="label">
      <span class="mic-state" title="Microphone off"></span>
      <span class="name"></span>
      <span class="meter"><i></i><i></i><i></i></span>
    </div>`;
  const name = self ? `${peer.name} (you)` : peer.name;
  tile.querySelector('.name').textContent = name;
  tile.querySelector('.mic-state').innerHTML = icons.micOff;
  const avatar = tile.querySelector('.avatar span');
  avatar.textContent = initials(peer.name);
  avatar.style.background = `hsl(${hue(peer.name)} 45% 40%)`;
  if (self) tile.classList.add('self');
  if (peer.bot) tile.classList.add('bot');
  $('grid').appendChild(tile);
  layoutGrid();
  return tile;
}

function setTileVideo(tile, track, paused) {
  const video = tile.querySelector('video');
  if (track) video.srcObject = new MediaStream([track]);
  tile.classList.toggle('no-video', !video.srcObject || paused);
  video.play().catch(() => {});
}

function setTileMic(tile, off) {
  tile.classList.toggle('mic-off', off);
}

// Tiles as large as fit: the column count that gives the biggest 16:9 tile.
function layoutGrid() {
  const grid = $('grid');
  const tiles = grid.children.length;
  if (!tiles) return;
  const gap = 12;
  const width = grid.clientWidth - 2 * gap;
  const height = grid.clientHeight - 2 * gap;
  let best = { size: 0, cols: 1 };
  for (let cols = 1; cols <= tiles; cols++) {
    const rows = Math.ceil(tiles / cols);
    const w = Math.min((width - gap * (cols - 1)) / cols, ((height - gap * (rows - 1)) / rows) * (16 / 9));
    if (w > best.size) best = { size: w, cols };
  }
  grid.style.setProperty('--tile-width', `${Math.floor(best.size)}px`);
  grid.style.setProperty('--cols', best.cols);
  preferLayers(best.size);
  $('people-count').textContent = tiles === 1 ? '1 participant' : `${tiles} participants`;
}
window.addEventListener('resize', layoutGrid);

// Simulcast: ask for the smallest of the three streams (1/4, 1/2, full
// size) that fills a tile, so small tiles cost the network little.
let preferredLayer = null;
function preferLayers(tileWidth) {
  const pixels = tileWidth * (window.devicePixelRatio || 1);
  const layer = pixels <= 360 ? 0 : pixels <= 720 ? 1 : 2;
  if (layer === preferredLayer || !state.signal) return;
  preferredLayer = layer;
  for (const consumer of state.consumers.values()) {
    if (consumer.kind === 'video') setLayer(consumer);
  }
}

function setLayer(consumer) {
  if (preferredLayer === null) return;
  state.signal
    .request('setPreferredLayers', { consumerId: consumer.id, spatialLayer: preferredLayer })
    .catch((error) => console.warn('setPreferredLayers', error));
}

// ----- speaking ------------------------------------------------------------------

// With the audio level observer, a tile is "speaking" while its level is
// above the threshold; with only the active speaker observer, the dominant
// speaker's tile is. Without either, nothing is highlighted.
const SPEAKING_DB = -50;

function renderSpeaking() {
  const haveLevels = state.levelsSeen;
  for (const tile of $('grid').children) {
    const id = tile.dataset.peer;
    const level = state.levels[id];
    const speaking = haveLevels ? level !== undefined && level > SPEAKING_DB : id === state.activeSpeaker;
    tile.classList.toggle('speaking', speaking);
    tile.classList.toggle('dominant', id === state.activeSpeaker);
    // Three bars for -70..-20 dBov.
    const amount = level === undefined || level <= -60 ? 0 : Math.max(0, Math.min(1, (level + 70) / 50));
    tile.querySelectorAll('.meter i').forEach((bar, i) => {
      bar.style.transform = `scaleY(${Math.max(0.2, Math.min(1, amount * (1 + i * 0.5)))})`;
    });
    tile.classList.toggle('has-level', amount > 0);
  }
}

// ----- chat --------------------------------------------------------------------

function addChatMessage({ name, text, time, mine }) {
  state.chatLog.push({ name, text, mine: Boolean(mine) });
  const item = document.createElement('li');
  item.className = mine ? 'message mine' : 'message';
  const head = document.createElement('div');
  head.className = 'message-head';
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = mine ? 'You' : name;
  who.style.color = `hsl(${hue(name)} 70% 72%)`;
  const when = document.createElement('time');
  when.textContent = new Date(time * 1000 || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  head.append(who, when);
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = text;
  item.append(head, body);
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.appendChild(item);
  if (atBottom || mine) list.scrollTop = list.scrollHeight;
  if (!mine && $('room').classList.contains('chat-hidden')) $('chat-btn').classList.add('unread');
}

function addNotice(text) {
  const item = document.createElement('li');
  item.className = 'notice';
  item.textContent = text;
  $('messages').appendChild(item);
  $('messages').scrollTop = $('messages').scrollHeight;
}

function sendChat(text) {
  text = text.trim();
  if (!text || !state.chatProducer || state.chatProducer.readyState !== 'open') return false;
  state.chatProducer.send(text);
  addChatMessage({ name: state.me.name, text, time: Date.now() / 1000, mine: true });
  return true;
}

// ----- peers -------------------------------------------------------------------

function addPeer({ id, name, bot }) {
  if (state.peers.has(id)) return state.peers.get(id);
  const peer = { id, name, bot, consumers: new Map(), dataConsumers: new Map() };
  peer.tile = makeTile(peer);
  setTileMic(peer.tile, true);
  state.peers.set(id, peer);
  return peer;
}

function removePeer(id) {
  const peer = state.peers.get(id);
  if (!peer) return;
  for (const consumer of peer.consumers.values()) {
    consumer.close();
    state.consumers.delete(consumer.id);
    if (consumer.appData.audio) consumer.appData.audio.remove();
  }
  peer.tile.remove();
  state.peers.delete(id);
  delete state.levels[id];
  layoutGrid();
}

function applyConsumerPaused(consumer, paused) {
  const peer = state.peers.get(consumer.appData.peerId);
  if (!peer) return;
  if (consumer.kind === 'video') setTileVideo(peer.tile, null, paused);
  else setTileMic(peer.tile, paused);
}

async function onNewConsumer(data) {
  const peer = state.peers.get(data.peerId) || addPeer({ id: data.peerId, name: '…' });
  const consumer = await state.recvTransport.consume({
    id: data.id,
    producerId: data.producerId,
    kind: data.kind,
    rtpParameters: data.rtpParameters,
    appData: { peerId: data.peerId, source: data.source },
  });
  peer.consumers.set(consumer.id, consumer);
  state.consumers.set(consumer.id, consumer);
  if (consumer.kind === 'video') {
    setTileVideo(peer.tile, consumer.track, data.producerPaused);
    setLayer(consumer);
  } else {
    // Audio plays from its own element; the tile's <video> stays muted.
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.srcObject = new MediaStream([consumer.track]);
    document.body.appendChild(audio);
    audio.play().catch(() => {});
    consumer.appData.audio = audio;
    setTileMic(peer.tile, data.producerPaused);
  }
  consumer.on('trackended', () => removeConsumer(consumer.id));
  await state.signal.request('resumeConsumer', { consumerId: consumer.id });
}

function removeConsumer(consumerId) {
  const consumer = state.consumers.get(consumerId);
  if (!consumer) return;
  consumer.close();
  state.consumers.delete(consumerId);
  const peer = state.peers.get(consumer.appData.peerId);
  if (peer) {
    peer.consumers.delete(consumerId);
    if (consumer.kind === 'video') {
      peer.tile.querySelector('video').srcObject = null;
      setTileVideo(peer.tile, null, true);
    } else {
      setTileMic(peer.tile, true);
    }
  }
  if (consumer.appData.audio) consumer.appData.audio.remove();
}

async function onNewDataConsumer(data) {
  const peer = state.peers.get(data.peerId);
  const dataConsumer = await state.recvTransport.consumeData({
    id: data.id,
    dataProducerId: data.dataProducerId,
    sctpStreamParameters: data.sctpStreamParameters,
    label: data.label,
    protocol: data.protocol,
    appData: { peerId: data.peerId },
  });
  if (peer) peer.dataConsumers.set(dataConsumer.id, dataConsumer);
  if (dataConsumer.label !== 'chat') return;
  dataConsumer.on('message', (message) => {
    if (typeof message !== 'string') return;
    const sender = state.peers.get(data.peerId);
    addChatMessage({ name: sender ? sender.name : 'Someone', text: message, time: Date.now() / 1000 });
  });
}

// ----- joining -----------------------------------------------------------------

async function getMedia() {
  // Simulcast needs a picture large enough for three sizes.
  const video = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
  for (const constraints of [{ audio: true, video }, { audio: true }, { video }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (error) {
      console.warn('getUserMedia', constraints, error);
    }
  }
  return new MediaStream();
}

async function createTransport(direction) {
  const info = await state.signal.request('createTransport', { direction });
  const transport =
    direction === 'send' ? state.device.createSendTransport(info) : state.device.createRecvTransport(info);
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    state.signal.request('connectTransport', { transportId: transport.id, dtlsParameters }).then(callback, errback);
  });
  transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
    state.signal
      .request('produce', { transportId: transport.id, kind, rtpParameters, source: appData.source })
      .then(callback, errback);
  });
  transport.on('producedata', ({ sctpStreamParameters, label, protocol }, callback, errback) => {
    state.signal
      .request('produceData', { transportId: transport.id, sctpStreamParameters, label, protocol })
      .then(callback, errback);
  });
  transport.on('connectionstatechange', (connectionState) => {
    if (connectionState === 'failed') addNotice(`Media connection (${direction}) failed.`);
  });
  return transport;
}

async function join(name) {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const signal = new Signal(`${scheme}://${location.host}/ws`);
  state.signal = signal;
  signal.on('peerJoined', async (peer) => {
    addPeer(peer);
    addNotice(`${peer.name} joined`);
  });
  signal.on('peerLeft', async ({ peerId }) => {
    const peer = state.peers.get(peerId);
    if (peer) addNotice(`${peer.name} left`);
    removePeer(peerId);
  });
  signal.on('newConsumer', onNewConsumer);
  signal.on('newDataConsumer', onNewDataConsumer);
  signal.on('consumerClosed', async ({ consumerId }) => removeConsumer(consumerId));
  signal.on('consumerPaused', async ({ consumerId }) => {
    const consumer = state.consumers.get(consumerId);
    if (consumer) applyConsumerPaused(consumer, true);
  });
  signal.on('consumerResumed', async ({ consumerId }) => {
    const consumer = state.consumers.get(consumerId);
    if (consumer) applyConsumerPaused(consumer, false);
  });
  signal.on('activeSpeaker', async ({ peerId }) => {
    state.activeSpeaker = peerId;
    renderSpeaking();
  });
  signal.on('audioLevels', async (levels) => {
    state.levelsSeen = true;
    state.levels = levels;
    renderSpeaking();
  });
  signal.onclose = () => {
    if (!state.left) addNotice('Disconnected from the room server.');
  };

  const [stream] = await Promise.all([getMedia(), signal.opened]);
  state.localStream = stream;
  const joined = await signal.request('join', { name });
  state.me = { id: joined.peerId, name };
  state.speakerDetection = joined.speakerDetection;

  $('lobby').hidden = true;
  $('room').hidden = false;
  const selfTile = makeTile({ id: joined.peerId, name }, { self: true });
  const camera = stream.getVideoTracks()[0];
  const mic = stream.getAudioTracks()[0];
  setTileVideo(selfTile, camera || null, !camera);
  setTileMic(selfTile, !mic);
  for (const peer of joined.peers) addPeer(peer);
  for (const message of joined.chat) addChatMessage(message);
  if (!joined.speakerDetection) console.info('speaker detection is not available on this server');

  state.device = new Device();
  await state.device.load({ routerRtpCapabilities: joined.routerRtpCapabilities });
  state.sendTransport = await createTransport('send');
  state.recvTransport = await createTransport('recv');
  await signal.request('ready', { rtpCapabilities: state.device.rtpCapabilities });

  if (camera) {
    state.producers.camera = await state.sendTransport.produce({
      track: camera,
      encodings: [
        { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
        { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
        { scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
      ],
      codecOptions: { videoGoogleStartBitrate: 1000 },
      appData: { source: 'camera' },
    });
  }
  if (mic) {
    state.producers.mic = await state.sendTransport.produce({
      track: mic,
      codecOptions: { opusStereo: false, opusDtx: true },
      appData: { source: 'mic' },
    });
  }
  state.chatProducer = await state.sendTransport.produceData({ label: 'chat', ordered: true });
  updateButtons();
  $('chat-input').focus();
}

// ----- controls ----------------------------------------------------------------

function updateButtons() {
  const mic = state.producers.mic;
  const cam = state.producers.camera;
  const micOff = !mic || mic.paused;
  const camOff = !cam || cam.paused;
  $('mic-btn').innerHTML = micOff ? icons.micOff : icons.mic;
  $('mic-btn').classList.toggle('off', micOff);
  $('mic-btn').title = micOff ? 'Turn the microphone on' : 'Turn the microphone off';
  $('mic-btn').disabled = !mic;
  $('cam-btn').innerHTML = camOff ? icons.cameraOff : icons.camera;
  $('cam-btn').classList.toggle('off', camOff);
  $('cam-btn').title = camOff ? 'Turn the camera on' : 'Turn the camera off';
  $('cam-btn').disabled = !cam;
}

async function toggle(source) {
  const producer = state.producers[source];
  if (!producer) return;
  const paused = !producer.paused;
  if (paused) producer.pause();
  else producer.resume();
  updateButtons();
  const selfTile = document.querySelector('.tile.self');
  if (source === 'camera') setTileVideo(selfTile, null, paused);
  else setTileMic(selfTile, paused);
  await state.signal.request('setProducerPaused', { producerId: producer.id, paused });
}

function leave() {
  state.left = true;
  if (state.signal) state.signal.ws.close();
  for (const transport of [state.sendTransport, state.recvTransport]) if (transport) transport.close();
  if (state.localStream) for (const track of state.localStream.getTracks()) track.stop();
  document.body.innerHTML = `<div class="lobby"><div class="card"><div class="brand">
    <span class="brand-mark"></span>You left the room</div>
    <button class="primary" onclick="location.reload()">Join again</button></div></div>`;
}

function setUp() {
  $('mic-btn').addEventListener('click', () => toggle('mic'));
  $('cam-btn').addEventListener('click', () => toggle('camera'));
  $('chat-btn').innerHTML = icons.chat;
  $('chat-btn').addEventListener('click', () => {
    $('room').classList.toggle('chat-hidden');
    $('chat-btn').classList.remove('unread');
    layoutGrid();
  });
  $('leave-btn').innerHTML = icons.leave;
  $('leave-btn').addEventListener('click', leave);
  $('chat-send').innerHTML = icons.send;
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (sendChat($('chat-input').value)) $('chat-input').value = '';
  });
  updateButtons();

  const saved = params.get('name') || localStorage.getItem('demo-name') || '';
  $('name').value = saved || `Guest ${Math.floor(100 + Math.random() * 900)}`;
  const start = () => {
    const name = $('name').value.trim().slice(0, 40) || 'Guest';
    localStorage.setItem('demo-name', name);
    $('join').disabled = true;
    $('join').textContent = 'Joining…';
    join(name).then(
      () => layoutGrid(),
      (error) => {
        console.error(error);
        $('lobby-error').textContent = `Could not join: ${error.message}`;
        $('lobby-error').hidden = false;
        $('join').disabled = false;
        $('join').textContent = 'Join';
      },
    );
  };
  $('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    start();
  });
  if (params.has('autojoin')) start();
  else $('name').select();
}

setUp();

// ----- statistics (for the headless check and the curious) -------------------

function pick(report, type) {
  const out = [];
  for (const s of report.values()) if (s.type === type) out.push(s);
  return out;
}

window.demo.sendChat = sendChat;
window.demo.stats = async () => {
  const out = {
    joined: Boolean(state.me && state.recvTransport),
    me: state.me,
    recv: [],
    send: [],
    dataConsumers: [],
    chatOpen: Boolean(state.chatProducer && state.chatProducer.readyState === 'open'),
    chat: state.chatLog,
    activeSpeaker: state.activeSpeaker,
    speaking: [...document.querySelectorAll('.tile.speaking')].map((t) => t.dataset.peer),
    levelsSeen: Boolean(state.levelsSeen),
  };
  for (const consumer of state.consumers.values()) {
    const peer = state.peers.get(consumer.appData.peerId);
    const [s] = pick(await consumer.getStats(), 'inbound-rtp');
    out.recv.push({
      peer: peer ? peer.name : consumer.appData.peerId,
      kind: consumer.kind,
      packetsReceived: s ? s.packetsReceived : 0,
      packetsLost: s ? s.packetsLost : 0,
      bytesReceived: s ? s.bytesReceived : 0,
      framesDecoded: s ? s.framesDecoded : undefined,
      frameWidth: s ? s.frameWidth : undefined,
      frameHeight: s ? s.frameHeight : undefined,
      totalSamplesReceived: s ? s.totalSamplesReceived : undefined,
      totalAudioEnergy: s ? s.totalAudioEnergy : undefined,
    });
  }
  for (const [source, producer] of Object.entries(state.producers)) {
    for (const s of pick(await producer.getStats(), 'outbound-rtp')) {
      out.send.push({
        source,
        rid: s.rid,
        // Without retransmissions and the bandwidth probes sent as such.
        bytesSent: s.bytesSent - (s.retransmittedBytesSent || 0),
        limitation: s.qualityLimitationReason,
        packetsSent: s.packetsSent,
        framesEncoded: s.framesEncoded,
        frameWidth: s.frameWidth,
        frameHeight: s.frameHeight,
      });
    }
  }
  for (const peer of state.peers.values()) {
    for (const d of peer.dataConsumers.values())
      out.dataConsumers.push({ peer: peer.name, label: d.label, readyState: d.readyState });
  }
  return out;
};
