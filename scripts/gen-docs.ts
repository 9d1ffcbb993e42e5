// Writes docs/configuration.md and docs/api.md from the schemas (npm run gen:docs).
import { writeFileSync } from 'node:fs';
import { DOC_FILES } from './docs.ts';

for (const [file, render] of Object.entries(DOC_FILES)) {
  writeFileSync(new URL(`../${file}`, import.meta.url), render());
  console.log(`wrote ${file}`);
}
