// Builds the CustomResourceDefinition from the schema in ./schema.ts. `npm run gen:crd` writes it
// to crds/; a unit test fails when the committed file and this builder disagree.
import { stringify } from 'yaml';
import { GROUP, KIND, PLURAL, VERSION } from './types.ts';
import { openAPIV3Schema } from './schema.ts';

export const CRD_FILE = `crds/${GROUP}_${PLURAL}.yaml`;
/** Copies for kustomize (which reads no file outside its folder) and for the Helm chart. */
export const CRD_COPIES = [`config/crd/bases/${GROUP}_${PLURAL}.yaml`, `charts/irsa-operator/crds/${GROUP}_${PLURAL}.yaml`];

export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: KIND.toLowerCase(),
        shortNames: ['iamsa', 'irsa'],
        categories: ['aws', 'iam'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
            { name: 'Role ARN', type: 'string', jsonPath: '.status.roleARN' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

export function renderCrdYaml(): string {
  // YAML 1.1 rules quote what a 1.1 reader (kustomize) would take for a date or a boolean, such as
  // the policy Version "2012-10-17".
  return `# Generated from src/api/schema.ts by \`npm run gen:crd\`. Do not edit by hand.\n${stringify(buildCrd(), { lineWidth: 0, version: '1.1' })}`;
}
