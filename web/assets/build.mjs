// Bundles the diagram editors from node_modules into web/static/vendor/ (git-ignored; built by `make setup`).
//   node web/assets/build.mjs            one production build
//   node web/assets/build.mjs --watch    rebuild on change while editing web/assets/*.js
import * as esbuild from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, '..', 'static', 'vendor');
const watch = process.argv.includes('--watch');

// One bundle per page kind, so the inbox never loads an editor: each entry yields <name>.js and <name>.css.
const entryPoints = {
  modeler: join(here, 'modeler.js'), // bpmn-js Modeler + Camunda properties panel (process owners)
  viewer: join(here, 'viewer.js'), // bpmn-js NavigatedViewer with path markers (records, diffs)
  dmn: join(here, 'dmn.js'), // dmn-js decision table editor (process owners)
};

const options = {
  entryPoints,
  outdir,
  bundle: true,
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'eof',
  logLevel: 'info',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  assetNames: 'fonts/[name]-[hash]',
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  const result = await esbuild.build({ ...options, metafile: true });
  const built = Object.keys(result.metafile.outputs).map((p) => p.split('/').pop());
  // The app checks this stamp to tell a missing build from a broken one.
  writeFileSync(join(outdir, 'BUILD.json'), JSON.stringify({ built, at: new Date().toISOString() }, null, 1));
}
