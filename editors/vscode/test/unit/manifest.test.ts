// manifest.test.ts: package.json and the code agree: every contributed command is registered,
// the names follow "goblock: Verb …", and no client command shadows a server command id
// (vscode-languageclient registers the server's commands under their own ids).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SERVER } from '../../src/protocol';

const root = path.join(__dirname, '../../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const commandsSrc = fs.readFileSync(path.join(root, 'src/commands.ts'), 'utf8');

test('every contributed command is registered in commands.ts', () => {
  for (const c of manifest.contributes.commands) {
    assert.ok(commandsSrc.includes(`reg('${c.command}'`), `${c.command} not registered`);
    assert.equal(c.category, 'goblock');
  }
});

test('the commands the issue names exist with these titles', () => {
  const titles = manifest.contributes.commands.map((c: { title: string }) => c.title);
  for (const t of ['Load Trace…', 'Reload', 'Clear', 'Show Blocking Hot Spots', 'Toggle Inlay Hints']) {
    assert.ok(titles.includes(t), t);
  }
});

test('client command ids never equal a server command id', () => {
  const server = new Set<string>(Object.values(SERVER));
  for (const c of manifest.contributes.commands) assert.ok(!server.has(c.command), c.command);
});

test('the hot-spots view is contributed and has a welcome text', () => {
  const views = manifest.contributes.views.goblock;
  assert.deepEqual(views.map((v: { id: string; name: string }) => [v.id, v.name]), [['goblock.hotSpots', 'Blocking hot spots']]);
  assert.ok(manifest.contributes.viewsWelcome.some((w: { view: string }) => w.view === 'goblock.hotSpots'));
});

test('the bundle entry point is dist/extension.js and only it ships', () => {
  assert.equal(manifest.main, './dist/extension.js');
  const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
  assert.match(ignore, /^!dist\/extension\.js$/m);
});

/** The lowest Node major a range like ">=22.0.0", ">= 20" or "^18.0.0" allows; undefined for others. */
function lowestMajor(range: string): number | undefined {
  const m = /^\s*(?:>=|\^)\s*v?(\d+)/.exec(range);
  return m && !range.includes('||') ? Number(m[1]) : undefined;
}

test('devEngines states the Node the dependencies really need', () => {
  const want = Number(/\d+/.exec(manifest.devEngines.runtime.version)?.[0]);
  assert.equal(manifest.devEngines.runtime.name, 'node');
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  let need = 21; // `node --test` with a glob (the unit tests) needs Node 21+.
  let who = 'node --test "out/test/unit/*.test.js"';
  for (const [name, p] of Object.entries<{ engines?: { node?: string } }>(lock.packages)) {
    const min = p.engines?.node ? lowestMajor(p.engines.node) : undefined;
    if (min !== undefined && min > need) {
      need = min;
      who = `${name.replace(/^node_modules\//, '')} (${p.engines?.node})`;
    }
  }
  assert.ok(want >= need, `devEngines says Node ${want}+, but ${who} needs Node ${need}+`);
  assert.equal(want, need, `devEngines says Node ${want}+; the dependencies need only ${need}+ (${who})`);
});
