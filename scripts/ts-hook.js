// Runs the project's TypeScript entry points (render, check, bench, wrappers) without a separate
// build: each .ts file is transpiled once with esbuild and cached by content hash under
// node_modules/.cache, so a rerun only reads the cache. Type checking stays with `tsc` (npm test).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const CACHE_DIR = path.join(__dirname, '..', 'node_modules', '.cache', 'fingerprint-infra-ts');
let esbuild;

function transpile(source, filename) {
  esbuild = esbuild || require('esbuild');
  return esbuild.transformSync(source, { loader: 'ts', format: 'cjs', target: 'node20', sourcefile: filename }).code;
}

require.extensions['.ts'] = function loadTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(CACHE_DIR, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, 'utf8');
  } catch {
    code = transpile(source, filename);
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, cached);
  }
  module._compile(code, filename);
};
