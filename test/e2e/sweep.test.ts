// The drift sweep's reads against moto (its GetAccountAuthorizationDetails paged by the test
// environment's launcher, test/env/moto_server.py, as IAM pages it): every wanted role arrives
// whole, page after page, and the calls are the pages, each taken from the read budget.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateRoleCommand, PutRolePolicyCommand, TagRoleCommand } from '@aws-sdk/client-iam';
import { DEFAULT_CALL_OPTIONS } from '../../src/aws/call.ts';
import { IamSweep } from '../../src/aws/sweep.ts';
import type { ActualRole } from '../../src/policy/diff.ts';
import { iam, resetAws } from './helpers.ts';

const TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const INLINE = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };

describe('the account-wide sweep', () => {
  before(async () => {
    await resetAws();
    const client = iam();
    for (const [i, name] of ['r-c', 'r-a', 'r-e', 'r-b', 'r-d', 'elsewhere'].entries()) {
      const Path = name === 'elsewhere' ? '/other/' : '/irsa/';
      await client.send(
        new CreateRoleCommand({ RoleName: name, Path, AssumeRolePolicyDocument: JSON.stringify(TRUST), Description: `role ${i}` }),
      );
      await client.send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'inline', PolicyDocument: JSON.stringify(INLINE) }));
      await client.send(new TagRoleCommand({ RoleName: name, Tags: [{ Key: 'n', Value: String(i) }] }));
    }
  });

  it('reads the account a page at a time and hands over each wanted role whole', async () => {
    let pages = 0;
    const countPage = () => {
      pages++;
      return Promise.resolve();
    };
    const sweep = new IamSweep(iam(), DEFAULT_CALL_OPTIONS, countPage, { details: 2, list: 2 });
    const seen: ActualRole[] = [];
    await sweep.readEach(
      '/irsa/',
      (name) => name !== 'r-d',
      (role) => seen.push(role),
    );
    assert.deepEqual(
      seen.map((r) => r.name),
      ['elsewhere', 'r-a', 'r-b', 'r-c', 'r-e'],
      'every wanted role, in the order IAM pages them, r-d left out',
    );
    // ListRoles under /irsa/: 5 roles in pages of 2 (3 calls); GetAccountAuthorizationDetails: 6 roles (3 calls).
    assert.equal(pages, 6);
    const c = seen.find((r) => r.name === 'r-c');
    assert.equal(c?.description, 'role 0', 'from ListRoles');
    assert.equal(c?.path, '/irsa/');
    assert.deepEqual(c?.tags, { n: '0' });
    assert.deepEqual(JSON.parse(decodeURIComponent(c?.inlinePolicies.inline ?? '')), INLINE);
    assert.deepEqual(JSON.parse(decodeURIComponent(c?.trustPolicy ?? '')), TRUST);
    assert.equal(seen.find((r) => r.name === 'elsewhere')?.description, '', 'outside the path: no ListRoles entry');
  });
});
