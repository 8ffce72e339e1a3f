// Compile a .ksy file to Python with the npm build of kaitai-struct-compiler.
// Since 0.11 the npm module *is* the compiler (no CLI): compile(lang, spec,
// importer, debug) returns a promise of {filename: source}.
// usage: node compile.js SPEC.ksy OUTDIR
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const compiler = require('kaitai-struct-compiler');

async function main() {
  const [specPath, outDir] = process.argv.slice(2);
  if (!specPath || !outDir) {
    console.error('usage: node compile.js SPEC.ksy OUTDIR');
    process.exit(2);
  }
  const spec = yaml.load(fs.readFileSync(specPath, 'utf8'));
  const importer = {
    importYaml(name) {
      return Promise.reject(new Error('imports are not used by cmvc.ksy: ' + name));
    },
  };
  const files = await compiler.compile('python', spec, importer, false);
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, src] of Object.entries(files)) {
    fs.writeFileSync(path.join(outDir, name), src);
    console.log(path.join(outDir, name));
  }
}

main().catch((err) => {
  console.error('kaitai compile failed: ' + (err && err.stack ? err.stack : err));
  process.exit(1);
});
