// hotLines.test.ts: checking the server's hot lines and turning them into tree/quick-pick rows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeLine, formatDuration, groupByFile, parseHotLines, quickPickRows, uriBasename } from '../../src/hotLines';

const A = 'file:///ws/main.go';
const B = 'file:///ws/producer.go';
const sample = [
  { uri: A, line: 108, totalNs: 2_000_000_000, count: 3, reasons: ['chan receive'], share: 0.5 },
  { uri: B, line: 31, totalNs: 1_500_000_000, count: 10, reasons: ['chan receive'] },
  { uri: A, line: 251, totalNs: 2_500_000_000, count: 4, reasons: ['sync.Mutex.Lock', 'sync.RWMutex.Lock'] },
];

test('parses a list of lines', () => {
  const lines = parseHotLines(sample);
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[0], { ...sample[0], label: undefined });
  assert.equal(lines[1].share, undefined);
});

test('accepts {lines: [...]} and reasons as objects, ms totals', () => {
  const lines = parseHotLines({ lines: [{ uri: A, line: 1, totalMs: 3, episodes: 2, reasons: [{ reason: 'select' }] }] });
  assert.deepEqual(lines[0], { uri: A, line: 1, totalNs: 3e6, count: 2, reasons: ['select'], share: undefined, label: undefined });
});

test('a wrong shape is an error naming the entry', () => {
  assert.throws(() => parseHotLines(null), /not a list/);
  assert.throws(() => parseHotLines({ rows: [] }), /not a list/);
  assert.throws(() => parseHotLines([{ uri: A }]), /entry 0 lacks uri\/line/);
  assert.throws(() => parseHotLines([sample[0], 7]), /entry 1 is not an object/);
});

test('formatDuration', () => {
  assert.equal(formatDuration(500), '500 ns');
  assert.equal(formatDuration(1500), '1.5 µs');
  assert.equal(formatDuration(850_000), '850 µs');
  assert.equal(formatDuration(1_234_000), '1.23 ms');
  assert.equal(formatDuration(12_340_000), '12.3 ms');
  assert.equal(formatDuration(1_240_000_000), '1.24 s');
  assert.equal(formatDuration(125e9), '2 min 5 s');
});

test('describeLine', () => {
  const [a, b] = parseHotLines(sample);
  assert.equal(describeLine(a), 'Σ 2.00 s · 3× · 50% · chan receive');
  assert.equal(describeLine(b), 'Σ 1.50 s · 10× · chan receive');
});

test('groupByFile: files by total, lines hottest first', () => {
  const g = groupByFile(parseHotLines(sample));
  assert.deepEqual(g.map((x) => [x.uri, x.totalNs, x.lines.map((l) => l.line)]), [
    [A, 4_500_000_000, [251, 108]],
    [B, 1_500_000_000, [31]],
  ]);
});

test('quick-pick rows are hottest first with 1-based lines', () => {
  const rows = quickPickRows(parseHotLines(sample));
  assert.deepEqual(rows.map((r) => r.label), ['main.go:252', 'main.go:109', 'producer.go:32']);
});

test('uriBasename decodes', () => {
  assert.equal(uriBasename('file:///a/b%20c/x%2By.go'), 'x+y.go');
  assert.equal(uriBasename('file:///a/main.go?x=1'), 'main.go');
});
