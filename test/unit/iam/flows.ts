// The operator's real code (resolveIdentity, RolePart over IamRoles) run against FakeAws in the
// configuration config/iam/README.md assumes: rolePath /irsa/ and a forced permissions boundary.
// Each flow is one thing the operator does in production; what it sends is recorded.
import type { IamServiceAccount, IamServiceAccountSpec } from '../../../src/api/types.ts';
import { readFileSync } from 'node:fs';
import { assumedRoleCredentials } from '../../../src/aws/accounts.ts';
import { WriteBudget } from '../../../src/aws/budget.ts';
import type { CallOptions } from '../../../src/aws/call.ts';
import { EksAssociations } from '../../../src/aws/eks-associations.ts';
import { IamRoles } from '../../../src/aws/iam.ts';
import { IamSweep } from '../../../src/aws/sweep.ts';
import { resolveIdentity } from '../../../src/aws/identity.ts';
import { parseConfig, roleDefaults, type OperatorConfig } from '../../../src/config.ts';
import { Admission } from '../../../src/controller/admission.ts';
import { AssociationPart } from '../../../src/controller/association.ts';
import { EventRecorder } from '../../../src/controller/events.ts';
import { syncPart, type Pass } from '../../../src/controller/part.ts';
import { DriftSweep } from '../../../src/controller/drift.ts';
import { Providers } from '../../../src/controller/providers.ts';
import { RolePart } from '../../../src/controller/role.ts';
import { makeLogger } from '../../../src/log.ts';
import { desiredState, ownerTags, type ClusterIdentity, type DesiredRole } from '../../../src/policy/desired.ts';
import { defaultAudience, STS_AUDIENCE } from '../../../src/policy/audience.ts';
import { providerTags } from '../../../src/policy/provider.ts';
import { buildTrustPolicy } from '../../../src/policy/trust.ts';
import { FakeAws, type FakeAccount, type FakeAssociation, type FakeRole, type SentRequest } from './fake-aws.ts';

export const PARTITION = 'aws';
export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';
export const CLUSTER = 'prod';
export const BOUNDARY = `arn:${PARTITION}:iam::${ACCOUNT}:policy/irsa-boundary`;
/** The operator runs as an IRSA role itself. */
export const OPERATOR_PRINCIPAL = `arn:${PARTITION}:sts::${ACCOUNT}:assumed-role/irsa-operator/irsa-operator-session`;
/** The cluster's issuer as IAM names its provider. */
export const ISSUER_HOST_PATH = `oidc.eks.${REGION}.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE`;
const ISSUER = `https://${ISSUER_HOST_PATH}`;
const OIDC_PROVIDER = `arn:${PARTITION}:iam::${ACCOUNT}:oidc-provider/${ISSUER_HOST_PATH}`;
/** An account the operator writes roles to besides its own, and the role it assumes there. */
export const TARGET_ACCOUNT = '444455556666';
export const TARGET_ROLE = `arn:${PARTITION}:iam::${TARGET_ACCOUNT}:role/irsa-operator-target`;
/** The operator's own role (OPERATOR_PRINCIPAL is a session of it). */
const OPERATOR_ROLE = `arn:${PARTITION}:iam::${ACCOUNT}:role/irsa-operator`;
export const EXTERNAL_ID = 'prod-irsa';
/** config/iam/target-account-trust.json as the target account's role has it. */
export const TARGET_TRUST: unknown = JSON.parse(
  readFileSync(new URL('../../../config/iam/target-account-trust.json', import.meta.url), 'utf8')
    .replaceAll('OPERATOR_ROLE_ARN', OPERATOR_ROLE)
    .replaceAll('EXTERNAL_ID', EXTERNAL_ID),
);
/** The thumbprint the flows' issuer presents (manageOidcProvider). */
const THUMBPRINT = 'a'.repeat(40);
const CUSTOMER_POLICY = `arn:${PARTITION}:iam::${ACCOUNT}:policy/team-a/orders-read`;
const READ_ORDERS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::orders/*' }] };

/** accountId and oidcIssuer unset: the operator asks STS and EKS, as on EKS by default. */
export const POLICY_CONFIG: OperatorConfig = parseConfig({
  clusterName: CLUSTER,
  region: REGION,
  rolePath: '/irsa/',
  permissionsBoundary: BOUNDARY,
  accounts: { [TARGET_ACCOUNT]: { roleArn: TARGET_ROLE, externalId: EXTERNAL_ID, allowedNamespaces: ['team-*'] } },
});

