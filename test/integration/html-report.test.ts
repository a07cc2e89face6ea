/**
 * The HTML report in a real headless browser (Debian's chromium via playwright-core): it renders
 * with no console errors, loads nothing from anywhere, a banner carrying a <script> payload
 * executes nothing, and a screenshot is kept in test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { parseResultText } from '../../src/report/parse-result.js';
import { findExecutable } from '../../src/util/find-executable.js';
import { describeNeeding } from '../helpers/requirements.js';

const ROOT = new URL('../../', import.meta.url);
const ARTIFACTS = new URL('test-artifacts/', ROOT).pathname;
const work = mkdtempSync(join(tmpdir(), 'portmatrix-html-'));
let context: BrowserContext | undefined;

const CHROMIUM = findExecutable('chromium');

beforeAll(async () => {
  if (!CHROMIUM) return;
  const profile = join(work, 'profile'); // an empty --user-data-dir
  mkdirSync(profile);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await context?.close();
  rmSync(work, { recursive: true, force: true });
});

interface PageRun {
  consoleErrors: string[];
  requests: string[];
  pwned: unknown;
  title: string;
  scripts: number;
  images: number;
  tiles: number;
}

async function openReport(file: string, screenshot?: string): Promise<PageRun> {
  const page = await context!.newPage();
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('request', (request) => requests.push(request.url()));
  try {
    const url = pathToFileURL(file).href;
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    const run: PageRun = {
      consoleErrors,
      requests: requests.filter((request) => request !== url),
      pwned: await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned),
      title: await page.title(),
      scripts: await page.locator('script').count(),
      images: await page.locator('img').count(),
      tiles: await page.locator('.tile').count(),
    };
    if (screenshot) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
    }
    return run;
  } finally {
    await page.close();
  }
}

describeNeeding('HTML report in headless chromium', { tools: ['chromium'] }, () => {
  it('the harness does detect a script that runs (control)', async () => {
    const file = join(work, 'control.html');
    writeFileSync(file, '<!DOCTYPE html><title>t</title><script>window.__pwned=1</script>');
    expect((await openReport(file)).pwned).toBe(1);
  });

  it('renders with no console errors, loads nothing, and runs no banner payload', async () => {
    const text = readFileSync(new URL('fixtures/results/ip-office-drift-waived.json', ROOT), 'utf8');
    const result = parseResultText(text, 'ip-office-drift-waived.json');
    // The fixture's banners carry <script> and <img onerror> payloads.
    expect(text).toContain('<script>document.title=\\"pwned\\"');
    const file = join(work, 'report.html');
    writeFileSync(file, renderHtml(result));
    const run = await openReport(file, 'html-report.png');
    expect(run.consoleErrors).toEqual([]);
    expect(run.requests).toEqual([]);
    expect(run.pwned).toBeUndefined();
    expect(run.title).not.toContain('pwned');
    expect(run.title).toContain('Port conformance: IP Office 9.1');
    expect(run.scripts).toBe(0);
    expect(run.images).toBe(0);
    // Two hosts: 13 map entries each, plus 8080 and udp/45000 outside the matrix on the drifted one.
    expect(run.tiles).toBe(28);
    expect(statSync(join(ARTIFACTS, 'html-report.png')).size).toBeGreaterThan(10_000);
  });
});
