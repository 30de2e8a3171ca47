// serverReadme.test.ts: package.json's settings and the extension's command names agree with
// the server's own documentation (README.md ("The language server")): every server setting is declared with
// the server's default, and the commands the extension calls exist.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SERVER } from '../../src/protocol';

const root = path.join(__dirname, '../../..');
const readmePath = path.join(root, '../../README.md');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const props: Record<string, { default: unknown }> = manifest.contributes.configuration.properties;
const readme = fs.existsSync(readmePath) ? fs.readFileSync(readmePath, 'utf8') : undefined;

/** Rows "| `goblock.x` | `default` | meaning |" of the settings table. */
function serverSettings(text: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const m of text.matchAll(/^\| `(goblock\.[\w.]+)` \| `([^`]*)` \|/gm)) out.set(m[1], JSON.parse(m[2]));
  return out;
}

test('every setting of the server is in package.json with the same default', () => {
  const documented = serverSettings(readme!);
  assert.ok(documented.size >= 8, `only ${documented.size} settings parsed from the server README`);
  for (const [key, def] of documented) {
    assert.ok(props[key], `${key} is not in package.json`);
    assert.deepEqual(props[key].default, def, `default of ${key}`);
  }
});

test('the server commands the extension calls are documented', () => {
  for (const c of Object.values(SERVER)) assert.ok(readme!.includes(`\`${c}\``), `${c} not in the server README`);
});
