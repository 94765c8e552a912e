// Runs a bench entry point from TypeScript source, compiled on load by swc (the compiler the
// jest projects use; `pnpm lint` type-checks the same files). Child processes of the harness
// (load generator, baselines) start through this file too: `node run.js <module> [args]`.
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher: it installs the .ts loader before anything is imported */
const path = require('node:path');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

// `node run.js @loadgen` runs src/loadgen.ts; anything else is the harness (src/main.ts) and its flags.
const first = process.argv[2] ?? '';
const entry = first.startsWith('@') ? first.slice(1) : 'main';
if (first.startsWith('@')) process.argv.splice(2, 1);
require(path.join(__dirname, 'src', `${entry}.ts`));
