// e2e.ts: drives a real VS Code (code-server) in Debian's Chromium with Playwright and checks
// what a user sees with the goblock extension on the fixture workspace: the diagnostics
// (squiggle + Problems entry), an end-of-line inlay hint, the hover's goroutine table, the
// "Blocking hot spots" tree and quick pick, Clear + Load Trace… (file dialog), the language
// status item (trace, Go version, stale?), the inlay-hint toggle (which leaves the settings file
// alone), a wrong goblock.server.path (one notification, the status and the view say it,
// Open Settings shows the setting, clearing it restarts the server), and a capture: the
// "goblock: trace" lens above TestBlocking run by a click (spinner, notification, Show Hot
// Spots, the captured trace shown); then a goroutine dump dropped into the workspace: its lines
// under "Parked now" in the hot-spots tree (which also lists the captures), its hover, and Show
// Goroutines Parked Here. The extension is the platform .vsix with the binary inside and no
// goblock.server.path. Saves three screenshots (beside the first: vscode-capture.png, the lens
// and the notification; vscode-dump.png, the dump's hover).
// Prints one line per check and "N passed, N failed"; exit code 1 when a check failed.
// Environment: E2E_URL, E2E_WORKSPACE, E2E_SCREENSHOT, E2E_ARTIFACTS, E2E_REPO (set by scripts/e2e.sh).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, Page } from 'playwright-core';
import { expectedSites, Site } from './markers';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run scripts/e2e.sh)`);
  return v;
};
const URL = env('E2E_URL');
const SHOT = env('E2E_SCREENSHOT');
const ARTIFACTS = env('E2E_ARTIFACTS');
const MARKERS = process.env.E2E_MARKERS;
// Timeouts are only how long a wait may take before the check fails: every wait ends on the
// event it waits for. Generous, scaled by E2E_TIMEOUT_SCALE (default 3): a loaded 2-core CI
// machine (load average 25) once needed more than the old 15-90 s.
const SCALE = Number(process.env.E2E_TIMEOUT_SCALE ?? 3) || 3;
const tm = (ms: number): number => ms * SCALE;
const T = tm(60_000);

let passed = 0;
let failed = 0;
let shownPage: Page | undefined;
async function check(name: string, run: () => Promise<string | void>): Promise<boolean> {
  const t = Date.now();
  try {
    const detail = await run();
    passed++;
    console.log(`ok   ${name} (${((Date.now() - t) / 1000).toFixed(1)}s)${detail ? ` — ${detail}` : ''}`);
    return true;
  } catch (e) {
    failed++;
    // The screen as the check failed (the run's last screenshot shows only the end).
    const shot = path.join(ARTIFACTS, `failure-${passed + failed}.png`);
    const saved = shownPage ? await shownPage.screenshot({ path: shot }).then(() => ` (screen: ${shot})`, () => '') : '';
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message.split('\n')[0] : e}${saved}`);
    return false;
  }
}

async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: T });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: tm(15_000) });
  await page.keyboard.press('Enter');
}

