import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { podInjection, podView } from '../../../src/kube/pods.ts';

/** A pod as the pod identity webhook leaves it (its env, volume and mount names). */
function mutated(over: Partial<V1Pod['metadata']> = {}, phase = 'Running'): V1Pod {
  return {
    metadata: {
      name: 'web-5d8f-a',
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: 'u', controller: true }],
      ...over,
    },
    spec: {
      serviceAccountName: 'app',
      containers: [
        {
          name: 'app',
          env: [
            { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
            { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/app' },
            { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
            { name: 'AWS_REGION', value: 'eu-west-1' },
          ],
          volumeMounts: [{ name: 'aws-iam-token', mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', readOnly: true }],
        },
      ],
      volumes: [
        {
          name: 'aws-iam-token',
          projected: { sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] },
        },
      ],
    },
    status: { phase },
  };
}

describe('podInjection', () => {
  it('reads the env and the projected token the webhook added', () => {
    assert.deepEqual(podInjection(mutated()), {
      roleArn: 'arn:aws:iam::123456789012:role/app',
      tokenFile: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
      audience: 'sts.amazonaws.com',
      expirationSeconds: 86400,
      regional: 'regional',
      region: 'eu-west-1',
    });
  });
  it('a pod the webhook did not touch carries nothing', () => {
    const pod: V1Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } };
    assert.deepEqual(podInjection(pod), {
      roleArn: undefined,
      tokenFile: undefined,
      audience: undefined,
      expirationSeconds: undefined,
      regional: undefined,
      region: undefined,
    });
  });
  it('a container that does not exist carries nothing', () => assert.deepEqual(podInjection(mutated(), 'sidecar'), {}));
});

describe('podView', () => {
  it('keeps the name, the controller and the injection', () => {
    assert.deepEqual(podView(mutated()), {
      name: 'web-5d8f-a',
      owner: { kind: 'ReplicaSet', name: 'web-5d8f' },
      injection: {
        roleArn: 'arn:aws:iam::123456789012:role/app',
        audience: 'sts.amazonaws.com',
        expirationSeconds: 86400,
        regional: 'regional',
      },
    });
  });
  it('a bare pod has no owner', () => assert.equal(podView(mutated({ ownerReferences: [] }))?.owner, undefined));
  for (const phase of ['Succeeded', 'Failed']) it(`skips a ${phase} pod`, () => assert.equal(podView(mutated({}, phase)), undefined));
  it('skips a pod being deleted', () => assert.equal(podView(mutated({ deletionTimestamp: new Date() })), undefined));
  it('keeps a Pending pod (it will run with what it has)', () => assert.ok(podView(mutated({}, 'Pending'))));
});
