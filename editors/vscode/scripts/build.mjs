// build.mjs: bundles src/extension.ts (with vscode-languageclient) into dist/extension.js
// with esbuild. `--production` minifies and drops source maps (used for the .vsix).
import { build } from 'esbuild';

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
