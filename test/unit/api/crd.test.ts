import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { buildCrd, CRD_FILE, renderCrdYaml } from '../../../src/api/crd.ts';
import { openAPIV3Schema } from '../../../src/api/schema.ts';

const committed = readFileSync(new URL('../../../crds/irsa.dev_iamserviceaccounts.yaml', import.meta.url), 'utf8');

describe('CRD', () => {
  it('CRD_FILE names the committed file', () => {
    assert.equal(CRD_FILE, 'crds/irsa.dev_iamserviceaccounts.yaml');
  });

  it('renderCrdYaml() equals the committed file (run `npm run gen:crd` after changing the schema)', () => {
    assert.equal(renderCrdYaml(), committed);
  });

  it('starts with the generated-file header', () => {
    assert.match(renderCrdYaml(), /^# Generated from src\/api\/schema\.ts by `npm run gen:crd`\. Do not edit by hand\.\n/);
  });

  it('the YAML parses back to buildCrd()', () => {
    assert.deepEqual(parse(renderCrdYaml()), buildCrd());
  });

  it('names, scope, version and status subresource', () => {
    const crd = parse(committed) as {
      metadata: { name: string };
      spec: {
        group: string;
        scope: string;
        names: { kind: string; plural: string; singular: string; listKind: string };
        versions: { name: string; served: boolean; storage: boolean; subresources: unknown; schema: { openAPIV3Schema: unknown } }[];
      };
    };
    assert.equal(crd.metadata.name, 'iamserviceaccounts.irsa.dev');
    assert.equal(crd.spec.group, 'irsa.dev');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.deepEqual(
      { kind: crd.spec.names.kind, plural: crd.spec.names.plural, singular: crd.spec.names.singular, listKind: crd.spec.names.listKind },
      { kind: 'IamServiceAccount', plural: 'iamserviceaccounts', singular: 'iamserviceaccount', listKind: 'IamServiceAccountList' },
    );
    assert.equal(crd.spec.versions.length, 1);
    const [v] = crd.spec.versions;
    assert.ok(v);
    assert.equal(v.name, 'v1alpha1');
    assert.equal(v.served, true);
    assert.equal(v.storage, true);
    assert.deepEqual(v.subresources, { status: {} });
    assert.deepEqual(v.schema.openAPIV3Schema, JSON.parse(JSON.stringify(openAPIV3Schema)));
  });
});
