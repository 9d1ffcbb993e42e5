import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionsInSource, UnderivableImportError } from './aws-calls.ts';

const scan = (text: string) => actionsInSource('src/x.ts', text);

describe('the scan of src/ for AWS calls', () => {
  it('turns Commands and paginators into actions, by their imported name', () => {
    const text = `
      import { GetRoleCommand, paginateListRoleTags, IAMClient, NoSuchEntityException, type Role } from '@aws-sdk/client-iam';
      import { DescribeClusterCommand as Describe } from '@aws-sdk/client-eks';
      import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';`;
    assert.deepEqual(scan(text), ['iam:GetRole', 'iam:ListRoleTags', 'eks:DescribeCluster', 'sts:GetCallerIdentity']);
  });

  it('ignores type-only imports and other modules', () => {
    assert.deepEqual(scan(`import type { GetRoleCommand } from '@aws-sdk/client-iam'; import { x } from './y.ts';`), []);
  });

  it('reads strings that are names of an object’s prototype as strings (src/aws/xml-parser.ts has __proto__)', () => {
    assert.deepEqual(scan(`if (tag === '__proto__' || tag === 'toString' || tag === 'constructor') write(tag);`), []);
  });

  for (const [what, text] of [
    ['a namespace import', `import * as iam from '@aws-sdk/client-iam';`],
    ['the aggregated client', `import { IAM } from '@aws-sdk/client-iam';`],
    ['a waiter', `import { waitUntilRoleExists } from '@aws-sdk/client-iam';`],
    ['another AWS client', `import { GetObjectCommand } from '@aws-sdk/client-s3';`],
    ['a dynamic import', `const iam = await import('@aws-sdk/client-iam');`],
    ['a re-export', `export { GetRoleCommand } from '@aws-sdk/client-iam';`],
  ] as const) {
    it(`refuses ${what}: its calls cannot be derived`, () => {
      assert.throws(() => scan(text), UnderivableImportError);
    });
  }
});
