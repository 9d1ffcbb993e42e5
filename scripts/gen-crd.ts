// Writes the CRD (crds/ and its copies for kustomize and Helm) from src/api/schema.ts.
import { writeFileSync } from 'node:fs';
import { CRD_COPIES, CRD_FILE, renderCrdYaml } from '../src/api/crd.ts';

for (const file of [CRD_FILE, ...CRD_COPIES]) {
  writeFileSync(new URL(`../${file}`, import.meta.url), renderCrdYaml());
  console.log(`wrote ${file}`);
}
