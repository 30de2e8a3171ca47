// serverPath.ts: finds the `goblock` binary to run as `goblock lsp`: the `goblock.server.path`
// setting, else a binary shipped next to the extension (bin/goblock), else `goblock` on PATH.
// Pure (file checks are injected) so the unit tests cover every branch.
import * as path from 'path';
import { expandPath, PathContext } from './config';

export interface ServerCommand {
  command: string;
  args: string[];
  source: 'setting' | 'bundled' | 'path';
}

export interface Env {
  PATH?: string;
  platform: string;
  isExecutable: (p: string) => boolean;
}

function exeName(platform: string): string {
  return platform === 'win32' ? 'goblock.exe' : 'goblock';
}

/** Looks `name` up on a PATH string. */
export function which(name: string, env: Env): string | undefined {
  const sep = env.platform === 'win32' ? ';' : ':';
  for (const dir of (env.PATH ?? '').split(sep)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (env.isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Resolves the server command. Returns an error string (shown to the user) when no binary is found.
 * The args are exactly `lsp`: the client must not use TransportKind.stdio, which appends `--stdio`.
 */
export function resolveServer(
  setting: string | undefined,
  extensionPath: string,
  ctx: PathContext,
  env: Env,
): ServerCommand | string {
  const exe = exeName(env.platform);
  if (setting && setting.trim() !== '') {
    const p = expandPath(setting, ctx);
    if (!p.includes('/') && !p.includes('\\')) {
      const found = which(p, env);
      if (found) return { command: found, args: ['lsp'], source: 'setting' };
      return `goblock.server.path is "${setting}", which is not on PATH`;
    }
    const abs = path.isAbsolute(p) ? p : path.resolve(ctx.workspaceFolder ?? extensionPath, p);
    if (env.isExecutable(abs)) return { command: abs, args: ['lsp'], source: 'setting' };
    return `goblock.server.path is "${setting}", but ${abs} is not an executable file`;
  }
  const bundled = path.join(extensionPath, 'bin', exe);
  if (env.isExecutable(bundled)) return { command: bundled, args: ['lsp'], source: 'bundled' };
  const onPath = which(exe, env);
  if (onPath) return { command: onPath, args: ['lsp'], source: 'path' };
  return (
    'no goblock server binary: this goblock extension has none built in and goblock is not on PATH. ' +
    'Install the goblock .vsix built for your platform (it ships the binary), or set goblock.server.path ' +
    "to a goblock binary (`cargo build --release` in goblock's repository builds target/release/goblock)."
  );
}