const CALL_OPTIONS: CallOptions = { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1 };

function iamsa(namespace: string, name: string, spec: IamServiceAccountSpec): IamServiceAccount {
  return { apiVersion: 'irsa.dev/v1alpha1', kind: 'IamServiceAccount', metadata: { namespace, name, generation: 1 }, spec };
}

/** examples/inline-policy.yaml's shape: managed (customer and AWS) and inline policies, tags. */
export const S3_READER = iamsa('team-a', 's3-reader', {
  attachPolicyARNs: [CUSTOMER_POLICY, `arn:${PARTITION}:iam::aws:policy/AmazonS3ReadOnlyAccess`],
  attachPolicy: READ_ORDERS,
  tags: { team: 'a' },
});
/** A role below the forced path (spec.rolePath) with a chosen name and a well-known policy. */
const REPORTS = iamsa('team-b', 'reports', {
  roleName: 'team-b-reports',
  rolePath: '/team-b/',
  wellKnownPolicies: { certManager: true },
  tags: { 'cost-center': '4711' },
});
/** attachRoleARN: an existing role, only its trust is read. */
const LEGACY = iamsa('team-c', 'legacy', { attachRoleARN: `arn:${PARTITION}:iam::${ACCOUNT}:role/platform/legacy-app` });

/** identity PodIdentity: the pods.eks trust and an EKS Pod Identity association. */
export const POD_APP = iamsa('team-d', 'pod-app', { identity: 'PodIdentity', attachPolicyARNs: [CUSTOMER_POLICY] });

function account(roles: FakeRole[], oidcProviders = [OIDC_PROVIDER], associations: FakeAssociation[] = []): FakeAccount {
  return {
    associations,
    partition: PARTITION,
    account: ACCOUNT,
    region: REGION,
    issuer: ISSUER,
    roles,
    policies: {
      [CUSTOMER_POLICY]: encodeURIComponent(JSON.stringify(READ_ORDERS)),
      [`arn:${PARTITION}:iam::aws:policy/AmazonS3ReadOnlyAccess`]: encodeURIComponent(
        JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 's3:List*'], Resource: '*' }] }),
      ),
    },
    oidcProviders,
    trusts: { [TARGET_ROLE]: TARGET_TRUST },
  };
}

/** The identity every flow's operator resolved at start-up (its own requests are the start-up flow's). */
export const IDENTITY: ClusterIdentity = await (() => {
  const aws = new FakeAws(account([]));
  return resolveIdentity(POLICY_CONFIG, { sts: aws.sts(), eks: aws.eks() }, CALL_OPTIONS);
})();

/** The identity with the cluster's ARN, as the operator reads it for objects that use Pod Identity. */
const POD_IDENTITY: ClusterIdentity = { ...IDENTITY, clusterArn: `arn:${PARTITION}:eks:${REGION}:${ACCOUNT}:cluster/${CLUSTER}` };

export function desiredRole(obj: IamServiceAccount, config: OperatorConfig = POLICY_CONFIG): DesiredRole {
  const result = desiredState(obj, POD_IDENTITY, roleDefaults(config));
  if (!result.ok || result.desired.mode !== 'managed') throw new Error(`${obj.metadata.name} does not describe a managed role`);
  return result.desired.role;
}

/** A role as IAM would hold it after the operator created it for `desired`. */
export function roleAsCreated(desired: DesiredRole): FakeRole {
  return {
    name: desired.name,
    path: desired.path,
    description: desired.description,
    maxSessionDuration: desired.maxSessionDuration,
    boundary: desired.permissionsBoundary,
    trust: encodeURIComponent(JSON.stringify(desired.trustPolicy)),
    tags: { ...desired.tags },
    managed: [...desired.managedPolicyArns],
    inline: Object.fromEntries(Object.entries(desired.inlinePolicies).map(([k, v]) => [k, encodeURIComponent(JSON.stringify(v))])),
    tagsInGetRole: true,
  };
}

