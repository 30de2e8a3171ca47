// protocol.test.ts: the server's goblock/status notification (docs/lsp.md, "Protocol
// extensions") as the extension checks it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatus } from '../../src/protocol';

test('goblock/status: every field, defaults for what an older server leaves out', () => {
  const s = parseStatus({
    state: 'failed',
    inputs: [{ path: '/ws/a.trace', kind: 'trace', goVersion: '1.26', count: 12, partial: 0.5 }, { kind: 'x' }],
    failures: [{ path: '/ws/b.trace', message: 'b.trace: an empty file' }],
    lines: 3, files: 1, unmapped: 2, totalNs: 3.41e9, totalLabel: '3.41 s', message: '1 trace(s) loaded',
  });
  assert.deepEqual(s, {
    state: 'failed',
    inputs: [{ path: '/ws/a.trace', kind: 'trace', goVersion: '1.26', count: 12, partial: 0.5 }],
    failures: [{ path: '/ws/b.trace', message: 'b.trace: an empty file' }],
    lines: 3, files: 1, unmapped: 2, totalNs: 3.41e9, totalLabel: '3.41 s', message: '1 trace(s) loaded',
  });
  const loading = parseStatus({ state: 'loading' });
  assert.equal(loading.state, 'loading');
  assert.deepEqual(loading.inputs, []);
  assert.equal(loading.totalLabel, '');
});

test('goblock/status: a wrong shape is an error naming it', () => {
  assert.throws(() => parseStatus({ inputs: [] }), /without a state/);
  assert.throws(() => parseStatus(null), /without a state/);
  assert.throws(() => parseStatus({ state: 'done' }), /without a state/);
});
