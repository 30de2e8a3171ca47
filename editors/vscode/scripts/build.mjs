// build.mjs: bundles src/extension.ts (with vscode-languageclient) into dist/extension.js
// with esbuild. `--production` minifies and drops source maps (used for the .vsix).
// Refuses a Node older than package.json's devEngines (npm before 10.9 does not check it).
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const want = Number(/\d+/.exec(manifest.devEngines.runtime.version)[0]);
const have = Number(process.versions.node.split('.')[0]);
if (have < want) {
  console.error(
    `goblock: building the extension needs Node ${want}+ (package.json devEngines), this is ${process.version}.`,
  );
  process.exit(1);
}

const production = process.argv.includes('--production');
await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
});
console.log(`built dist/extension.js${production ? ' (production)' : ''}`);
