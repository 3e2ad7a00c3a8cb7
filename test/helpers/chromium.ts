/** Debian's Chromium, driven by playwright-core (no browser download is possible here). */
import { chromium, type Browser } from 'playwright-core';

/** Flags Debian's Chromium needs here: root, no GPU, and no calls home (refused noisily otherwise). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}
