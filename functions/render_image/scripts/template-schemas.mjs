// Prints each template's props JSON Schema (what the function checks before drawing), for
// the worker to check a revision's text against the same limits: `make schema` writes it to
// layers/runtime/smm_runtime/contract/template_props.json; a test fails when they drift.
import { TEMPLATES } from '../dist/templates.mjs';

const schemas = Object.fromEntries(Object.entries(TEMPLATES).map(([name, t]) => [name, t.props]));
process.stdout.write(`${JSON.stringify(schemas, null, 2)}\n`);
