// Runs the mediasoup Node host's own ORTC functions on the cases given as
// JSON on stdin and prints their results as JSON, for comparison with the
// Python library. Usage: node ortc_node.js <path of the mediasoup package>
// Random numbers (SSRCs) come from a counter, so that results are
// reproducible: 100000000, 100001000, 100002000 ...
'use strict';

const path = require('path');

const pkg = process.argv[2];
const utils = require(path.join(pkg, 'lib', 'utils'));
const ortc = require(path.join(pkg, 'lib', 'ortc'));

let next = 100000000;
utils.generateRandomNumber = () => {
  const value = next;
  next += 1000;
  return value;
};

function run(c) {
  next = 100000000;
  try {
    switch (c.op) {
      case 'routerCaps':
        return { ok: ortc.generateRouterRtpCapabilities(c.mediaCodecs) };
      case 'produce': {
        const caps = ortc.generateRouterRtpCapabilities(c.mediaCodecs);
        const params = c.rtpParameters;
        ortc.validateRtpParameters(params);
        if (!params.encodings || params.encodings.length === 0) params.encodings = [{}];
        const mapping = ortc.getProducerRtpParametersMapping(params, caps);
        const consumable = ortc.getConsumableRtpParameters(c.kind, params, caps, mapping);
        const out = { params, mapping, consumable };
        if (c.consumerCaps) {
          ortc.validateRtpCapabilities(c.consumerCaps);
          out.canConsume = ortc.canConsume(consumable, JSON.parse(JSON.stringify(c.consumerCaps)));
          if (out.canConsume) {
            out.consumer = ortc.getConsumerRtpParameters(consumable, c.consumerCaps, false);
            out.pipeConsumer = ortc.getConsumerRtpParameters(consumable, c.consumerCaps, true);
          }
        }
        out.pipe = ortc.getPipeConsumerRtpParameters(consumable, false);
        out.pipeRtx = ortc.getPipeConsumerRtpParameters(consumable, true);
        return { ok: out };
      }
      default:
        return { error: `unknown op ${c.op}` };
    }
  } catch (error) {
    return { error: error.name || 'Error', message: String(error.message) };
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  process.stdout.write(JSON.stringify(cases.map(run)));
});