async function openFileAt(page: Page, file: string, line: number): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: T });
  await input.fill(`${file}:${line}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: file }).first().waitFor({ timeout: tm(15_000) });
  await page.keyboard.press('Enter');
  await page.locator(`.tab.active[data-resource-name="${file}"], .tab.active:has-text("${file}")`).first().waitFor({ timeout: T });
}

/** The 1-based line of the cursor, from the status bar ("Ln 109, Col 2"). */
async function cursorLine(page: Page): Promise<number> {
  const text = await page.locator('#status\\.editor\\.selection').innerText({ timeout: tm(10_000) });
  const m = /Ln (\d+)/.exec(text);
  if (!m) throw new Error(`status bar selection "${text}"`);
  return Number(m[1]);
}

/** Text of the rendered editor line whose line number is `line`, inlay hints included. */
async function renderedLine(page: Page, line: number): Promise<string> {
  return page.evaluate((ln) => {
    const editor = document.querySelector('.editor-instance .monaco-editor');
    if (!editor) return '';
    const nums = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')] as HTMLElement[];
    const num = nums.find((n) => n.textContent?.trim() === String(ln));
    if (!num) return '';
    const top = (num.closest('[style*="top"]') as HTMLElement | null)?.style.top ?? num.parentElement?.style.top;
    const rows = [...editor.querySelectorAll('.view-lines .view-line')] as HTMLElement[];
    return rows.find((r) => r.style.top === top)?.textContent ?? '';
  }, line);
}

/** Clicks the start of the text of the rendered editor line whose line number is `line`. */
async function clickLine(page: Page, line: number): Promise<void> {
  const box = await page.evaluate((ln) => {
    const editor = document.querySelector('.editor-instance .monaco-editor');
    if (!editor) return undefined;
    const nums = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')] as HTMLElement[];
    const num = nums.find((n) => n.textContent?.trim() === String(ln));
    if (!num) return undefined;
    const top = (num.closest('[style*="top"]') as HTMLElement | null)?.style.top ?? num.parentElement?.style.top;
    const row = ([...editor.querySelectorAll('.view-lines .view-line')] as HTMLElement[]).find((r) => r.style.top === top);
    const span = row?.querySelector('span span') as HTMLElement | null;
    const r = (span ?? row)?.getBoundingClientRect();
    return r ? { x: r.left + Math.min(8, r.width / 2), y: r.top + r.height / 2 } : undefined;
  }, line);
  if (!box) throw new Error(`line ${line} is not on screen`);
  await page.mouse.click(box.x, box.y);
}

/**
 * Ids of the goroutines of a dump's text whose first frame in testdata/programs/parked is at
 * `site` ("pool.go:27"), read without goblock; ascending.
 */
function goroutinesAt(text: string, site: string): number[] {
  const ids: number[] = [];
  let id: number | undefined;
  let found = false;
  for (const line of text.split('\n')) {
    const head = /^goroutine (\d+) .*\[.*\]:$/.exec(line);
    if (head) {
      id = Number(head[1]);
      found = false;
    } else if (line.startsWith('created by ')) {
      id = undefined;
    } else if (id !== undefined && !found) {
      const m = /^\t\S+\/parked\/(\S+\.go:\d+)/.exec(line);
      if (m) {
        found = true;
        if (m[1] === site) ids.push(id);
      }
    }
  }
  return ids.sort((a, b) => a - b);
}

/** Files under `dir` whose name matches `re` (recursive; none when `dir` is missing). */
function findFiles(dir: string, re: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, re));
    else if (re.test(e.name)) out.push(p);
  }
  return out;
}

/** Opens the language status hover until its text satisfies `ok` (30 s); returns its goblock part. */
async function languageStatusUntil(page: Page, ok: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + tm(30_000);
  for (;;) {
    await page.locator('#status\\.languageStatus').click({ timeout: tm(15_000) });
    const hover = page.locator('.hover-language-status, .monaco-hover:not(.hidden)').first();
    await hover.waitFor({ timeout: tm(15_000) });
    const text = (await hover.innerText()).replace(/\s+/g, ' ');
    await page.keyboard.press('Escape');
    if (ok(text)) return text.slice(text.indexOf('goblock'), text.indexOf('goblock') + 60);
    if (Date.now() > deadline) throw new Error(`language status: "${text.slice(0, 200)}"`);
    await page.waitForTimeout(1000);
  }
}

async function main(): Promise<void> {
  const sites: Site[] = expectedSites(MARKERS);
  const main = sites[0];
  console.log(`e2e: expecting a goblock diagnostic at ${main.file}:${main.line} (${main.reason})`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  shownPage = page;
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  try {
    await check('workbench loads', async () => {
      await page.goto(URL, { waitUntil: 'domcontentloaded' });
      await page.locator('.monaco-workbench').waitFor({ timeout: T });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'main.go' }).first().waitFor({ timeout: T });
    });

    await check(`open ${main.file}:${main.line}`, async () => {
      await openFileAt(page, main.file, main.line);
      const ln = await cursorLine(page);
      if (ln !== main.line) throw new Error(`cursor at line ${ln}`);
    });

    await check('diagnostic squiggle on a blocking line', async () => {
      await page.locator('.editor-instance .monaco-editor .squiggly-info, .editor-instance .monaco-editor .squiggly-warning, ' +
        '.editor-instance .monaco-editor .squiggly-error, .editor-instance .monaco-editor .squiggly-hint').first().waitFor({ timeout: tm(90_000) });
      return `${await page.locator('.editor-instance .monaco-editor [class*="squiggly-"]').count()} squiggle(s)`;
    });

    await check('inlay hint at the end of the blocking line', async () => {
      // Inlay hints are injected text: a non-empty span with a dynamic class inside the line.
      const hint = page.locator('.editor-instance .monaco-editor .view-lines span[class*="dyn-rule"]:not(:empty)').first();
      await hint.waitFor({ timeout: tm(30_000) });
      const deadline = Date.now() + tm(30_000);
      for (;;) {
        const text = await renderedLine(page, main.line);
        const source = fs.readFileSync(path.join(env('E2E_WORKSPACE'), main.file), 'utf8').split('\n')[main.line - 1];
        const extra = text.replace(/\u00a0/g, ' ').slice(source.replace(/\t/g, '    ').length).trim();
        if (extra) return `line ${main.line} renders "${extra}" after the code`;
        if (Date.now() > deadline) throw new Error(`line ${main.line} shows no hint: "${text}"`);
        await page.waitForTimeout(500);
      }
    });

    await check('hover shows the goroutine table', async () => {
      await page.keyboard.press('End');
      await page.keyboard.press('Home');
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content, .monaco-hover .hover-contents').first();
      await hover.waitFor({ timeout: tm(30_000) });
      const table = page.locator('.monaco-hover table').first();
      await table.waitFor({ timeout: tm(15_000) });
      const head = (await table.locator('tr').first().innerText()).replace(/\s+/g, ' ').trim();
      if (!/goroutine/i.test(head)) throw new Error(`table header "${head}"`);
      const rows = await table.locator('tr').count();
      if (rows < 2) throw new Error('table has no rows');
      return `header "${head}", ${rows - 1} row(s)`;
    });

    await check('hot-spots tree lists files and lines', async () => {
      await runCommand(page, 'goblock: Focus on Blocking hot spots View');
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Blocking hot spots/i }) });
      const fileRow = pane.locator('.monaco-list-row', { hasText: main.file }).first();
      await fileRow.waitFor({ timeout: T });
      const lineRows = pane.locator('.monaco-list-row[aria-level="2"]');
      await lineRows.first().waitFor({ timeout: tm(15_000) });
      const n = await lineRows.count();
      const first = (await lineRows.first().innerText()).replace(/\s+/g, ' ');
      return `${n} line row(s), first: "${first}"`;
    });

    await check('screenshot', async () => {
      // Back to the blocking line with its hover, beside the tree, for the README.
      await openFileAt(page, main.file, main.line);
      await page.keyboard.press('Control+K');
      await page.keyboard.press('Control+I');
      await page.locator('.monaco-hover table').first().waitFor({ timeout: tm(15_000) });
      // The hover leads with its summary and the goroutine table: no scrolling needed.
      await page.waitForTimeout(800);
      await page.screenshot({ path: SHOT });
      return SHOT;
    });

    await check('clicking a hot line opens it', async () => {
      await page.keyboard.press('Escape');
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Blocking hot spots/i }) });
      const row = pane.locator('.monaco-list-row[aria-level="2"]').nth(1);
      const label = (await row.innerText()).trim();
      const want = Number(/^(\d+):/.exec(label)?.[1]);
      await row.click();
      const deadline = Date.now() + tm(15_000);
      while ((await cursorLine(page)) !== want) {
        if (Date.now() > deadline) throw new Error(`cursor at ${await cursorLine(page)}, want ${want} ("${label}")`);
        await page.waitForTimeout(250);
      }
      return `line ${want}`;
    });

    await check('Show Blocking Hot Spots jumps to the hottest line', async () => {
      await runCommand(page, 'goblock: Show Blocking Hot Spots');
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: /\.go:\d+/ }).first();
      await row.waitFor({ timeout: tm(30_000) });
      // The row's label ("main.go:573"), without its description ("584 ms · 1 block · …").
      const label = (await row.locator('.label-name').first().innerText()).trim();
      const m = /^(.+):(\d+)$/.exec(label);
      if (!m) throw new Error(`first row "${label}"`);
      await page.keyboard.press('Enter');
      await page.locator(`.tab.active:has-text("${m[1]}")`).first().waitFor({ timeout: tm(15_000) });
      const deadline = Date.now() + tm(15_000);
      while ((await cursorLine(page)) !== Number(m[2])) {
        if (Date.now() > deadline) throw new Error(`cursor at ${await cursorLine(page)}, want ${m[2]}`);
        await page.waitForTimeout(250);
      }
      return label;
    });

    await check(`Problems panel lists the goblock diagnostic at ${main.file}:${main.line}`, async () => {
      await page.keyboard.press('Control+Shift+M');
      const rows = page.locator('.markers-panel .monaco-list-row');
      await rows.first().waitFor({ timeout: tm(15_000) });
      const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
      const ours = texts.filter((t) => /goblock/.test(t));
      const at = ours.find((t) => t.includes(`[Ln ${main.line},`));
      if (!at) throw new Error(`no goblock row at line ${main.line} among ${JSON.stringify(ours.slice(0, 5))}`);
      return `${ours.length} row(s); "${at.slice(0, 110)}"`;
    });

    await check('Clear removes the diagnostics, Load Trace… (file dialog) brings them back', async () => {
      await openFileAt(page, main.file, main.line);
      const squiggles = page.locator('.editor-instance .monaco-editor [class*="squiggly-"]');
      await squiggles.first().waitFor({ timeout: tm(15_000) });
      await runCommand(page, 'goblock: Clear');
      await page.waitForFunction(
        () => document.querySelectorAll('.editor-instance .monaco-editor [class*="squiggly-"]').length === 0,
        undefined, { timeout: tm(30_000) });
      await runCommand(page, 'goblock: Load Trace…');
      // code-server's open dialog is VS Code's simple file dialog: a quick input with a path. It
      // reuses the command palette's widget, so wait for the dialog itself (its title), not for
      // any quick input: typing into the closing palette lost the path in one CI run.
      const dialog = page.locator('.quick-input-widget', { hasText: 'Load Go execution trace' });
      await dialog.waitFor({ timeout: tm(30_000) });
      const input = dialog.locator('input').first();
      const target = path.join(env('E2E_WORKSPACE'), 'blocking.trace');
      // The dialog fills its input with the folder and lists it asynchronously, and may reset the
      // input when the listing arrives: wait for the listing, then type until the path sticks.
      await dialog.locator('.monaco-list-row', { hasText: 'blocking.trace' }).first().waitFor({ timeout: tm(30_000) });
      const value = () => input.inputValue();
      for (let i = 0; ; i++) {
        await input.fill(target);
        await page.waitForTimeout(700);
        if ((await value()) === target) break;
        if (i === 5) throw new Error(`file dialog input stays "${await value()}"`);
      }
      await page.keyboard.press('Enter');
      // Accept again if the dialog took the first Enter to settle its completion.
      for (let i = 0; ; i++) {
        const gone = await dialog.waitFor({ state: 'hidden', timeout: 5_000 }).then(() => true, () => false);
        if (gone) break;
        if (i === 3) throw new Error(`file dialog still open with "${await value()}"`);
        await input.fill(target);
        await page.waitForTimeout(700);
        await page.keyboard.press('Enter');
      }
      await squiggles.first().waitFor({ timeout: tm(60_000) });
      return `${await squiggles.count()} squiggle(s) after loading blocking.trace`;
    });

    await check('language status shows the trace and its Go version', async () => {
      await openFileAt(page, main.file, main.line);
      // The status item refreshes when the server reports the load: poll it.
      return languageStatusUntil(page, (t) => /blocking\.trace/.test(t) && /Go 1\.\d+/.test(t));
    });

    await check('language status says stale? once a .go file is newer than the trace', async () => {
      const trace = path.join(env('E2E_WORKSPACE'), 'blocking.trace');
      const producer = path.join(env('E2E_WORKSPACE'), 'producer.go');
      const later = new Date(fs.statSync(trace).mtimeMs + 60_000);
      fs.utimesSync(producer, later, later);
      await runCommand(page, 'goblock: Reload');
      return languageStatusUntil(page, (t) => /stale\?/.test(t));
    });

    const settingsFile = path.join(env('E2E_WORKSPACE'), '.vscode', 'settings.json');
    const settingsBefore = fs.readFileSync(settingsFile, 'utf8');
    const source = fs.readFileSync(path.join(env('E2E_WORKSPACE'), main.file), 'utf8').split('\n')[main.line - 1];
    const lineShows = async (hint: boolean): Promise<void> => {
      const deadline = Date.now() + tm(20_000);
      for (;;) {
        const text = (await renderedLine(page, main.line)).replace(/\u00a0/g, ' ');
        const bare = text.trim() === source.replace(/\t/g, '    ').trim();
        if (bare !== hint && text !== '') return;
        if (Date.now() > deadline) throw new Error(`line ${main.line} ${hint ? 'shows no hint' : 'still shows'}: "${text}"`);
        await page.waitForTimeout(500);
      }
    };

    await check('the server is the binary inside the .vsix (no goblock.server.path)', async () => {
      if (/goblock\.server\.path/.test(settingsBefore)) throw new Error(`settings set the path: ${settingsBefore}`);
      const logs = findFiles(path.join(ARTIFACTS, 'ud', 'logs'), /goblock\.log$/);
      const started = logs.map((f) => fs.readFileSync(f, 'utf8')).join('\n').match(/goblock: starting (\S+) lsp \((\w+)\)/);
      if (!started) throw new Error(`no "goblock: starting" line in ${logs.join(', ') || 'the goblock output log'}`);
      if (started[2] !== 'bundled' || !started[1].includes(`${path.sep}bin${path.sep}goblock`)) {
        throw new Error(`started ${started[1]} (${started[2]})`);
      }
      return started[1];
    });

    await check('Toggle Inlay Hints hides and shows the hint, and writes no settings file', async () => {
      await openFileAt(page, main.file, main.line);
      await lineShows(true);
      await runCommand(page, 'goblock: Toggle Inlay Hints');
      await lineShows(false);
      const after = fs.readFileSync(settingsFile, 'utf8');
      if (after !== settingsBefore) throw new Error(`.vscode/settings.json changed:\n${after}`);
      await runCommand(page, 'goblock: Toggle Inlay Hints');
      await lineShows(true);
      if (fs.readFileSync(settingsFile, 'utf8') !== settingsBefore) throw new Error('.vscode/settings.json changed');
      return '.vscode/settings.json unchanged';
    });

    await check('a wrong goblock.server.path: one notification, status and view say it, Open Settings shows it', async () => {
      const missing = path.join(ARTIFACTS, 'no-such-goblock');
      const withPath = JSON.parse(settingsBefore);
      withPath['goblock.server.path'] = missing;
      fs.writeFileSync(settingsFile, JSON.stringify(withPath, null, 2));
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'goblock.server.path' });
      await toast.first().waitFor({ timeout: tm(60_000) });
      await page.waitForTimeout(2000);
      const toasts = await page.locator('.notifications-toasts .notification-toast', { hasText: 'goblock' }).count();
      if (toasts !== 1) throw new Error(`${toasts} goblock notifications`);
      const message = (await toast.first().innerText()).replace(/\s+/g, ' ');
      // Its button first: a toast hides once the window is used. Away from the status bar,
      // whose hover would cover the button.
      await page.mouse.move(700, 300);
      await page.waitForTimeout(500);
      await toast.first().locator('.monaco-button', { hasText: 'Open Settings' }).first().click({ timeout: tm(15_000) });
      const editor = page.locator('.settings-editor');
      await editor.waitFor({ timeout: tm(30_000) });
      const deadline = Date.now() + tm(20_000);
      for (;;) {
        const text = (await editor.innerText()).replace(/\s+/g, ' ');
        if (/Server: Path/.test(text) && !/No Settings Found/.test(text)) break;
        if (Date.now() > deadline) throw new Error(`settings editor: "${text.slice(0, 200)}"`);
        await page.waitForTimeout(500);
      }
      const tab = (await editor.locator('.settings-tabs-widget .action-item.checked, .settings-tabs-widget .action-label.checked')
        .first().innerText().catch(() => '?')).replace(/\s+/g, ' ');
      await page.keyboard.press('Control+W');
      await openFileAt(page, main.file, main.line);
      const status = await languageStatusUntil(page, (t) => /no server/.test(t));
      if (/not running/.test(status)) throw new Error(`status: ${status}`);
      await runCommand(page, 'goblock: Focus on Blocking hot spots View');
      const welcome = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Blocking hot spots/i }) })
        .locator('.welcome-view-content');
      await welcome.waitFor({ timeout: tm(15_000) });
      const says = (await welcome.innerText()).replace(/\s+/g, ' ');
      if (!/could not start/.test(says) || /No blocking recorded/.test(says)) throw new Error(`view: "${says}"`);
      return `"${message.slice(0, 90)}…"; settings tab "${tab}"`;
    });

    await check('clearing goblock.server.path starts the shipped server again', async () => {
      fs.writeFileSync(settingsFile, settingsBefore);
      await openFileAt(page, main.file, main.line);
      await page.locator('.editor-instance .monaco-editor [class*="squiggly-"]').first().waitFor({ timeout: tm(60_000) });
      return languageStatusUntil(page, (t) => /blocking\.trace/.test(t) && !/no server/.test(t));
    });

    await check('the "goblock: trace" lens above TestBlocking traces it', async () => {
      const file = 'blocking_test.go';
      const src = fs.readFileSync(path.join(env('E2E_WORKSPACE'), file), 'utf8').split('\n');
      const at = src.findIndex((l) => l.startsWith('func TestBlocking(')) + 1;
      if (at === 0) throw new Error(`no TestBlocking in ${file}`);
      const started = Date.now();
      await openFileAt(page, file, at);
      const lens = page.locator('.editor-instance .codelens-decoration a', { hasText: /^goblock: trace$/ }).first();
      await lens.waitFor({ timeout: tm(60_000) });
      await lens.click();
      // The spinner shows while it builds and runs (a few seconds).
      const spinner = page.locator('.statusbar-item', { hasText: 'goblock: tracing TestBlocking' }).first();
      const spun = await spinner.waitFor({ timeout: 10_000 }).then(() => true, () => false);
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'traced TestBlocking' }).first();
      await toast.waitFor({ timeout: tm(180_000) });
      const text = (await toast.locator('.notification-list-item-message').first().innerText()).trim();
      const took = ((Date.now() - started) / 1000).toFixed(1);
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(path.dirname(SHOT), 'vscode-capture.png') });
      await toast.locator('a.monaco-button, .monaco-button', { hasText: 'Show Hot Spots' }).first().click();
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: /\.go:\d+/ }).first();
      await row.waitFor({ timeout: tm(30_000) });
      await page.keyboard.press('Escape');
      return `"${text}"${spun ? ', spinner seen' : ''}; ${took} s from opening the file to the notification`;
    });

    await check('the captured trace replaces the one shown', async () => {
      // Still in blocking_test.go: only the test's own trace has blocking there (in TestMain).
      const status = await languageStatusUntil(page, (t) => /goblock: TestBlocking \(capture\)/.test(t) && !/blocking\.trace/.test(t));
      const squiggle = page.locator('.editor-instance .monaco-editor [class*="squiggly-"]').first();
      await squiggle.waitFor({ timeout: tm(60_000) });
      return `${status}; a diagnostic in blocking_test.go`;
    });

    await check('the hot-spots view names the capture; Show Captures lists it', async () => {
      await runCommand(page, 'goblock: Focus on Blocking hot spots View');
      // The view is alone in its container: its title is the sidebar's header.
      const sidebar = page.locator('.part.sidebar').first();
      await sidebar.hover();
      const description = sidebar.locator('.composite.title h2, .pane-header .title', { hasText: 'TestBlocking (capture)' }).first();
      await description.waitFor({ timeout: tm(15_000) }).catch(async () => {
        const head = await sidebar.locator('.composite.title, .pane-header').first().evaluate((e) => e.outerHTML);
        throw new Error(`no "TestBlocking (capture)" in the sidebar's header: ${head.slice(0, 3000)}`);
      });
      const button = sidebar.locator('.action-label[aria-label="Show Captures"]').first();
      await button.waitFor({ timeout: tm(15_000) });
      await button.click();
      const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'TestBlocking' }).first();
      await row.waitFor({ timeout: tm(15_000) });
      const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
      await page.keyboard.press('Escape');
      return `header "${(await description.innerText()).trim()}"; picker row "${text}"`;
    });

    // A goroutine dump: testdata/programs/parked and its Go 1.26 SIGQUIT dump (goroutines parked
    // for minutes), added to the workspace as a user would drop them there, then Reload.
    const repo = process.env.E2E_REPO;
    if (repo) {
      const dumpDir = path.join(env('E2E_WORKSPACE'), 'parked');
      const dumpText = fs.readFileSync(path.join(repo, 'testdata/dumps/go1.26/sigquit-minutes.txt'), 'utf8');
      const workers = goroutinesAt(dumpText, 'pool.go:27');
      await check('a goroutine dump: the hot-spots tree lists its lines under "Parked now"', async () => {
        // A recorded path that exists is used as recorded: with the dump's build directory
        // present (testdata/dumps/gen.sh builds there), no line of the workspace would show.
        const recorded = /^\t(\/\S*?\/parked\/)\S+\.go:\d+/m.exec(dumpText)?.[1];
        if (recorded && fs.existsSync(recorded)) {
          throw new Error(`${recorded} (where the dump was recorded) exists: its files would be shown instead of the workspace's; delete it`);
        }
        fs.mkdirSync(dumpDir, { recursive: true });
        for (const f of fs.readdirSync(path.join(repo, 'testdata/programs/parked'))) {
          fs.copyFileSync(path.join(repo, 'testdata/programs/parked', f), path.join(dumpDir, f));
        }
        fs.writeFileSync(path.join(dumpDir, 'hang.txt'), dumpText);
        // The sources are older than every input, as after a real run (else the hover says the
        // file changed after the trace).
        const old = new Date(fs.statSync(path.join(env('E2E_WORKSPACE'), 'blocking.trace')).mtimeMs - 120_000);
        for (const f of fs.readdirSync(dumpDir)) if (f.endsWith('.go') || f === 'go.mod') fs.utimesSync(path.join(dumpDir, f), old, old);
        await runCommand(page, 'goblock: Reload');
        await runCommand(page, 'goblock: Focus on Blocking hot spots View');
        const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Blocking hot spots/i }) });
        // The traces' files come first, expanded: collapse everything (the view's Collapse All)
        // so that the sections below them are on screen (the tree renders visible rows only).
        const sidebar = page.locator('.part.sidebar').first();
        const section = pane.locator('.monaco-list-row[aria-level="1"]', { hasText: 'Parked now' }).first();
        const deadline = Date.now() + T;
        while (!(await section.isVisible())) {
          if (Date.now() > deadline) throw new Error('no "Parked now" row in the hot-spots tree');
          await sidebar.hover();
          await sidebar.locator('.action-label[aria-label="Collapse All"]').first().click({ timeout: tm(15_000) });
          await page.waitForTimeout(1000);
        }
        // Expand it (Collapse All collapsed it too): its twistie until the row says expanded.
        while ((await section.getAttribute('aria-expanded')) !== 'true') {
          if (Date.now() > deadline) throw new Error('the "Parked now" row does not expand');
          await section.locator('.monaco-tl-twistie').first().click();
          await page.waitForTimeout(1000);
        }
        const row = pane.locator('.monaco-list-row[aria-level="2"]', { hasText: 'pool.go:27' }).first();
        await row.waitFor({ timeout: tm(30_000) });
        const text = (await row.innerText()).replace(/\s+/g, ' ').trim();
        const want = `parked now: ${workers.length} goroutines`;
        if (!text.includes(want)) throw new Error(`row "${text}", want "${want}" (the dump's text)`);
        return `"${(await section.innerText()).replace(/\s+/g, ' ').trim().slice(0, 80)}"; "${text.slice(0, 100)}"`;
      });

      // pool.go:27 opened from its tree row (the row's own command, as a user would): Quick
      // Open's file search timed out once on the files just added (05:33 run, 45 s).
      await check('the dump\'s hover on pool.go:27 (screenshot)', async () => {
        const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Blocking hot spots/i }) });
        const row = pane.locator('.monaco-list-row[aria-level="2"]', { hasText: 'pool.go:27' }).first();
        await row.click({ timeout: tm(15_000) });
        await page.locator('.tab.active[data-resource-name="pool.go"], .tab.active:has-text("pool.go")').first().waitFor({ timeout: tm(30_000) });
        const squiggle = page.locator('.editor-instance .monaco-editor [class*="squiggly-"]').first();
        await squiggle.waitFor({ timeout: T });
        // The cursor onto the line's text (the click also gives the editor the focus).
        await clickLine(page, 27);
        const ln = await cursorLine(page);
        if (ln !== 27) throw new Error(`cursor at line ${ln}`);
        // The markers part of a hover renders first, the server's part when it arrives: wait for
        // the group's ids, showing the hover again if it closed.
        const ids = `goroutines ${workers[0]}–${workers[workers.length - 1]}`;
        const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'goroutines' }).first();
        const deadline = Date.now() + tm(30_000);
        let text = '';
        for (;;) {
          if (!(await hover.isVisible())) {
            await page.keyboard.press('Control+K');
            await page.keyboard.press('Control+I');
            await hover.waitFor({ timeout: tm(15_000) }).catch(() => undefined);
          }
          text = (await hover.innerText().catch(() => '')).replace(/\s+/g, ' ');
          if (text.includes(ids)) break;
          if (Date.now() > deadline) throw new Error(`hover "${text.slice(0, 300)}" lacks "${ids}"`);
          await page.waitForTimeout(500);
        }
        await page.waitForTimeout(800);
        const shot = path.join(path.dirname(SHOT), 'vscode-dump.png');
        await page.screenshot({ path: shot });
        return `${shot}: "${text.slice(0, 90)}…"`;
      });

      await check('Show Goroutines Parked Here lists every goroutine of the line', async () => {
        await page.keyboard.press('Escape');
        await runCommand(page, 'goblock: Show Goroutines Parked Here');
        const tab = page.locator('.tab', { hasText: 'pool.go:27 goroutines' }).first();
        await tab.waitFor({ timeout: T });
        try {
          const editor = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
          const deadline = Date.now() + tm(15_000);
          for (;;) {
            const text = (await editor.innerText()).replace(/\u00a0/g, ' ');
            const missing = workers.filter((id) => !text.includes(`goroutine ${id} · chan receive`));
            const extra = [...text.matchAll(/goroutine (\d+) · /g)].map((m) => Number(m[1])).filter((id) => !workers.includes(id));
            if (missing.length === 0 && extra.length === 0) {
              return `${workers.length} goroutines listed: ${text.split('\n').find((l) => l.includes('goroutine '))}`;
            }
            if (Date.now() > deadline) {
              throw new Error(`goroutines ${missing.join(', ') || '-'} missing, ${extra.join(', ') || '-'} not in the dump at pool.go:27: "${text.slice(0, 300)}"`);
            }
            await page.waitForTimeout(500);
          }
        } finally {
          // Back to pool.go, pass or fail (the language status item of the checks below shows
          // only for Go files).
          await tab.click().catch(() => undefined);
          await page.keyboard.press('Control+W');
          await page.locator('.tab.active:has-text("pool.go")').first().waitFor({ timeout: tm(15_000) }).catch(() => undefined);
        }
      });

      await check('the hot-spots tree lists the captures', async () => {
        await runCommand(page, 'goblock: Focus on Blocking hot spots View');
        const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Blocking hot spots/i }) });
        const captures = pane.locator('.monaco-list-row[aria-level="1"]', { hasText: 'Captures' }).first();
        await captures.waitFor({ timeout: tm(30_000) });
        if ((await captures.getAttribute('aria-expanded')) !== 'true') await captures.click();
        const row = pane.locator('.monaco-list-row[aria-level="2"]', { hasText: 'TestBlocking' }).first();
        await row.waitFor({ timeout: tm(15_000) });
        return `"${(await captures.innerText()).replace(/\s+/g, ' ').trim()}" › "${(await row.innerText()).replace(/\s+/g, ' ').trim()}"`;
      });
    }

    const serviceBin = process.env.E2E_SERVICE_BIN;
    if (serviceBin) {
      await check('Capture from Service… traces 2 s of a net/http/pprof service', async () => {
        // It serves until its standard input closes; it prints "listening on http://ADDR".
        const svc = spawn(serviceBin, ['-addr', '127.0.0.1:0'], { stdio: ['pipe', 'pipe', 'inherit'] });
        try {
          const service = await new Promise<string>((resolve, reject) => {
            let out = '';
            svc.stdout.on('data', (b: Buffer) => {
              out += b.toString();
              const m = /listening on (\S+)/.exec(out);
              if (m) resolve(m[1]);
            });
            svc.on('exit', (code) => reject(new Error(`the service exited (${code}): ${out}`)));
          });
          return await captureService(service);
        } finally {
          svc.stdin.end();
          svc.kill();
        }
      });
    }
    async function captureService(service: string): Promise<string> {
      const started = Date.now();
      await runCommand(page, 'goblock: Capture from Service…');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ timeout: T });
      await input.fill(service);
      await page.keyboard.press('Enter');
      // What to capture: the first row, an execution trace.
      await page.locator('.quick-input-widget', { hasText: 'Goroutine dump' }).first().waitFor({ timeout: tm(15_000) });
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-widget', { hasText: 'Seconds to trace' }).first().waitFor({ timeout: tm(15_000) });
      await input.fill('2');
      await page.keyboard.press('Enter');
      const spinner = page.locator('.statusbar-item', { hasText: 'goblock: capturing 2 s of' }).first();
      const spun = await spinner.waitFor({ timeout: 10_000 }).then(() => true, () => false);
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'captured 2 s of' }).first();
      await toast.waitFor({ timeout: tm(60_000) });
      const text = (await toast.locator('.notification-list-item-message').first().innerText()).trim();
      const took = ((Date.now() - started) / 1000).toFixed(1);
      const status = await languageStatusUntil(page, (t) => /127\.0\.0\.1_\d+ \(capture\)/.test(t));
      return `"${text}"${spun ? ', spinner seen' : ''}; ${took} s from the command to the notification; ${status}`;
    }
  } finally {
    if (failed > 0) {
      await page.screenshot({ path: path.join(ARTIFACTS, 'failure.png') }).catch(() => undefined);
      fs.writeFileSync(path.join(ARTIFACTS, 'console-errors.txt'), consoleErrors.join('\n'));
      console.log(`e2e: failure screenshot and console errors in ${ARTIFACTS}`);
    }
    await browser.close();
  }
}

main()
  .catch((e) => {
    failed++;
    console.log(`FAIL e2e: ${e instanceof Error ? e.stack : e}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed > 0 ? 1 : 0;
  });
