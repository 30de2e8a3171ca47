// hotLines.test.ts: checking the server's goblock.hotLines result (the shape documented in
// docs/lsp.md ("goblock.hotLines result")) and turning it into tree and quick-pick rows; the
// dumps' and profiles' lines by input kind; goblock.goroutines' document.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeDumps, goroutinesText, groupByFile, hiddenCategories, loadFailures, parkedPickRows, parkedSections, parseGoroutines,
  parseHotLines, parseParked, quickPickRows, statusWithFailures, uriBasename, visibleLines, withDumps,
} from '../../src/hotLines';

const A = 'file:///ws/main.go';
const B = 'file:///ws/producer.go';
const line = (uri: string, l: number, totalMs: number, count: number, reasons: string[], extra = {}) => ({
  file: uri.slice(7), uri, line: l, function: 'main.f', kind: 'chan-recv', reasons, count,
  totalNs: totalMs * 1e6, totalMs, p50Ms: 1, p99Ms: 2, maxMs: 3, share: 0.5, inWorkspace: true,
  message: `${count} blocks`, label: `${totalMs} ms · ${count} blocks`, ...extra,
});
// The example of docs/lsp.md ("goblock.hotLines result"), plus two lines.
const result = {
  loading: false,
  traces: [{ path: '/ws/blocking.trace', goVersion: '1.26', bytes: 28328, durationMs: 812.4, episodes: 1234,
    symbolization: 'trace', binary: null, notes: ['…'], warnings: [] }],
  failures: [{ path: '/ws/bad.trace', message: 'not a Go trace' }],
  totalNs: 3412500000, totalMs: 3412.5, totalLabel: '3.41 s',
  categories: ['sync', 'net', 'syscall'],
  lines: [
    line(A, 109, 155.3, 5, ['chan receive']),
    line(B, 32, 1500, 10, ['chan receive'], { share: 0.05 }),
    line(A, 252, 2500, 4, ['sync.Mutex.Lock', 'sync.RWMutex.Lock']),
  ],
  files: [
    { file: '/ws/main.go', uri: A, inWorkspace: true, lines: 12, totalNs: 2655.3e6, label: '2.66 s' },
    { file: '/ws/producer.go', uri: B, inWorkspace: true, lines: 1, totalNs: 1500e6, label: '1.50 s' },
  ],
  unmapped: [{ recorded: '/build/elsewhere/x.go', lines: 2, count: 7, totalMs: 12.0 }],
};

test('parses the documented result; lines become 0-based', () => {
  const r = parseHotLines(result);
  assert.equal(r.loading, false);
  assert.deepEqual(r.traces, [{ path: '/ws/blocking.trace', goVersion: '1.26', durationMs: 812.4, episodes: 1234,
    symbolization: 'trace', binary: undefined, warnings: [] }]);
  assert.deepEqual(r.failures, [{ path: '/ws/bad.trace', message: 'not a Go trace' }]);
  assert.equal(r.totalNs, 3412.5e6);
  assert.equal(r.totalLabel, '3.41 s');
  assert.deepEqual(r.files.map((f) => [f.uri, f.label, f.lines]), [[A, '2.66 s', 12], [B, '1.50 s', 1]]);
  assert.deepEqual(r.unmapped, [{ recorded: '/build/elsewhere/x.go', lines: 2, count: 7, totalNs: 12e6 }]);
  assert.deepEqual(r.lines[0], {
    uri: A, line: 108, totalNs: 155.3e6, count: 5, reasons: ['chan receive'], kind: 'chan-recv',
    function: 'main.f', p99Ms: 2, share: 0.5, label: '155.3 ms · 5 blocks', message: '5 blocks', inWorkspace: true,
  });
});

test('library lines are hidden unless asked for; the limit applies after', () => {
  const r = parseHotLines({ lines: [
    line('file:///usr/local/go/src/runtime/chan.go', 509, 2000, 7, ['chan receive'], { inWorkspace: false }),
    ...result.lines,
  ] });
  assert.deepEqual(visibleLines(r.lines, false, 2).map((l) => [uriBasename(l.uri), l.line + 1]), [['main.go', 252], ['producer.go', 32]]);
  assert.deepEqual(visibleLines(r.lines, true, 2).map((l) => [uriBasename(l.uri), l.line + 1]), [['main.go', 252], ['chan.go', 509]]);
});

