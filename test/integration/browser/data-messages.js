'use strict';
// The data channel scenario's messages, made the same way in the page (which
// sends them) and in the runner (which knows what must arrive), and the
// fingerprint both take of a message: its kind, size and an FNV-1a hash.

// `size` pseudo-random bytes, a function of `seed` alone (xorshift32).
function messageBytes(seed, size) {
  const out = new Uint8Array(size);
  let x = Math.imul(seed + 1, 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// A string of `size` lowercase letters (as many UTF-8 bytes).
function messageText(seed, size) {
  const bytes = messageBytes(seed, size).map((b) => 97 + (b % 26));
  return new TextDecoder().decode(bytes);
}

function message(seed, kind, size) {
  return kind === 'string' ? messageText(seed, size) : messageBytes(seed, size);
}

function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

// A string, or binary data (ArrayBuffer, typed array or Buffer).
function fingerprint(data) {
  if (typeof data === 'string') {
    const bytes = new TextEncoder().encode(data);
    return { kind: 'string', size: bytes.length, hash: fnv1a(bytes) };
  }
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { kind: 'binary', size: bytes.length, hash: fnv1a(bytes) };
}

module.exports = { message, fingerprint };
