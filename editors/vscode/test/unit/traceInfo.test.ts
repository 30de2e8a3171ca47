// traceInfo.test.ts: Go version from real trace headers, ages, staleness, the status text.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeTraces, formatAge, goVersionFromHeader, staleness, traceLabel, viewTitle } from '../../src/traceInfo';

const testdata = path.join(__dirname, '../../../../../testdata');

// The header names the trace *format* version: Go 1.27 still writes "go 1.26 trace".
test('Go version from the committed fixture traces', () => {
  const dirs = fs.readdirSync(testdata).filter((d) => /^go1\.\d+$/.test(d));
  assert.ok(dirs.includes('go1.26'), 'testdata/go1.26');
  const minor = (v: string) => Number(v.split('.')[1]);
  for (const d of dirs) {
    const file = path.join(testdata, d, 'blocking.trace');
    if (!fs.existsSync(file)) continue;
    const v = goVersionFromHeader(fs.readFileSync(file).subarray(0, 16));
    assert.ok(v !== undefined, file);
    if (d === 'go1.26' || d === 'go1.19') assert.equal(v, d.slice(2), file);
    else assert.ok(minor(v) <= minor(d.slice(2)) && minor(v) >= 11, `${file}: ${v}`);
  }
});

test('no version from bytes that are no Go trace', () => {
  assert.equal(goVersionFromHeader(Buffer.from('PK\x03\x04 not a trace!')), undefined);
  assert.equal(goVersionFromHeader(Buffer.from('go 1.22 trac')), undefined);
  assert.equal(goVersionFromHeader(Buffer.from('go 1.22 trace\0\0\0')), '1.22');
});

test('formatAge', () => {
  assert.equal(formatAge(3000), 'just now');
  assert.equal(formatAge(42_000), '42 s ago');
  assert.equal(formatAge(5 * 60_000 + 10), '5 min ago');
  assert.equal(formatAge(3 * 3600_000), '3 h ago');
  assert.equal(formatAge(50 * 3600_000), '2 days ago');
  assert.equal(formatAge(-5), 'in the future');
});

test('staleness: a .go file newer than the trace', () => {
  assert.deepEqual(staleness(10_000, undefined), { stale: false });
  assert.deepEqual(staleness(10_000, { path: 'main.go', mtimeMs: 11_000 }), { stale: false });
  const s = staleness(10_000, { path: 'main.go', mtimeMs: 20_000 });
  assert.equal(s.stale, true);
  assert.match(s.reason ?? '', /main\.go changed after/);
});

test('describeTraces', () => {
  const base = (p: string) => p.split('/').pop() ?? p;
  assert.equal(describeTraces([], 0, [], base).text, 'goblock: no trace');
  const one = describeTraces([{ path: '/w/blocking.trace', goVersion: '1.26', mtimeMs: 0 }], 120_000, [{ stale: false }], base);
  assert.deepEqual(one, { text: 'goblock: blocking.trace', detail: 'Go 1.26 · 2 min ago', anyStale: false });
  const two = describeTraces(
    [{ path: '/a.trace', goVersion: '1.26', mtimeMs: 0 }, { path: '/b.trace', mtimeMs: 60_000 }],
    120_000, [{ stale: false }, { stale: true, reason: 'x' }], base);
  assert.deepEqual(two, { text: 'goblock: 2 traces (stale?)', detail: 'Go 1.26, Go ? · 1 min ago', anyStale: true });
});

test('traceLabel: a capture by what it traced, other traces by their file name', () => {
  assert.equal(traceLabel('/w/.goblock/captures/20261202T010103Z-TestBlocking/trace'), 'TestBlocking (capture)');
  assert.equal(traceLabel('/home/u/.cache/goblock/captures/shop-1a2b/20261202T010103Z-127.0.0.1_6060-2/trace'), '127.0.0.1_6060-2 (capture)');
  assert.equal(traceLabel('C:\\w\\.goblock\\captures\\20261202T010103Z-BenchmarkX\\trace'), 'BenchmarkX (capture)');
  assert.equal(traceLabel('/w/testdata/blocking.trace'), 'blocking.trace');
  // A file named trace that is not a capture keeps its name.
  assert.equal(traceLabel('/w/out/trace'), 'trace');
});

test('viewTitle names what the hot-spots view shows', () => {
  assert.equal(viewTitle([]), 'Blocking hot spots');
  assert.equal(viewTitle(['/w/.goblock/captures/20261202T010103Z-TestBlocking/trace']), 'Blocking hot spots · TestBlocking (capture)');
  assert.equal(viewTitle(['/a.trace', '/b.trace']), 'Blocking hot spots · 2 traces');
});
