/**
 * Headless Chromium for the browser tests, driven by playwright-core. The
 * binary comes from npm (`@sparticuz/chromium` ships it inside the package and
 * unpacks it on first use), so a fresh clone needs nothing but `npm ci`.
 * `FERRY_CHROMIUM_PATH` points the tests at another executable instead (for
 * example Debian's `/usr/bin/chromium`).
 */
import sparticuz from '@sparticuz/chromium';
import { chromium, type Browser } from 'playwright-core';

/** Flags for Chromium here: root, no GPU, and no calls home (refused noisily on a closed network otherwise). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-zygote',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The executable the tests launch: `FERRY_CHROMIUM_PATH`, or the one `@sparticuz/chromium` unpacks. */
export async function chromiumExecutable(): Promise<string> {
  const override = process.env.FERRY_CHROMIUM_PATH;
  if (override !== undefined && override !== '') return override;
  return sparticuz.executablePath();
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumExecutable(), args: CHROMIUM_ARGS, headless: true });
}
