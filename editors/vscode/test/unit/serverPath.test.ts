// serverPath.test.ts: where the extension looks for the goblock binary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveServer, which } from '../../src/serverPath';

const ctx = { home: '/home/u', workspaceFolder: '/ws' };
function env(executables: string[], PATH = '/usr/local/bin:/usr/bin') {
  return { PATH, platform: 'linux', isExecutable: (p: string) => executables.includes(p) };
}

test('the setting wins, with ~ and ${workspaceFolder} expanded and args exactly ["lsp"]', () => {
  const e = env(['/home/u/bin/goblock', '/ext/bin/goblock', '/usr/bin/goblock']);
  assert.deepEqual(resolveServer('~/bin/goblock', '/ext', ctx, e), {
    command: '/home/u/bin/goblock', args: ['lsp'], source: 'setting',
  });
  const e2 = env(['/ws/target/release/goblock']);
  assert.equal((resolveServer('${workspaceFolder}/target/release/goblock', '/ext', ctx, e2) as { command: string }).command,
    '/ws/target/release/goblock');
});

test('a relative setting is relative to the workspace folder', () => {
  const e = env(['/ws/target/debug/goblock']);
  assert.equal((resolveServer('target/debug/goblock', '/ext', ctx, e) as { command: string }).command,
    '/ws/target/debug/goblock');
});

test('a bare name in the setting is looked up on PATH', () => {
  const e = env(['/usr/bin/goblock-dev']);
  assert.equal((resolveServer('goblock-dev', '/ext', ctx, e) as { command: string }).command, '/usr/bin/goblock-dev');
  assert.match(resolveServer('nope', '/ext', ctx, e) as string, /not on PATH/);
});

test('a missing configured binary is an error, not a silent fallback', () => {
  const e = env(['/ext/bin/goblock', '/usr/bin/goblock']);
  assert.match(resolveServer('/opt/goblock', '/ext', ctx, e) as string, /not an executable/);
});

test('default: the bundled binary, then PATH, then an error', () => {
  assert.equal((resolveServer('', '/ext', ctx, env(['/ext/bin/goblock', '/usr/bin/goblock'])) as { source: string }).source, 'bundled');
  const onPath = resolveServer(undefined, '/ext', ctx, env(['/usr/bin/goblock']));
  assert.deepEqual(onPath, { command: '/usr/bin/goblock', args: ['lsp'], source: 'path' });
  const none = resolveServer('  ', '/ext', ctx, env([])) as string;
  assert.match(none, /no goblock server binary/);
  // The message says how to fix it: the platform .vsix, the setting, or where to build one.
  assert.match(none, /\.vsix built for your platform/);
  assert.match(none, /goblock\.server\.path/);
  assert.match(none, /cargo build --release/);
});

test('which takes the first PATH entry that has it', () => {
  const e = env(['/a/goblock', '/b/goblock'], ':/a::/b');
  assert.equal(which('goblock', e), '/a/goblock');
  assert.equal(which('goblock', env([], '')), undefined);
});
