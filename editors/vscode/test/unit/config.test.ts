// config.test.ts: the settings sent to the server, and that package.json declares every one of
// them with the same default and a description.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEFAULTS, expandPath, serverSettings } from '../../src/config';

const ctx = { home: '/home/u', workspaceFolder: '/ws' };
const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'));
const props: Record<string, { default: unknown; markdownDescription?: string; description?: string }> =
  manifest.contributes.configuration.properties;

test('unset settings give the defaults', () => {
  assert.deepEqual(serverSettings(() => undefined, ctx), DEFAULTS);
});

test('user values pass through, paths are expanded', () => {
  const user: Record<string, unknown> = {
    traces: ['out/*.trace'],
    binaries: ['~/bin/app', '${workspaceFolder}/app'],
    categories: ['sync', 'sleep'],
    'diagnostics.enable': false,
    'diagnostics.minTotalMs': 5,
    'diagnostics.minShare': 0.25,
    'diagnostics.severity': 'warning',
    'diagnostics.hottest': 3,
    'inlayHints.enable': false,
    'inlayHints.callers': true,
    'inlayHints.minTotalMs': 5,
    substitutePath: [{ from: '/build', to: '${workspaceFolder}/src' }],
    debounceMs: 50,
    goPath: '~/sdk/go1.23.5',
    'capture.codeLens': false,
    'capture.buildFlags': ['-tags=integration'],
    'capture.benchtime': '100x',
    'capture.timeout': '30s',
    'capture.serviceTimeout': '2m',
    'capture.keep': 3,
    'capture.maxMiB': 64,
    'capture.load': 'add',
    'dumps.files': ['hang/*.txt'],
    'dumps.parkedThreshold': 3,
  };
  assert.deepEqual(serverSettings((k) => user[k], ctx), {
    traces: ['out/*.trace'],
    binaries: ['/home/u/bin/app', '/ws/app'],
    categories: ['sync', 'sleep'],
    diagnostics: { enable: false, minTotalMs: 5, minShare: 0.25, severity: 'warning', hottest: 3 },
    inlayHints: { enable: false, callers: true, minTotalMs: 5 },
    substitutePath: [{ from: '/build', to: '/ws/src' }],
    debounceMs: 50,
    goPath: '/home/u/sdk/go1.23.5',
    capture: {
      codeLens: false, buildFlags: ['-tags=integration'], benchtime: '100x', timeout: '30s', serviceTimeout: '2m', keep: 3,
      maxMiB: 64, load: 'add',
    },
    dumps: { files: ['hang/*.txt'], parkedThreshold: 3 },
  });
});

test('malformed values fall back to the defaults or are dropped', () => {
  const user: Record<string, unknown> = {
    traces: 'x.trace',
    categories: ['sync', 'bogus', 3],
    'diagnostics.minTotalMs': -1,
    'diagnostics.minShare': 2,
    'diagnostics.severity': 'fatal',
    'diagnostics.enable': 'no',
    debounceMs: -3,
    substitutePath: [{ from: '/a' }, 'x', { from: '/b', to: '/c' }],
  };
  const s = serverSettings((k) => user[k], ctx);
  assert.deepEqual(s.traces, DEFAULTS.traces);
  assert.deepEqual(s.categories, ['sync']);
  assert.equal(s.diagnostics.minTotalMs, DEFAULTS.diagnostics.minTotalMs);
  assert.equal(s.diagnostics.minShare, DEFAULTS.diagnostics.minShare);
  assert.equal(s.diagnostics.severity, DEFAULTS.diagnostics.severity);
  assert.equal(s.diagnostics.enable, true);
  assert.equal(s.debounceMs, DEFAULTS.debounceMs);
  assert.deepEqual(s.substitutePath, [{ from: '/b', to: '/c' }]);
});

test('expandPath', () => {
  assert.equal(expandPath('~', ctx), '/home/u');
  assert.equal(expandPath('~/x', ctx), '/home/u/x');
  assert.equal(expandPath('a~/x', ctx), 'a~/x');
  assert.equal(expandPath('${userHome}/y', ctx), '/home/u/y');
  assert.equal(expandPath('${workspaceFolder}/z', { home: '/h' }), '${workspaceFolder}/z');
});

/** "diagnostics.minShare" → DEFAULTS.diagnostics.minShare */
function defaultOf(key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], DEFAULTS);
}

test('package.json declares every server setting with its default and a description', () => {
  const keys = ['traces', 'binaries', 'categories', 'diagnostics.enable', 'diagnostics.minTotalMs',
    'diagnostics.minShare', 'diagnostics.severity', 'diagnostics.hottest', 'inlayHints.enable',
    'inlayHints.callers', 'inlayHints.minTotalMs', 'substitutePath', 'debounceMs', 'goPath',
    'capture.codeLens', 'capture.buildFlags', 'capture.benchtime', 'capture.timeout', 'capture.keep',
    'capture.maxMiB', 'capture.load', 'dumps.files', 'dumps.parkedThreshold'];
  for (const k of keys) {
    const p = props[`goblock.${k}`];
    assert.ok(p, `goblock.${k} missing from package.json`);
    assert.deepEqual(p.default, defaultOf(k), `default of goblock.${k}`);
    assert.ok((p.markdownDescription ?? p.description ?? '').length > 20, `description of goblock.${k}`);
  }
  assert.ok(props['goblock.server.path'], 'goblock.server.path');
});

test('every declared setting has a description', () => {
  for (const [k, p] of Object.entries(props)) {
    assert.ok((p.markdownDescription ?? p.description ?? '').length > 20, `description of ${k}`);
  }
});
