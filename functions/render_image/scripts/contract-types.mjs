// The event and result types of each kind, and the contract's names as literal types, generated from the contract's JSON Schemas
// (schema/, themselves generated from the Python models) by json-schema-to-typescript:
// `node scripts/contract-types.mjs` writes src/generated/; `--check` exits 1 when the committed
// files differ (a pytest test runs it), so the TypeScript cannot drift from the contract.
import fs from 'node:fs';
import { compile } from 'json-schema-to-typescript';

const root = new URL('../', import.meta.url);
const schemaDir = new URL('schema/', root);
const outDir = new URL('src/generated/', root);
const contract = JSON.parse(fs.readFileSync(new URL('contract.json', schemaDir), 'utf8'));
const banner = (file) => `// Generated from schema/${file} by scripts/contract-types.mjs (make schema); do not edit.\n`;
const options = { bannerComment: '', additionalProperties: false, strictIndexSignatures: true,
  format: true, unreachableDefinitions: false };

const wanted = new Map();
for (const files of Object.values(contract.kinds)) {
  for (const file of [files.event_schema, files.result_schema]) {
    const schema = JSON.parse(fs.readFileSync(new URL(file, schemaDir), 'utf8'));
    delete schema.$comment;
    const ts = await compile(schema, schema.title, options);
    wanted.set(file.replace('.schema.json', '.ts'), banner(file) + ts);
  }
}

// The names the contract gives (error types, this function's kinds) as literal types, so the
// TypeScript names them exactly as the Python does instead of repeating them by hand.
const union = (names) => names.map((n) => `'${n}'`).join(' | ');
wanted.set('contract.ts', `// Generated from schema/contract.json by scripts/contract-types.mjs (make schema); do not edit.
export type ErrorTypeName = ${union(Object.keys(contract.error_types).sort())};
export type KindName = ${union(Object.keys(contract.kinds).sort())};
`);

const check = process.argv.includes('--check');
let drift = 0;
for (const [name, text] of wanted) {
  const target = new URL(name, outDir);
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
  if (current === text) continue;
  if (check) {
    console.error(`src/generated/${name} differs from its schema: run \`make schema\``);
    drift += 1;
  } else {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(target, text);
    console.log(`wrote src/generated/${name}`);
  }
}
process.exit(drift ? 1 : 0);
