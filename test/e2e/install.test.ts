// The install artifacts: config/default (kustomize) and charts/irsa-operator (Helm) render, the
// test apiserver accepts every object they make (server-side dry run, Pod Security "restricted"
// warnings included), and the copies of the CRD and of the ClusterRole's rules cannot drift.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config.ts';
import { env, kubectl, kubectlResult, REPO } from './helpers.ts';

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

interface Deployment extends K8sObject {
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName: string;
        securityContext?: Record<string, unknown>;
        containers: Container[];
        volumes?: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}

interface Rules {
  rules: unknown[];
}

const CRD = 'crds/irsa.dev_iamserviceaccounts.yaml';
const CHART = join(REPO, 'charts/irsa-operator');
const NAMESPACE = 'irsa-system';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/irsa-operator';

/** HELM from .cache/testenv.env, written by test/env/setup.sh. */
function helmPath(): string {
  const file = join(REPO, '.cache/testenv.env');
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('HELM='));
  const path = line?.slice('HELM='.length);
  if (!path || !existsSync(path)) throw new Error(`HELM (${path ?? 'unset'}) in ${file} is missing: run \`npm run env:setup\``);
  return path;
}

function run(
  file: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: REPO, maxBuffer: 64 << 20, env: { ...process.env, ...extraEnv } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** helm with its cache, config and data directories inside the test environment's directory. */
async function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = join(env().dir, 'helm');
  mkdirSync(home, { recursive: true });
  return run(helmPath(), args, {
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  });
}

function objects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function find(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const hits = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(
    hits.length,
    1,
    `exactly one ${kind}${name ? ` ${name}` : ''} in ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`,
  );
  return hits[0] as K8sObject;
}

/** Server-side dry run of every object; fails on an error or on any warning (Pod Security included). */
async function dryRun(manifests: string): Promise<string> {
  const r = await kubectlResult(['apply', '--server-side', '--field-manager=install-test', '--dry-run=server', '-f', '-'], manifests);
  assert.equal(r.code, 0, `server-side dry run failed: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /warning/i, 'the apiserver warned about the manifests');
  return r.stdout;
}

function roleRules(): unknown[] {
  return (parse(readFileSync(join(REPO, 'config/rbac/role.yaml'), 'utf8')) as Rules).rules;
}

/** What the operator's pods must look like in both install methods. */
function assertDeployment(dep: Deployment, configMapName: string, serviceAccountName: string): void {
  assert.equal(dep.metadata.namespace, NAMESPACE);
  assert.equal(dep.spec.replicas, 2);
  const pod = dep.spec.template.spec;
  assert.equal(pod.serviceAccountName, serviceAccountName);
  assert.deepEqual(pod.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0] as Container;
  assert.equal(c.image, 'ghcr.io/irsa-dev/irsa-operator:0.1.0');
  assert.deepEqual(c.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65532,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  assert.deepEqual(c.resources, { requests: { cpu: '50m', memory: '96Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
  assert.deepEqual(
    c.ports?.map((p) => [p.name, p.containerPort]),
    [['http', 8080]],
  );
  assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
  assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
  assert.equal(c.env?.find((e) => e.name === 'IRSA_CONFIG')?.value, '/etc/irsa/config.yaml');
  const mount = c.volumeMounts?.find((m) => m.mountPath === '/etc/irsa');
  assert.ok(mount, 'the configuration is mounted at /etc/irsa');
  assert.equal(pod.volumes?.find((v) => v.name === mount.name)?.configMap?.name, configMapName);
}

function configYaml(cm: K8sObject): Record<string, unknown> {
  const data = cm.data as Record<string, string> | undefined;
  const text = data?.['config.yaml'];
  assert.ok(text, `ConfigMap ${cm.metadata.name} has config.yaml`);
  return parse(text) as Record<string, unknown>;
}

function assertMetricsService(objs: K8sObject[], dep: Deployment): void {
  const svc = objs.find((o) => o.kind === 'Service');
  assert.ok(svc, 'a metrics Service');
  const spec = svc.spec as { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
  assert.deepEqual(
    spec.ports.map((p) => [p.name, p.port, p.targetPort]),
    [['http-metrics', 8080, 'http']],
  );
  const podLabels = (dep.spec.template as unknown as { metadata: { labels: Record<string, string> } }).metadata.labels;
  for (const [k, v] of Object.entries(spec.selector)) assert.equal(podLabels[k], v, `the Service selects the operator's pods (${k})`);
}

function assertLeaderElection(objs: K8sObject[], serviceAccountName: string): void {
  const role = objs.find((o) => o.kind === 'Role');
  assert.ok(role, 'a leader-election Role');
  assert.equal(role.metadata.namespace, NAMESPACE);
  assert.deepEqual((role as unknown as Rules).rules[0], {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  });
  const binding = objs.find((o) => o.kind === 'RoleBinding');
  assert.ok(binding, 'a leader-election RoleBinding');
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: serviceAccountName, namespace: NAMESPACE }]);
  assert.equal((binding.roleRef as { name: string }).name, role.metadata.name);
}