export interface OperatorOptions {
  config?: OperatorConfig;
  adoptExistingRoles?: boolean;
  /** manageOidcProvider: the operator creates and keeps the provider. */
  manageOidcProvider?: boolean;
}

/** One operator process: its provider check and RolePart wired as src/operator.ts wires them, over FakeAws. */
export function operator(aws: FakeAws, opts: OperatorOptions = {}) {
  const config = opts.config ?? POLICY_CONFIG;
  const roles = new IamRoles(aws.iam(), CALL_OPTIONS, new WriteBudget(0));
  const admission = new Admission({
    policy: config,
    // Nothing denied: the flows attach policies to see the reads they cost, not to be refused.
    denied: [],
    kube: { getNamespaceAnnotations: () => Promise.resolve({}) },
    cache: { objectsInNamespace: () => [] },
    now: Date.now,
  });
  const part = new RolePart({
    rolesIn: () => roles,
    admission,
    events: new EventRecorder({ createEvent: () => Promise.resolve() }, () => new Date()),
    identity: () => Promise.resolve(IDENTITY),
    roleDefaults: roleDefaults(config),
    adoptExistingRoles: opts.adoptExistingRoles ?? false,
    driftPeriodMs: 600_000,
    now: Date.now,
  });
  const manage = { cluster: CLUSTER, thumbprint: () => Promise.resolve(THUMBPRINT) };
  const providers = new Providers(600_000, Date.now, opts.manageOidcProvider ? manage : undefined);
  const associations = new EksAssociations(aws.eks(), CALL_OPTIONS, new WriteBudget(0));
  const association = new AssociationPart({ associations, driftPeriodMs: 600_000, now: Date.now });
  const pass = (obj: IamServiceAccount): Pass => ({
    key: `${obj.metadata.namespace}/${obj.metadata.name}`,
    obj,
    log: makeLogger('error', true),
    done: [],
  });
  return {
    /** One reconcile of the role part: observe, decide, apply. */
    sync: async (obj: IamServiceAccount): Promise<void> => {
      const clientIds = await providers.clientIds(
        IDENTITY.oidcProviderArn,
        roles,
        obj.spec.audience ?? config.defaultAudience ?? STS_AUDIENCE,
      );
      const audience = defaultAudience(config.defaultAudience, clientIds);
      const desiredFor = (spec: IamServiceAccountSpec) => desiredState({ ...obj, spec }, IDENTITY, roleDefaults(config), audience);
      const wanted = desiredFor(obj.spec);
      if (!wanted.ok) throw new Error(`${obj.metadata.name}: ${wanted.problem.message}`);
      if (providers.manages) await providers.admit(IDENTITY.oidcProviderArn, roles, wanted.desired.trust.audience);
      await syncPart(part, pass(obj), { desired: wanted.desired, identity: IDENTITY, desiredFor, roles });
    },
    /** The object is deleted with deletionPolicy Delete. */
    release: (obj: IamServiceAccount): Promise<void> => part.release(pass(obj)),
    /** One reconcile of the role and association parts of an object that uses Pod Identity, as the reconciler runs them. */
    syncPodIdentity: async (obj: IamServiceAccount): Promise<void> => {
      const clusterArn = await associations.clusterArn(CLUSTER);
      const identity = { ...IDENTITY, clusterArn };
      const desiredFor = (spec: IamServiceAccountSpec) => desiredState({ ...obj, spec }, identity, roleDefaults(config));
      const wanted = desiredFor(obj.spec);
      if (!wanted.ok) throw new Error(`${obj.metadata.name}: ${wanted.problem.message}`);
      await syncPart(part, pass(obj), { desired: wanted.desired, identity, desiredFor, roles });
      const { namespace, name } = obj.metadata;
      const want = {
        desired: wanted.desired.association,
        cluster: CLUSTER,
        namespace,
        serviceAccount: name,
        knownId: obj.status?.podIdentityAssociationID,
      };
      await syncPart(association, pass(obj), want);
    },
    /** The association goes with its object (deletionPolicy Delete). */
    releaseAssociation: (obj: IamServiceAccount): Promise<void> =>
      association.release(pass(obj), { cluster: CLUSTER, serviceAccount: obj.metadata.name }),
  };
}

