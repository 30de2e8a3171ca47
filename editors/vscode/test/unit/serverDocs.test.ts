// serverDocs.test.ts: package.json's settings and the extension's command names agree with
// the server's documentation (docs/lsp.md, "Settings" and "Commands"): every server setting is
// declared with the server's default, and the commands the extension calls exist. The same
// table is checked against the server's parser by lsp/server/tests/settings_docs.rs.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SERVER } from '../../src/protocol';

const root = path.join(__dirname, '../../..');
const docsPath = path.join(root, '../../docs/lsp.md');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const props: Record<string, { default: unknown }> = manifest.contributes.configuration.properties;
const docs = fs.readFileSync(docsPath, 'utf8');

/** Rows "| `goblock.x` | `default` | meaning |" of the settings table. */
function serverSettings(text: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const m of text.matchAll(/^\| `(goblock\.[\w.]+)` \| `([^`]*)` \|/gm)) out.set(m[1], JSON.parse(m[2]));
  return out;
}

test('every setting of the server is in package.json with the same default', () => {
  const documented = serverSettings(docs);
  assert.ok(documented.size >= 8, `only ${documented.size} settings parsed from docs/lsp.md`);
  for (const [key, def] of documented) {
    assert.ok(props[key], `${key} is not in package.json`);
    assert.deepEqual(props[key].default, def, `default of ${key}`);
  }
});

test('the server commands the extension calls are documented', () => {
  for (const c of Object.values(SERVER)) assert.ok(docs.includes(`\`${c}\``), `${c} not in docs/lsp.md`);
});
