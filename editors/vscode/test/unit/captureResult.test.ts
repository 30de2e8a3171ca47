// captureResult.test.ts: the capture commands' results (docs/lsp.md, "Captures") are checked
// and turned into what the user reads; bad input to "Capture from Service…" is refused before
// the server is asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  busyWith, captureRow, doneMessage, parseCaptureResult, parseCaptures, serviceArgs, wasCancelled,
} from '../../src/captureResult';

const capture = {
  dir: '/ws/.goblock/captures/20261201T215101Z-TestProcessOrders',
  trace: '/ws/.goblock/captures/20261201T215101Z-TestProcessOrders/trace',
  binary: '/ws/.goblock/captures/20261201T215101Z-TestProcessOrders/bin',
  name: 'TestProcessOrders', kind: 'test', outcome: 'passed', started: '2026-12-01T21:51:01Z',
  traceBytes: 29_700, warnings: [],
};

test('a capture result', () => {
  const r = parseCaptureResult({ capture, message: 'traced TestProcessOrders: passed · 29 KiB', loaded: true });
  assert.equal(r.capture.binary, capture.binary);
  assert.deepEqual(doneMessage(r), { text: 'goblock: traced TestProcessOrders: passed · 29 KiB', warn: false });
  const failed = parseCaptureResult({
    capture: { ...capture, outcome: 'failed', warnings: ['TestX: the test failed (exit status 1)'] },
    message: 'traced TestX: failed', loaded: true,
  });
  assert.deepEqual(doneMessage(failed), {
    text: 'goblock: traced TestX: failed — TestX: the test failed (exit status 1)', warn: true,
  });
  assert.throws(() => parseCaptureResult({ capture: { ...capture, trace: 3 }, message: '' }), /trace/);
  assert.throws(() => parseCaptureResult(null), /unexpected/);
});

test('the list of captures', () => {
  const r = parseCaptures({ root: '/ws/.goblock/captures', captures: [{ ...capture, loaded: true }], running: 'TestY' });
  assert.equal(r.running, 'TestY');
  assert.equal(r.captures[0].loaded, true);
  assert.deepEqual(captureRow(r.captures[0]), {
    label: '$(eye) TestProcessOrders', description: 'test · passed · 29 KiB', detail: '2026-12-01T21:51:01Z',
  });
  assert.deepEqual(parseCaptures({ root: '/c', captures: [] }).captures, []);
});

test('busy and cancelled errors', () => {
  assert.equal(busyWith({ code: -32803, data: { reason: 'busy', running: 'TestA' } }), 'TestA');
  assert.equal(busyWith({ code: -32803, data: { reason: 'build' } }), undefined);
  assert.equal(busyWith(new Error('x')), undefined);
  assert.equal(wasCancelled({ data: { reason: 'cancelled' } }), true);
});

test('service input', () => {
  assert.deepEqual(serviceArgs(' http://127.0.0.1:6060 ', '2'), { args: [{ url: 'http://127.0.0.1:6060', seconds: 2 }] });
  assert.deepEqual(serviceArgs('localhost:6060', '0.5'), { args: [{ url: 'localhost:6060', seconds: 0.5 }] });
  assert.ok('error' in serviceArgs('file:///etc/passwd', '2'));
  assert.ok('error' in serviceArgs('', '2'));
  assert.ok('error' in serviceArgs('http://h', '0'));
  assert.ok('error' in serviceArgs('http://h', 'ten'));
  // A dump asks for no seconds; profiles take them; nothing else is asked for.
  assert.deepEqual(serviceArgs('http://h', '', 'goroutines'), { args: [{ url: 'http://h', what: 'goroutines' }] });
  assert.deepEqual(serviceArgs('http://h', '3', 'block'), { args: [{ url: 'http://h', seconds: 3, what: 'block' }] });
  assert.ok('error' in serviceArgs('http://h', '0', 'mutex'));
  assert.ok('error' in serviceArgs('http://h', '2', 'heap'));
});

test('a service capture other than a trace', () => {
  const dump = parseCaptureResult({
    capture: { ...capture, kind: 'service', what: 'goroutines', name: '127.0.0.1:6060', trace: '/c/goroutines.txt' },
    message: 'captured a goroutine dump of 127.0.0.1:6060: 14 KiB in 12 ms', loaded: true,
  });
  assert.equal(dump.capture.what, 'goroutines');
  assert.equal(captureRow(dump.capture).description, 'service goroutines · passed · 29 KiB');
  // Older servers send no `what`: a trace.
  assert.equal(parseCaptureResult({ capture, message: 'm', loaded: true }).capture.what, 'trace');
});