export interface Flow {
  name: string;
  /** The roles IAM holds before the flow. */
  roles: () => FakeRole[];
  /** The account has no OIDC provider for the cluster before the flow (manageOidcProvider creates it). */
  noProvider?: boolean;
  /** The EKS Pod Identity associations of the cluster before the flow. */
  associations?: () => FakeAssociation[];
  run: (aws: FakeAws) => Promise<void>;
}

/** Runs a flow against a fresh account; returns what the code sent. */
export async function record(flow: Flow): Promise<SentRequest[]> {
  const aws = new FakeAws(account(flow.roles(), flow.noProvider ? [] : [OIDC_PROVIDER], flow.associations?.() ?? []));
  await flow.run(aws);
  return aws.sent;
}

/** An object whose audience the provider does not list yet. */
const VAULT_AUDIENCE = iamsa('team-a', 'vault-reader', { attachPolicy: READ_ORDERS, audience: 'vault' });

/** S3_READER's role as changed by hand: every field the operator repairs differs. */
function driftedS3Reader(): FakeRole {
  const created = roleAsCreated(desiredRole(S3_READER));
  const otherSubject = buildTrustPolicy({
    ...IDENTITY,
    namespace: 'team-z',
    serviceAccountName: 'intruder',
    audience: 'sts.amazonaws.com',
  });
  return {
    ...created,
    description: 'edited in the console',
    maxSessionDuration: 43200,
    boundary: `arn:${PARTITION}:iam::${ACCOUNT}:policy/old-boundary`,
    trust: encodeURIComponent(JSON.stringify(otherSubject)),
    tags: { ...created.tags, team: 'edited', 'added-by-hand': 'yes' },
    managed: [`arn:${PARTITION}:iam::aws:policy/AmazonSQSFullAccess`],
    inline: { 'added-by-hand': encodeURIComponent(JSON.stringify(READ_ORDERS)) },
    tagsInGetRole: false,
  };
}

/** POD_APP's association as the operator made it. */
export const POD_APP_ASSOCIATION: FakeAssociation = {
  id: 'a-00000000000000001',
  cluster: CLUSTER,
  namespace: POD_APP.metadata.namespace,
  serviceAccount: POD_APP.metadata.name,
  roleArn: desiredRole(POD_APP).arn,
  tags: ownerTags(CLUSTER, POD_APP.metadata.namespace, POD_APP.metadata.name),
};