before(async () => {
  // A server-side dry run does not create the Namespace, so the namespaced objects after it would
  // fail with "namespaces irsa-system not found": create it for real, from the kustomize render.
  const render = await kubectl(['kustomize', join(REPO, 'config/default')]);
  const ns = find(objects(render), 'Namespace', NAMESPACE);
  await kubectl(['apply', '--server-side', '--field-manager=install-test', '-f', '-'], JSON.stringify(ns));
});

describe('config/default (kustomize)', () => {
  it('renders, and the apiserver accepts every object (server-side dry run)', async () => {
    const render = await kubectl(['kustomize', join(REPO, 'config/default')]);
    const objs = objects(render);
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
      'ClusterRole/irsa-operator',
      'ClusterRole/irsa-operator-iamserviceaccount-editor-role',
      'ClusterRole/irsa-operator-iamserviceaccount-viewer-role',
      'ClusterRoleBinding/irsa-operator',
      'ConfigMap/irsa-operator-config',
      'CustomResourceDefinition/iamserviceaccounts.irsa.dev',
      'Deployment/irsa-operator',
      'Namespace/irsa-system',
      'Role/irsa-operator-leader-election',
      'RoleBinding/irsa-operator-leader-election',
      'Service/irsa-operator-metrics',
      'ServiceAccount/irsa-operator',
    ]);
    for (const o of objs) {
      if (!['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))
        assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind}/${o.metadata.name}`);
    }
    const out = await dryRun(render);
    assert.match(out, /deployment\.apps\/irsa-operator serverside-applied \(server dry run\)/);
  });

  it('has the operator Deployment, its configuration, the SA role annotation, and the CRD of crds/', async () => {
    const objs = objects(await kubectl(['kustomize', join(REPO, 'config/default')]));
    const dep = find(objs, 'Deployment', 'irsa-operator') as Deployment;
    assertDeployment(dep, 'irsa-operator-config', 'irsa-operator');
    assertMetricsService(objs, dep);
    assertLeaderElection(objs, 'irsa-operator');
    const config = configYaml(find(objs, 'ConfigMap', 'irsa-operator-config'));
    assert.deepEqual(config, {
      clusterName: 'my-cluster',
      region: 'us-east-1',
      leaderElection: true,
      leaderElectionNamespace: 'irsa-system',
    });
    assert.equal(parseConfig(config).httpPort, 8080, 'the operator accepts the configuration');
    assert.equal(find(objs, 'ServiceAccount', 'irsa-operator').metadata.annotations?.['eks.amazonaws.com/role-arn'], ROLE_ARN);
    assert.deepEqual((find(objs, 'ClusterRole', 'irsa-operator') as unknown as Rules).rules, roleRules());
    assert.deepEqual(find(objs, 'CustomResourceDefinition'), parse(readFileSync(join(REPO, CRD), 'utf8')));
  });
});

describe('charts/irsa-operator (Helm)', () => {
  const setArgs = ['--set', 'config.clusterName=prod', '--set', 'config.region=eu-west-1', '--set', `serviceAccount.roleArn=${ROLE_ARN}`];

  it('passes helm lint --strict', async () => {
    const r = await helm(['lint', '--strict', CHART, ...setArgs]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });

  it('renders, the apiserver accepts every object, and the objects are as documented', async () => {
    const r = await helm(['template', 'irsa', CHART, '--namespace', NAMESPACE, ...setArgs]);
    assert.equal(r.code, 0, r.stderr);
    const objs = objects(r.stdout);
    const out = await dryRun(r.stdout);
    assert.match(out, /deployment\.apps\/irsa-irsa-operator serverside-applied \(server dry run\)/);

    for (const o of objs) {
      if (!['ClusterRole', 'ClusterRoleBinding'].includes(o.kind))
        assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind}/${o.metadata.name} is in the release's namespace`);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'irsa', `${o.kind}/${o.metadata.name} has the release's labels`);
    }
    assert.equal(
      objs.filter((o) => o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition').length,
      0,
      'no Namespace, and the CRD only from crds/',
    );

    const dep = find(objs, 'Deployment') as Deployment;
    const sa = find(objs, 'ServiceAccount');
    const cm = find(objs, 'ConfigMap');
    assertDeployment(dep, cm.metadata.name, sa.metadata.name);
    assertMetricsService(objs, dep);
    assertLeaderElection(objs, sa.metadata.name);
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], ROLE_ARN);

    const config = configYaml(cm);
    assert.equal(config.clusterName, 'prod');
    assert.equal(config.region, 'eu-west-1');
    assert.equal(parseConfig(config).region, 'eu-west-1', 'the operator accepts the configuration');

    const binding = find(objs, 'ClusterRoleBinding');
    const clusterRole = find(objs, 'ClusterRole', (binding.roleRef as { name: string }).name);
    assert.deepEqual((clusterRole as unknown as Rules).rules, roleRules(), 'the chart ClusterRole rules equal config/rbac/role.yaml');
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: NAMESPACE }]);
  });

  it('a Pod Security "restricted" violation shows in the dry run (so the check above is live)', async () => {
    const r = await helm([
      'template',
      'irsa',
      CHART,
      '--namespace',
      NAMESPACE,
      ...setArgs,
      '--set',
      'securityContext.allowPrivilegeEscalation=true',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const dry = await kubectlResult(['apply', '--server-side', '--field-manager=install-test', '--dry-run=server', '-f', '-'], r.stdout);
    assert.match(dry.stderr, /would violate PodSecurity "restricted:[^"]*": allowPrivilegeEscalation != false/);
  });

  it('refuses to render without clusterName and region', async () => {
    const r = await helm(['template', 'irsa', CHART, '--namespace', NAMESPACE, '--set', 'config.region=eu-west-1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /config\.clusterName is required/);
  });

  it('leaves the ServiceAccount unannotated without roleArn, and passes further config fields through', async () => {
    const r = await helm([
      'template',
      'irsa',
      CHART,
      '--namespace',
      NAMESPACE,
      '--set',
      'config.clusterName=prod',
      '--set',
      'config.region=eu-west-1',
      '--set',
      'config.rolePrefix=k8s-',
      '--set',
      'config.httpPort=9090',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const objs = objects(r.stdout);
    assert.equal(find(objs, 'ServiceAccount').metadata.annotations, undefined);
    const config = parseConfig(configYaml(find(objs, 'ConfigMap')));
    assert.equal(config.rolePrefix, 'k8s-');
    assert.equal(config.httpPort, 9090);
    assert.deepEqual((find(objs, 'Deployment') as Deployment).spec.template.spec.containers[0]?.ports, [
      { name: 'http', containerPort: 9090, protocol: 'TCP' },
    ]);
  });
});

describe("people's ClusterRoles on IamServiceAccounts (kubebuilder's viewer and editor)", () => {
  const setArgs = ['--set', 'config.clusterName=prod', '--set', 'config.region=eu-west-1'];
  const AGGREGATE = 'rbac.authorization.k8s.io/aggregate-to-';
  /** The aggregate-to-* labels of the viewer and editor ClusterRoles among `objs`. */
  function aggregation(objs: K8sObject[]): { viewer: string[]; editor: string[] } {
    const labels = (suffix: string) => {
      const role = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith(suffix));
      assert.ok(role, `a ClusterRole named *${suffix}`);
      return Object.entries(role.metadata.labels ?? {})
        .filter(([k, v]) => k.startsWith(AGGREGATE) && v === 'true')
        .map(([k]) => k.slice(AGGREGATE.length))
        .sort();
    };
    return { viewer: labels('-iamserviceaccount-viewer-role'), editor: labels('-iamserviceaccount-editor-role') };
  }
  const chart = async (extra: string[]) => {
    const r = await helm(['template', 'irsa', CHART, '--namespace', NAMESPACE, ...setArgs, ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return objects(r.stdout);
  };
  /** config/default with kustomize components, from an overlay in the repository's git-ignored .cache. */
  const kustomizeWith = async (components: string[]) => {
    const dir = join(REPO, '.cache', `overlay-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        JSON.stringify({ resources: ['../../config/default'], components: components.map((c) => `../../config/rbac/${c}`) }),
      );
      return objects(await kubectl(['kustomize', dir]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('aggregate into view by default, into edit and admin only when asked (kustomize components, Helm values)', async () => {
    const none = { viewer: ['view'], editor: [] };
    assert.deepEqual(aggregation(objects(await kubectl(['kustomize', join(REPO, 'config/default')]))), none);
    assert.deepEqual(aggregation(await kustomizeWith(['aggregate-to-edit'])), { viewer: ['view'], editor: ['edit'] });
    assert.deepEqual(aggregation(await kustomizeWith(['aggregate-to-admin'])), { viewer: ['view'], editor: ['admin'] });
    assert.deepEqual(aggregation(await chart([])), none);
    assert.deepEqual(aggregation(await chart(['--set', 'rbac.aggregateToEdit=true'])), { viewer: ['view'], editor: ['edit'] });
    assert.deepEqual(aggregation(await chart(['--set', 'rbac.aggregateToAdmin=true'])), { viewer: ['view'], editor: ['admin'] });
    assert.deepEqual(aggregation(await chart(['--set', 'rbac.aggregateToView=false'])), { viewer: [], editor: [] });
  });

  it("the operator's own rules follow stalePods, the same in kustomize and Helm: pods list for report, workload patch only for restart", async () => {
    const operatorRules = (objs: K8sObject[]) =>
      (objs.find((o) => o.kind === 'ClusterRole' && !o.metadata.name.includes('-iamserviceaccount-')) as unknown as Rules).rules;
    const touches = (rules: Rules['rules'], resource: string) =>
      rules.some((r) => (r as { resources: string[] }).resources.includes(resource));
    const report = operatorRules(objects(await kubectl(['kustomize', join(REPO, 'config/default')])));
    const restart = operatorRules(await kustomizeWith(['pod-restarts']));
    assert.ok(touches(report, 'pods') && !touches(report, 'deployments'), 'report: pods list, no workload');
    assert.ok(touches(restart, 'deployments') && touches(restart, 'replicasets'), 'restart: workload patch');
    assert.deepEqual(operatorRules(await chart([])), report);
    assert.deepEqual(operatorRules(await chart(['--set', 'config.stalePods=report'])), report);
    assert.deepEqual(operatorRules(await chart(['--set', 'config.stalePods=restart'])), restart);
    const off = operatorRules(await chart(['--set', 'config.stalePods=off']));
    assert.ok(!touches(off, 'pods') && !touches(off, 'deployments'), 'off: neither');
  });

  it('have the same rules in config/rbac and the chart', async () => {
    const rules = (objs: K8sObject[], suffix: string) =>
      (objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith(suffix)) as unknown as Rules | undefined)?.rules;
    const kustomized = objects(await kubectl(['kustomize', join(REPO, 'config/default')]));
    const charted = await chart([]);
    for (const suffix of ['-iamserviceaccount-viewer-role', '-iamserviceaccount-editor-role'])
      assert.deepEqual(rules(charted, suffix), rules(kustomized, suffix), suffix);
  });

  it('grant what they say: the viewer reads, the editor creates, neither touches anything else', async () => {
    // The apiserver answers for the rules; the aggregation itself is kube-controller-manager's,
    // which the test environment does not run.
    const objs = objects(await kubectl(['kustomize', join(REPO, 'config/default')])).filter(
      (o) => o.kind === 'ClusterRole' && o.metadata.name.includes('-iamserviceaccount-'),
    );
    await kubectl(
      ['apply', '--server-side', '--field-manager=install-test', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }),
    );
    const ns = `rbac-${process.pid}`;
    await kubectl(['create', 'namespace', ns]);
    await kubectl([
      'create',
      'rolebinding',
      '-n',
      ns,
      'viewer',
      '--clusterrole=irsa-operator-iamserviceaccount-viewer-role',
      '--user=tenant-viewer',
    ]);
    await kubectl([
      'create',
      'rolebinding',
      '-n',
      ns,
      'editor',
      '--clusterrole=irsa-operator-iamserviceaccount-editor-role',
      '--user=tenant-editor',
    ]);
    const can = async (user: string, verb: string, resource: string, ...flags: string[]) =>
      (await kubectlResult(['auth', 'can-i', verb, resource, '-n', ns, `--as=${user}`, ...flags])).stdout.trim();
    assert.equal(await can('tenant-viewer', 'list', 'iamserviceaccounts.irsa.dev'), 'yes');
    assert.equal(await can('tenant-viewer', 'create', 'iamserviceaccounts.irsa.dev'), 'no');
    assert.equal(await can('tenant-editor', 'create', 'iamserviceaccounts.irsa.dev'), 'yes');
    assert.equal(await can('tenant-editor', 'delete', 'iamserviceaccounts.irsa.dev'), 'yes');
    assert.equal(await can('tenant-editor', 'get', 'iamserviceaccounts.irsa.dev', '--subresource=status'), 'yes');
    assert.equal(
      await can('tenant-editor', 'patch', 'iamserviceaccounts.irsa.dev', '--subresource=status'),
      'no',
      "status is the operator's",
    );
    assert.equal(await can('tenant-editor', 'create', 'serviceaccounts'), 'no');
  });
});

describe('copies that must not drift', () => {
  it('the CRD the harness applied from crds/ with kubectl keeps the policy Versions as strings', async () => {
    // What config/crd's patch restores after kustomize (see config/crd/kustomization.yaml).
    const crd = JSON.parse(await kubectl(['get', 'crd', 'iamserviceaccounts.irsa.dev', '-o', 'json'])) as K8sObject;
    const spec = crd.spec as {
      versions: {
        schema: {
          openAPIV3Schema: { properties: { spec: { properties: { attachPolicy: { properties: { Version: { enum: string[] } } } } } } };
        };
      }[];
    };
    assert.deepEqual(spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.attachPolicy.properties.Version.enum, [
      '2012-10-17',
      '2008-10-17',
    ]);
  });

  for (const copy of ['charts/irsa-operator/crds/irsa.dev_iamserviceaccounts.yaml', 'config/crd/bases/irsa.dev_iamserviceaccounts.yaml']) {
    it(`${copy} is byte-identical to ${CRD}`, () => {
      assert.ok(
        readFileSync(join(REPO, copy)).equals(readFileSync(join(REPO, CRD))),
        `${copy} differs from ${CRD}: after \`npm run gen:crd\`, cp ${CRD} ${copy}`,
      );
    });
  }
});
