import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  issuerHostPath,
  managedPolicyArn,
  oidcProviderArn,
  parseArn,
  partitionForRegion,
  roleArn,
  roleNameFromArn,
  type ParsedArn,
  type Partition,
} from '../../../src/policy/arn.ts';

describe('partitionForRegion', () => {
  const cases: { name: string; region: string; want: Partition }[] = [
    { name: 'commercial region', region: 'eu-west-1', want: 'aws' },
    { name: 'us-east-1', region: 'us-east-1', want: 'aws' },
    { name: 'China (Beijing)', region: 'cn-north-1', want: 'aws-cn' },
    { name: 'China (Ningxia)', region: 'cn-northwest-1', want: 'aws-cn' },
    { name: 'GovCloud west', region: 'us-gov-west-1', want: 'aws-us-gov' },
    { name: 'GovCloud east', region: 'us-gov-east-1', want: 'aws-us-gov' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(partitionForRegion(tc.region), tc.want);
    });
  }
});

describe('issuerHostPath', () => {
  const ok: { name: string; issuer: string; want: string }[] = [
    {
      name: 'https EKS issuer',
      issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123',
      want: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC123',
    },
    { name: 'without scheme', issuer: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC123', want: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC123' },
    { name: 'one trailing slash', issuer: 'https://oidc.example.com/id/X/', want: 'oidc.example.com/id/X' },
    { name: 'several trailing slashes', issuer: 'https://oidc.example.com/id/X///', want: 'oidc.example.com/id/X' },
    { name: 'host only with trailing slash', issuer: 'https://oidc.example.com/', want: 'oidc.example.com' },
    { name: 'uppercase host is lowered, path case kept', issuer: 'https://OIDC.Example.COM/id/AbC', want: 'oidc.example.com/id/AbC' },
    { name: 'uppercase scheme', issuer: 'HTTPS://oidc.example.com/id/X', want: 'oidc.example.com/id/X' },
    { name: 'surrounding white space', issuer: '  https://oidc.example.com/x \n', want: 'oidc.example.com/x' },
    { name: 'host with port', issuer: 'https://oidc.example.com:8443/x', want: 'oidc.example.com:8443/x' },
    {
      name: 'China issuer',
      issuer: 'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/C',
      want: 'oidc.eks.cn-north-1.amazonaws.com.cn/id/C',
    },
  ];
  for (const tc of ok) {
    it(`accepts ${tc.name}`, () => {
      assert.equal(issuerHostPath(tc.issuer), tc.want);
    });
  }

  const bad: { name: string; issuer: string; want: RegExp }[] = [
    { name: 'http://', issuer: 'http://oidc.example.com/id/X', want: /must use https:\/\// },
    { name: 'HTTP:// uppercase', issuer: 'HTTP://oidc.example.com', want: /must use https:\/\// },
    { name: 'ftp://', issuer: 'ftp://oidc.example.com', want: /must use https:\/\// },
    { name: 'empty', issuer: '', want: /is not a URL/ },
    { name: 'scheme only', issuer: 'https://', want: /is not a URL/ },
    { name: 'garbage with spaces', issuer: 'not an issuer', want: /is not a URL/ },
    { name: 'query string', issuer: 'https://oidc.example.com/x?y=1', want: /is not a URL/ },
    { name: 'underscore in host', issuer: 'https://oidc_example.com', want: /is not a URL/ },
    { name: 'host starting with a dash', issuer: 'https://-oidc.example.com', want: /is not a URL/ },
    { name: 'double slash inside the path', issuer: 'https://oidc.example.com//x', want: /is not a URL/ },
  ];
  for (const tc of bad) {
    it(`rejects ${tc.name}`, () => {
      assert.throws(() => issuerHostPath(tc.issuer), tc.want);
    });
  }
});

describe('ARN builders', () => {
  const cases: { name: string; got: string; want: string }[] = [
    {
      name: 'oidc provider aws',
      got: oidcProviderArn('aws', '123456789012', 'oidc.example.com/id/X'),
      want: 'arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/X',
    },
    {
      name: 'oidc provider aws-cn',
      got: oidcProviderArn('aws-cn', '123456789012', 'h/p'),
      want: 'arn:aws-cn:iam::123456789012:oidc-provider/h/p',
    },
    { name: 'role at /', got: roleArn('aws', '123456789012', '/', 'r'), want: 'arn:aws:iam::123456789012:role/r' },
    {
      name: 'role with a path',
      got: roleArn('aws-us-gov', '123456789012', '/team/app/', 'r'),
      want: 'arn:aws-us-gov:iam::123456789012:role/team/app/r',
    },
    { name: 'AWS managed policy', got: managedPolicyArn('aws', 'aws', 'ReadOnlyAccess'), want: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
    {
      name: 'managed policy with a path',
      got: managedPolicyArn('aws-cn', 'aws', 'service-role/X'),
      want: 'arn:aws-cn:iam::aws:policy/service-role/X',
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(tc.got, tc.want);
    });
  }
});

describe('parseArn', () => {
  const cases: { name: string; arn: string; want: ParsedArn | undefined }[] = [
    {
      name: 'role',
      arn: 'arn:aws:iam::123456789012:role/a/b',
      want: { partition: 'aws', service: 'iam', region: '', account: '123456789012', resource: 'role/a/b' },
    },
    {
      name: 'resource with colons',
      arn: 'arn:aws-cn:logs:cn-north-1:1:log-group:x:*',
      want: { partition: 'aws-cn', service: 'logs', region: 'cn-north-1', account: '1', resource: 'log-group:x:*' },
    },
    { name: 'not an ARN', arn: 'role/a', want: undefined },
    { name: 'too few parts', arn: 'arn:aws:iam::123', want: undefined },
    { name: 'empty resource', arn: 'arn:aws:iam::123:', want: undefined },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.deepEqual(parseArn(tc.arn), tc.want);
    });
  }
});

describe('roleNameFromArn', () => {
  const cases: { name: string; arn: string; want: string | undefined }[] = [
    { name: 'role at /', arn: 'arn:aws:iam::123456789012:role/my-role', want: 'my-role' },
    { name: 'role with a path', arn: 'arn:aws:iam::123456789012:role/a/b/my-role', want: 'my-role' },
    { name: 'policy is not a role', arn: 'arn:aws:iam::123456789012:policy/p', want: undefined },
    { name: 'other service', arn: 'arn:aws:s3:::role/x', want: undefined },
    { name: 'garbage', arn: 'my-role', want: undefined },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(roleNameFromArn(tc.arn), tc.want);
    });
  }
});
