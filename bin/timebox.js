#!/usr/bin/env node
'use strict';
// The `timebox` operator CLI. In a clone (src/ present and tsx installed by `npm ci`) it runs the
// TypeScript source, so it can never be a stale build; in an installed package (no tsx, a devDependency)
// it runs the build, dist/src/cli/main.js.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'src', 'cli', 'main.ts');
const built = join(root, 'dist', 'src', 'cli', 'main.js');

function loadCli() {
  if (existsSync(source)) {
    try {
      require.resolve('tsx/cjs/api', { paths: [root] });
      require(require.resolve('tsx/cjs/api', { paths: [root] })).register();
      return require(source);
    } catch (err) {
      if (err && err.code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  if (existsSync(built)) return require(built);
  process.stderr.write('timebox: neither tsx (run `npm ci`) nor a build (run `npm run build`) was found\n');
  process.exit(1);
}

loadCli()
  .run(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`timebox: ${err && err.message ? String(err.message).split('\n')[0] : String(err)}\n`);
      process.exitCode = 1;
    },
  );
