'use strict';
// Headless Chromium as the browser tests run it (test.js, shaped.js). The
// machine has no internet and runs as root: no sandbox, no GPU, fake media
// devices that need no permission prompt, and nothing that phones home.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// A fresh profile (so nothing carries over between runs) and a browser on
// it; both are undone by the functions pushed to `cleanups`. Signals are
// left to the caller, which closes things in order.
async function launchChromium({ executablePath = CHROMIUM, label, extraArgs = [], timeout, cleanups }) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sfu-browser-${label}-`));
  cleanups.push(() => fs.rmSync(userDataDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    timeout,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  cleanups.push(() => context.close());
  return context;
}

// Prints a page's uncaught errors and console errors, tagged with `label`.
function watchPage(page, label) {
  page.on('pageerror', (error) => console.log(`  [${label}] page error: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`  [${label}] console: ${msg.text()}`);
  });
  return page;
}

module.exports = { CHROMIUM, launchChromium, watchPage };
