// activation.test.ts: when the server starts by itself, and the trace glob.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { shouldAutoStart, unionGlob } from '../../src/activation';
import { DEFAULTS } from '../../src/config';

test('auto-start only in Go workspaces with a trace, or with tests for the lenses', () => {
  assert.equal(shouldAutoStart({ hasGo: true, traceCount: 1 }), true);
  assert.equal(shouldAutoStart({ hasGo: true, traceCount: 0 }), false);
  assert.equal(shouldAutoStart({ hasGo: false, traceCount: 3 }), false);
  assert.equal(shouldAutoStart({ hasGo: true, traceCount: 0, hasTests: true, lenses: true }), true);
  assert.equal(shouldAutoStart({ hasGo: true, traceCount: 0, hasTests: true, lenses: false }), false);
});

test('unionGlob', () => {
  assert.equal(unionGlob([]), undefined);
  assert.equal(unionGlob(['', ' ']), undefined);
  assert.equal(unionGlob(['**/*.trace']), '**/*.trace');
  assert.equal(unionGlob(['**/*.trace', '**/trace.out']), '{**/*.trace,**/trace.out}');
});

test('activation events cover the default trace globs', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
  const events: string[] = manifest.activationEvents;
  for (const g of DEFAULTS.traces) assert.ok(events.includes(`workspaceContains:${g}`), g);
});
