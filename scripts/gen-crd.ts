// Writes crds/ from src/api/schema.ts.
import { writeFileSync } from 'node:fs';
import { CRD_FILE, renderCrdYaml } from '../src/api/crd.ts';

writeFileSync(new URL(`../${CRD_FILE}`, import.meta.url), renderCrdYaml());
console.log(`wrote ${CRD_FILE}`);
