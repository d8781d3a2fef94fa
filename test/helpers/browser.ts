import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { JSDOM } from 'jsdom';
import { tools } from './systemTools.js';

/**
 * A page's DOM as a browser builds it, serialized: headless Chromium's `--dump-dom`, or without
 * Chromium (test/helpers/systemTools.ts) jsdom's. jsdom parses with parse5, which follows the
 * HTML standard's tree construction as Chromium does (implied <tbody>, error recovery), so the
 * same regular expressions read both; it lays nothing out, which these checks do not need.
 * `target` is a file path or an http:// URL; `profile` a fresh folder for Chromium's profile.
 */
export async function renderedDom(target: string, profile: string): Promise<string> {
  const chromium = tools().chromium;
  const url = target.startsWith('http') ? target : `file://${target}`;
  if (chromium) {
    // Asynchronous: the page may be served by this very process (the status server's tests).
    const { stdout } = await promisify(execFile)(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        '--dump-dom',
        url,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    return stdout;
  }
  const html = target.startsWith('http') ? await (await fetch(target)).text() : await fs.readFile(target, 'utf8');
  return new JSDOM(html, { url }).serialize();
}