test('a wrong shape is an error naming the entry', () => {
  assert.throws(() => parseHotLines(null), /not \{lines/);
  assert.throws(() => parseHotLines([]), /not \{lines/);
  assert.throws(() => parseHotLines({ lines: [{ uri: A }] }), /line 0 lacks uri\/line/);
  assert.throws(() => parseHotLines({ lines: [{ uri: A, line: 0 }] }), /line 0 lacks uri\/line/);
  assert.throws(() => parseHotLines({ lines: [line(A, 1, 1, 1, []), 7] }), /line 1 is not an object/);
});

test('an empty state parses', () => {
  const r = parseHotLines({ loading: true, lines: [] });
  assert.deepEqual(r, {
    loading: true, traces: [], failures: [], totalNs: 0, totalLabel: undefined, categories: [], lines: [], files: [],
    unmapped: [],
  });
});

test('load results: failures', () => {
  assert.deepEqual(loadFailures({ loaded: ['/a'], failures: [], summary: 's' }), []);
  assert.deepEqual(loadFailures({ loaded: [], failures: [{ path: '/b', message: 'm' }] }), [{ path: '/b', message: 'm' }]);
  assert.deepEqual(loadFailures({ superseded: true }), []);
  assert.deepEqual(loadFailures(null), []);
});

test('an older server without labels: rows show its diagnostic message', () => {
  const r = parseHotLines({ lines: [{ uri: A, line: 3, totalMs: 2, count: 1, reasons: [], message: '1 block · 2.00 ms total' }] });
  assert.equal(r.lines[0].label, '1 block · 2.00 ms total');
  assert.equal(r.lines[0].totalNs, 2e6);
});

test('groupByFile: files in the server order with its labels, lines hottest first', () => {
  const r = parseHotLines(result);
  const g = groupByFile(r.lines, r.files);
  assert.deepEqual(g.map((x) => [x.uri, x.label, x.annotated, x.lines.map((l) => l.line)]), [
    [A, '2.66 s', 12, [251, 108]],
    [B, '1.50 s', 1, [31]],
  ]);
  // Without the server's files (an older server): grouped, unlabelled.
  assert.deepEqual(groupByFile(r.lines, []).map((x) => [x.uri, x.label, x.annotated]), [[A, '', 2], [B, '', 1]]);
});

test('quick-pick rows are hottest first with 1-based lines', () => {
  const rows = quickPickRows(parseHotLines(result).lines);
  assert.deepEqual(rows.map((r) => r.label), ['main.go:252', 'producer.go:32', 'main.go:109']);
  assert.equal(rows[0].detail, 'main.f');
  assert.equal(rows[0].description, '2500 ms · 4 blocks');
});

test('uriBasename decodes', () => {
  assert.equal(uriBasename('file:///a/b%20c/x%2By.go'), 'x+y.go');
  assert.equal(uriBasename('file:///a/main.go?x=1'), 'main.go');
});

test('the categories the report shows and the editor does not', () => {
  assert.deepEqual(parseHotLines(result).categories, ['sync', 'net', 'syscall']);
  assert.deepEqual(hiddenCategories(['sync', 'net', 'syscall']), ['sleep', 'gc', 'other']);
  assert.deepEqual(hiddenCategories(['sync', 'net', 'syscall', 'sleep', 'gc', 'other', 'sched']), []);
  assert.deepEqual(hiddenCategories([]), [], 'an older server that sends none: say nothing');
});

// ------------------------------------------------ goroutine dumps and profiles (docs/lsp.md)

const P = 'file:///ws/parked/pool.go';
const C = 'file:///ws/parked/contend.go';
const dumpResult = {
  ...result,
  inputs: [
    { path: '/ws/hang.txt', kind: 'goroutine-dump', goroutines: 37, snapshots: 1, message: 'SIGQUIT: quit',
      deadlock: false, warnings: [], label: 'goroutine dump · 37 goroutines · SIGQUIT: quit' },
    { path: '/ws/block.pb.gz', kind: 'block-profile', samples: 9, sampled: true, label: 'block profile (sampled) · 79 contentions · 1.76 s delay' },
  ],
  parked: [
    { file: '/ws/parked/pool.go', uri: P, line: 27, function: 'main.(*Pool).worker', inWorkspace: true, goroutines: 5,
      statuses: ['chan receive'], flag: 'parked', parkedLabel: 'parked now: 5 goroutines · chan receive · longest 3 min',
      label: 'parked now: 5 goroutines · chan receive · longest 3 min' },
    { file: '/ws/parked/contend.go', uri: C, line: 17, function: 'main.deposit', inWorkspace: true,
      block: { count: 79, totalNs: 1.76e9, sampled: true, label: '79 contentions · 1.76 s delay (sampled)' },
      label: 'block: 79 contentions · 1.76 s delay (sampled)' },
    { file: '/usr/local/go/src/net/fd_unix.go', uri: 'file:///usr/local/go/src/net/fd_unix.go', line: 172, inWorkspace: false,
      goroutines: 1, parkedLabel: 'parked now: 1 goroutine · IO wait', label: 'parked now: 1 goroutine · IO wait' },
  ],
};

test('dump and profile lines parse, 0-based, with each kind\'s text', () => {
  const { inputs, parked } = parseParked(dumpResult);
  assert.deepEqual(inputs.map((i) => [i.kind, i.label]), [
    ['goroutine-dump', 'goroutine dump · 37 goroutines · SIGQUIT: quit'],
    ['block-profile', 'block profile (sampled) · 79 contentions · 1.76 s delay'],
  ]);
  assert.equal(parked[0].line, 26);
  assert.equal(parked[0].parkedLabel, 'parked now: 5 goroutines · chan receive · longest 3 min');
  assert.deepEqual(parked[1].block, { count: 79, totalNs: 1.76e9, label: '79 contentions · 1.76 s delay (sampled)' });
  assert.equal(parked[1].goroutines, undefined);
  // An older server without dumps: nothing, no error.
  assert.deepEqual(parseParked(result), { inputs: [], parked: [] });
});

test('parked lines are listed by input kind, library lines on request', () => {
  const { inputs, parked } = parseParked(dumpResult);
  const s = parkedSections(inputs, parked, false, 10);
  assert.deepEqual(s.map((x) => [x.kind, x.title, x.inputs, x.rows.map((r) => `${uriBasename(r.line.uri)}:${r.line.line + 1} ${r.text}`)]), [
    ['parked', 'Parked now', ['goroutine dump · 37 goroutines · SIGQUIT: quit'], ['pool.go:27 parked now: 5 goroutines · chan receive · longest 3 min']],
    ['block', 'Block profile (sampled)', ['block profile (sampled) · 79 contentions · 1.76 s delay'], ['contend.go:17 79 contentions · 1.76 s delay (sampled)']],
  ]);
  assert.equal(parkedSections(inputs, parked, true, 10)[0].rows.length, 2);
  assert.equal(parkedSections(inputs, parked, true, 1)[0].rows.length, 1);
  const rows = parkedPickRows(s);
  assert.deepEqual(rows.map((r) => [r.separator === true, r.label, r.description]), [
    [true, 'Parked now', undefined],
    [false, 'pool.go:27', 'parked now: 5 goroutines · chan receive · longest 3 min'],
    [true, 'Block profile (sampled)', undefined],
    [false, 'contend.go:17', '79 contentions · 1.76 s delay (sampled)'],
  ]);
});

test('goblock.goroutines: every row in the document, under its group', () => {
  const r = parseGoroutines({
    file: '/ws/parked/pool.go', uri: P, line: 27, function: 'main.(*Pool).worker', goroutines: 3, profiled: 0,
    label: '3 goroutines in 2 groups',
    groups: [
      { count: 2, status: 'chan receive', input: 'hang.txt', label: '2 × chan receive, created by main.NewPool at pool.go:30' },
      { count: 1, status: 'select', input: 'hang.txt', label: '1 × select' },
    ],
    rows: [
      { id: 8, status: 'chan receive', minutes: 3, parent: 1, group: 0, label: 'goroutine 8 · chan receive · 3 min' },
      { id: 12, status: 'chan receive', group: 0, label: 'goroutine 12 · chan receive' },
      { id: 40, status: 'select', group: 1, label: 'goroutine 40 · select' },
    ],
  });
  assert.equal(r.rows[0].minutes, 3);
  assert.equal(r.rows[1].minutes, undefined);
  assert.equal(goroutinesText(r), [
    'pool.go:27 · main.(*Pool).worker', '3 goroutines in 2 groups', '',
    '2 × chan receive, created by main.NewPool at pool.go:30', '  goroutine 8 · chan receive · 3 min', '  goroutine 12 · chan receive', '',
    '1 × select', '  goroutine 40 · select', '',
  ].join('\n'));
  assert.throws(() => parseGoroutines({ rows: 'no' }), /goblock.goroutines returned/);
  assert.throws(() => parseGoroutines({ groups: [], rows: [{ status: 'x' }] }), /row 0 has no id/);
});

// qa 05:21: a failed load beside shown inputs is a note, not the status ("failed" until reload).
// The server's failure messages name their file (docs/lsp.md: "why, one line naming the file"):
// the detail says it once.
test('statusWithFailures: a note beside what is shown, the status when nothing is', () => {
  const bad = [{ path: '/tmp/bad.trace', message: 'bad.trace: not a Go execution trace' }];
  const shown = { text: 'goblock: good.trace', detail: 'Go 1.26 · 2 min ago' };
  assert.deepEqual(statusWithFailures(shown, 1, bad), {
    text: 'goblock: good.trace · 1 failed',
    detail: 'Go 1.26 · 2 min ago · bad.trace: not a Go execution trace',
    severity: 'warning',
  });
  assert.deepEqual(statusWithFailures(shown, 0, [...bad, { path: '/w/b.pb.gz', message: 'x' }]), {
    text: 'goblock: 2 inputs failed',
    detail: 'bad.trace: not a Go execution trace (and 1 more)',
    severity: 'error',
  });
});

test('describeDumps: the status item when only dumps and profiles are shown', () => {
  const base = (p: string) => p.split('/').pop() ?? p;
  const dump = { path: '/w/hang.txt', kind: 'goroutine-dump', label: 'goroutine dump · 37 goroutines' };
  assert.deepEqual(describeDumps([dump], base), { text: 'goblock: hang.txt', detail: 'goroutine dump · 37 goroutines' });
  const block = { path: '/w/block.pb.gz', kind: 'block-profile', label: '' };
  assert.deepEqual(describeDumps([dump, block], base), {
    text: 'goblock: 2 dumps and profiles',
    detail: 'goroutine dump · 37 goroutines · block.pb.gz',
  });
  // Beside a failure it stays the status (goblock/status: loaded).
  const failed = statusWithFailures(describeDumps([dump], base), 1, [{ path: '/t/bad.trace', message: 'x' }]);
  assert.equal(failed.text, 'goblock: hang.txt · 1 failed');
  assert.equal(failed.severity, 'warning');
});

test('withDumps: traces shown with dumps and profiles name both', () => {
  const base = (p: string) => p.split('/').pop() ?? p;
  const traces = { text: 'goblock: 2 traces', detail: 'Go 1.26 · 2 min ago', anyStale: false };
  const dump = { path: '/w/hang.txt', kind: 'goroutine-dump', label: 'goroutine dump · 37 goroutines' };
  const block = { path: '/w/block.pb.gz', kind: 'block-profile', label: '' };
  const mutex = { path: '/w/mutex.pb.gz', kind: 'mutex-profile', label: 'mutex profile' };
  assert.deepEqual(withDumps(traces, [dump], base), {
    text: 'goblock: 2 traces · 1 dump',
    detail: 'Go 1.26 · 2 min ago · goroutine dump · 37 goroutines',
    anyStale: false,
  });
  assert.deepEqual(withDumps({ ...traces, text: 'goblock: good.trace' }, [block, dump, mutex], base), {
    text: 'goblock: good.trace · 1 dump · 2 profiles',
    detail: 'Go 1.26 · 2 min ago · block.pb.gz · goroutine dump · 37 goroutines · mutex profile',
    anyStale: false,
  });
  assert.equal(withDumps(traces, [], base), traces);
});
