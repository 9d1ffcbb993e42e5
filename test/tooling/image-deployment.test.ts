import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { operatorDeployment } from '../image/deployment.ts';

const REPO = new URL('../../', import.meta.url).pathname;

function withManifest(yaml: string, check: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-unit-'));
  try {
    writeFileSync(join(dir, 'manager.yaml'), yaml);
    check(join(dir, 'manager.yaml'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const deployment = (securityContext: string, extraPod = '') => `
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:${extraPod}
      securityContext: { runAsUser: 65532, runAsGroup: 65532 }
      containers:
        - name: operator
          env: [{ name: IRSA_CONFIG, value: /etc/irsa/config.yaml }]
          resources: { limits: { memory: 256Mi, cpu: 500m } }
          securityContext: ${securityContext}
          volumeMounts: [{ name: config, mountPath: /etc/irsa, readOnly: true }]
`;

test('config/manager translates to podman flags: read-only without tmpfs, user, no capabilities, no new privileges, env, limits', () => {
  const d = operatorDeployment(join(REPO, 'config/manager/manager.yaml'));
  assert.deepEqual(d.runFlags, [
    '--user=65532:65532',
    '--memory=268435456b',
    '--memory-swap=268435456b',
    '--cpus=0.5',
    '--read-only',
    '--read-only-tmpfs=false',
    '--security-opt=no-new-privileges',
    '--cap-drop=ALL',
    '--env=IRSA_CONFIG=/etc/irsa/config.yaml',
  ]);
  assert.equal(d.gracePeriodSeconds, 30, "Kubernetes' default: the Deployment sets none");
  assert.equal(d.configMountPath, '/etc/irsa');
});

test('the container securityContext overrides the pod one; the grace period is read', () => {
  withManifest(deployment('{ runAsUser: 1000, readOnlyRootFilesystem: false }', '\n      terminationGracePeriodSeconds: 45'), (file) => {
    const d = operatorDeployment(file);
    assert.equal(d.uid, 1000);
    assert.equal(d.gid, 65532);
    assert.ok(!d.runFlags.includes('--read-only'));
    assert.deepEqual(d.env, { IRSA_CONFIG: '/etc/irsa/config.yaml' });
    assert.equal(d.gracePeriodSeconds, 45);
  });
});

test('a securityContext setting or an env source the translation does not know fails instead of being left out', () => {
  withManifest(deployment('{ privileged: false }'), (file) =>
    assert.throws(() => operatorDeployment(file), /securityContext\.privileged: not translated/),
  );
  withManifest(deployment('{ capabilities: { add: [NET_ADMIN] } }'), (file) =>
    assert.throws(() => operatorDeployment(file), /capabilities\.add/),
  );
  withManifest(deployment('{ seccompProfile: { type: Unconfined } }'), (file) =>
    assert.throws(() => operatorDeployment(file), /seccompProfile Unconfined/),
  );
  const fromSecret = deployment('{}').replace(
    '[{ name: IRSA_CONFIG',
    '[{ name: TOKEN, valueFrom: { secretKeyRef: { name: s, key: k } } }, { name: IRSA_CONFIG',
  );
  withManifest(fromSecret, (file) => assert.throws(() => operatorDeployment(file), /env TOKEN without a literal value/));
});