/** The flows that must be allowed: everything the operator does in the policy's configuration. */
export const FLOWS: Flow[] = [
  {
    name: 'start-up: account from STS, issuer from EKS',
    roles: () => [],
    run: async (aws) => {
      await resolveIdentity(POLICY_CONFIG, { sts: aws.sts(), eks: aws.eks() }, CALL_OPTIONS);
    },
  },
  {
    name: 'create: a new object with managed and inline policies and tags',
    roles: () => [],
    run: (aws) => operator(aws).sync(S3_READER),
  },
  {
    name: 'create: a chosen name below the forced path (rolePath /team-b/) with a well-known policy',
    roles: () => [],
    run: (aws) => operator(aws).sync(REPORTS),
  },
  {
    name: 'repair: a role edited by hand (trust, settings, boundary, tags, policies)',
    roles: () => [driftedS3Reader()],
    // An object that synced before (its status names the role): the pass reads the role.
    run: (aws) => operator(aws).sync({ ...S3_READER, status: { roleName: desiredRole(S3_READER).name } }),
  },
  {
    name: "attachRoleARN: read an existing role's trust",
    roles: () => [
      {
        ...roleAsCreated(desiredRole(S3_READER)),
        name: 'legacy-app',
        path: '/platform/',
        tags: {},
        boundary: undefined,
        trust: encodeURIComponent(
          JSON.stringify(
            buildTrustPolicy({ ...IDENTITY, namespace: 'team-c', serviceAccountName: 'legacy', audience: 'sts.amazonaws.com' }),
          ),
        ),
      },
    ],
    run: (aws) => operator(aws).sync(LEGACY),
  },
  {
    name: 'drift sweep: every role of the account in a few paged calls, and the attached policies',
    roles: () => [driftedS3Reader(), roleAsCreated(desiredRole(REPORTS))],
    run: async (aws) => {
      const iamClient = aws.iam();
      const drift = new DriftSweep({
        sweep: new IamSweep(iamClient, CALL_OPTIONS),
        roles: new IamRoles(iamClient, CALL_OPTIONS, new WriteBudget(0)),
        budget: new WriteBudget(0),
      });
      const ctx = { identity: IDENTITY, defaults: roleDefaults(POLICY_CONFIG), audience: 'sts.amazonaws.com' };
      const found = await drift.run([S3_READER, REPORTS, LEGACY], ctx, POLICY_CONFIG.rolePath);
      if (!found.drifted.includes('team-a/s3-reader')) throw new Error('the sweep missed the role edited by hand');
    },
  },
  {
    name: "manageOidcProvider: the cluster's provider created, tagged as the operator's",
    roles: () => [],
    noProvider: true,
    run: (aws) => operator(aws, { manageOidcProvider: true }).sync(S3_READER),
  },
  {
    name: 'manageOidcProvider: its own provider gets an audience in use and the thumbprint of a changed chain',
    roles: () => [],
    run: async (aws) => {
      aws.addProvider(OIDC_PROVIDER, { clientIds: ['sts.amazonaws.com'], thumbprints: ['b'.repeat(40)], tags: providerTags(CLUSTER) });
      await operator(aws, { manageOidcProvider: true }).sync(VAULT_AUDIENCE);
    },
  },
  {
    name: 'accounts: credentials of the configured role in a target account (sts:AssumeRole with its external ID)',
    roles: () => [],
    run: async (aws) => {
      const entry = POLICY_CONFIG.accounts[TARGET_ACCOUNT];
      if (!entry) throw new Error('no target account configured');
      await assumedRoleCredentials(POLICY_CONFIG, TARGET_ACCOUNT, entry, [aws.plugin('sts')])();
    },
  },
  {
    name: 'pod identity: a role with the pods.eks trust, and its association',
    roles: () => [],
    run: (aws) => operator(aws).syncPodIdentity(POD_APP),
  },
  {
    name: 'pod identity: repair an association given another role by hand',
    roles: () => [roleAsCreated(desiredRole(POD_APP))],
    associations: () => [{ ...POD_APP_ASSOCIATION, roleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/irsa/elsewhere` }],
    run: (aws) => operator(aws).syncPodIdentity(POD_APP),
  },
  {
    name: 'pod identity: the association goes with its object (deletionPolicy Delete)',
    roles: () => [roleAsCreated(desiredRole(POD_APP))],
    associations: () => [POD_APP_ASSOCIATION],
    run: (aws) => operator(aws).releaseAssociation({ ...POD_APP, status: { podIdentityAssociationID: POD_APP_ASSOCIATION.id } }),
  },
  {
    name: 'delete: the object goes with deletionPolicy Delete',
    roles: () => [roleAsCreated(desiredRole(S3_READER))],
    run: (aws) => operator(aws).release(S3_READER),
  },
];

/**
 * What the operator's code would send outside the policy's configuration: each write here must
 * be refused. adoptExistingRoles tags a role it did not create.
 */
export const REFUSED_FLOWS: Flow[] = [
  {
    name: 'adoptExistingRoles: true takes over an untagged role under /irsa/',
    roles: () => [{ ...roleAsCreated(desiredRole(S3_READER)), tags: {}, description: 'made by another team' }],
    run: (aws) => operator(aws, { adoptExistingRoles: true }).sync(S3_READER),
  },
];

/** The ownership tags the operator puts on every role of this cluster. */
export const OWNED_TAGS = ownerTags(CLUSTER, S3_READER.metadata.namespace, S3_READER.metadata.name);
