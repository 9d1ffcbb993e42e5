import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { audienceNotAllowed, defaultAudience } from '../../../src/policy/audience.ts';

describe('defaultAudience', () => {
  const cases: { name: string; configured?: string; clientIds: string[]; want: string }[] = [
    { name: 'EKS (any partition, China included) lists sts.amazonaws.com', clientIds: ['sts.amazonaws.com'], want: 'sts.amazonaws.com' },
    {
      name: 'a self-managed China cluster lists only the China audience',
      clientIds: ['sts.amazonaws.com.cn'],
      want: 'sts.amazonaws.com.cn',
    },
    { name: 'both listed: sts.amazonaws.com first', clientIds: ['sts.amazonaws.com.cn', 'sts.amazonaws.com'], want: 'sts.amazonaws.com' },
    { name: 'neither listed: sts.amazonaws.com (and the check says why it fails)', clientIds: ['vault'], want: 'sts.amazonaws.com' },
    { name: 'no client IDs at all', clientIds: [], want: 'sts.amazonaws.com' },
    { name: 'the configured default wins', configured: 'vault', clientIds: ['sts.amazonaws.com', 'vault'], want: 'vault' },
    { name: 'the configured default wins even when unlisted', configured: 'vault', clientIds: ['sts.amazonaws.com'], want: 'vault' },
  ];
  for (const tc of cases) it(tc.name, () => assert.equal(defaultAudience(tc.configured, tc.clientIds), tc.want));
});

describe('audienceNotAllowed', () => {
  const provider = 'arn:aws:iam::123456789012:oidc-provider/oidc.example.com';
  it('accepts a listed audience', () =>
    assert.equal(audienceNotAllowed('sts.amazonaws.com', provider, ['x', 'sts.amazonaws.com']), undefined));
  it('compares exactly (client IDs are case-sensitive)', () =>
    assert.ok(audienceNotAllowed('STS.amazonaws.com', provider, ['sts.amazonaws.com'])));
  it('names the provider, its client IDs and both fixes', () => {
    assert.equal(
      audienceNotAllowed('test', provider, ['sts.amazonaws.com', 'vault']),
      `the IAM OIDC provider ${provider} accepts the audiences sts.amazonaws.com, vault, not test: STS would refuse every token. Add test to the provider's client IDs (aws iam add-client-id-to-open-id-connect-provider), or set spec.audience to one it lists`,
    );
  });
  it('says none when the provider lists none', () =>
    assert.match(audienceNotAllowed('a', provider, []) ?? '', /accepts the audiences none, not a/));
});
