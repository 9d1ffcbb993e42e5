// The bad-input corpus: malformed and hostile IamServiceAccounts, each with what must answer it —
// the API server at apply time (`apply`: kubectl fails with stderr matching) or the operator
// (`reason`: Ready=False with that reason). Shared by badinput.test.ts (the operator and the API
// server) and test/e2e/cli.test.ts (irsa validate must reject every `apply` case offline).

export const HEALTHY_NS = 'healthy-1';
export const BAD_NS = 'bad-1';
export const HEALTHY = ['app-a', 'app-b', 'app-c'];
export const PREFIX = 'tenant-';
export const healthyRole = (name: string) => `${PREFIX}local.${HEALTHY_NS}.${name}`;
/** Other clusters the operator under test may trust (allowedIssuers); IAM has no provider for any. */
export const ALLOWED_ISSUERS = Array.from({ length: 7 }, (_, i) => `https://oidc.eks.us-west-2.amazonaws.com/id/${String(i).repeat(32)}`);
const [TRUSTED = ''] = ALLOWED_ISSUERS;

export type Spec = Record<string, unknown>;
export interface Case {
  name: string;
  /** The object (spec, or a whole raw document for malformed YAML). */
  spec?: Spec;
  raw?: string;
  namespace?: string;
  /** apply: kubectl must fail with stderr matching; reason: the operator must answer Ready=False with it (and the message). */
  want: { apply: RegExp } | { reason: string; message?: RegExp };
}

export const admin = 'arn:aws:iam::aws:policy/AdministratorAccess';
/** An account the operator is configured for, open to the healthy namespaces only (badinput.test.ts). */
export const OPEN_ACCOUNT = '210987654321';
export const stmt = (extra: Record<string, unknown>) => ({
  attachPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*', ...extra }] },
});

export const cases: Case[] = [
  // Rejected by the CRD schema and CEL rules at apply time.
  { name: 'maxSessionDuration as a string', spec: { maxSessionDuration: 'one hour' }, want: { apply: /spec\.maxSessionDuration/ } },
  { name: 'maxSessionDuration under an hour', spec: { maxSessionDuration: 60 }, want: { apply: /spec\.maxSessionDuration/ } },
  { name: 'maxSessionDuration over 12 hours', spec: { maxSessionDuration: 43201 }, want: { apply: /spec\.maxSessionDuration/ } },
  { name: 'tokenExpiration under 600', spec: { tokenExpiration: 599 }, want: { apply: /spec\.tokenExpiration/ } },
  { name: 'role name of 65 characters', spec: { roleName: `${PREFIX}${'r'.repeat(58)}` }, want: { apply: /spec\.roleName/ } },
  { name: 'role name with a space', spec: { roleName: `${PREFIX}my role` }, want: { apply: /spec\.roleName/ } },
  { name: 'role name with a unicode letter (rôle)', spec: { roleName: `${PREFIX}rôle` }, want: { apply: /spec\.roleName/ } },
  { name: 'role path without slashes', spec: { rolePath: 'irsa' }, want: { apply: /spec\.rolePath/ } },
  {
    name: 'a managed policy that is not an ARN',
    spec: { attachPolicyARNs: ['AmazonS3ReadOnlyAccess'] },
    want: { apply: /spec\.attachPolicyARNs\[0\]/ },
  },
  {
    name: '11 managed policies',
    spec: { attachPolicyARNs: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) },
    want: { apply: /spec\.attachPolicyARNs/ },
  },
  {
    name: 'a managed policy listed twice',
    spec: { attachPolicyARNs: ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/A'] },
    want: { apply: /Duplicate value/ },
  },
  { name: 'deletionPolicy Orphan', spec: { deletionPolicy: 'Orphan' }, want: { apply: /spec\.deletionPolicy/ } },
  { name: 'an unknown well-known policy', spec: { wellKnownPolicies: { superUser: true } }, want: { apply: /superUser/ } },
  { name: 'roleOnly as a string', spec: { roleOnly: 'yes' }, want: { apply: /spec\.roleOnly/ } },
  { name: 'an unknown field (typo)', spec: { rolename: 'x' }, want: { apply: /unknown field "spec\.rolename"/ } },
  {
    name: 'attachRoleARN with managed policies',
    spec: { attachRoleARN: 'arn:aws:iam::123456789012:role/r', attachPolicyARNs: ['arn:aws:iam::aws:policy/A'] },
    want: { apply: /attachRoleARN uses an existing role/ },
  },
  {
    name: 'roleOnly with a ServiceAccount',
    spec: { roleOnly: true, serviceAccount: { name: 'x' } },
    want: { apply: /roleOnly never touches a ServiceAccount/ },
  },
  { name: 'identity not one of IRSA, PodIdentity, Both', spec: { identity: 'Kiam' }, want: { apply: /spec\.identity/ } },
  { name: 'identity in the wrong case', spec: { identity: 'podidentity' }, want: { apply: /spec\.identity/ } },
  { name: 'identity as a list', spec: { identity: ['IRSA', 'PodIdentity'] }, want: { apply: /spec\.identity/ } },
  {
    name: 'podIdentity without identity',
    spec: { podIdentity: { disableSessionTags: true } },
    want: { apply: /podIdentity configures the EKS Pod Identity association/ },
  },
  {
    name: 'podIdentity with identity IRSA',
    spec: { identity: 'IRSA', podIdentity: {} },
    want: { apply: /podIdentity configures the EKS Pod Identity association/ },
  },
  {
    name: 'podIdentity.targetRoleARN that is not a role ARN',
    spec: { identity: 'PodIdentity', podIdentity: { targetRoleARN: 'arn:aws:iam::123456789012:user/alice' } },
    want: { apply: /spec\.podIdentity\.targetRoleARN/ },
  },
  {
    name: 'podIdentity.disableSessionTags as a string',
    spec: { identity: 'PodIdentity', podIdentity: { disableSessionTags: 'yes' } },
    want: { apply: /spec\.podIdentity\.disableSessionTags/ },
  },
  {
    name: 'an unknown field in podIdentity',
    spec: { identity: 'PodIdentity', podIdentity: { roleArn: 'arn:aws:iam::123456789012:role/r' } },
    want: { apply: /unknown field "spec\.podIdentity\.roleArn"/ },
  },
  {
    name: 'identity PodIdentity with attachRoleARN',
    spec: { identity: 'PodIdentity', attachRoleARN: 'arn:aws:iam::123456789012:role/r' },
    want: { apply: /identity PodIdentity and Both need a role the operator manages/ },
  },
  {
    name: 'identity Both with roleOnly',
    spec: { identity: 'Both', roleOnly: true },
    want: { apply: /identity PodIdentity and Both need a role the operator manages/ },
  },
  {
    name: 'inline policy without Statement',
    spec: { attachPolicy: { Version: '2012-10-17' } },
    want: { apply: /spec\.attachPolicy\.Statement/ },
  },
  {
    name: 'inline policy with an unknown Version',
    spec: { attachPolicy: { Version: '2020-01-01', Statement: [] } },
    want: { apply: /spec\.attachPolicy\.Version/ },
  },
  {
    name: 'ServiceAccount name in capitals',
    spec: { serviceAccount: { name: 'Not_Valid' } },
    want: { apply: /spec\.serviceAccount\.name/ },
  },
  {
    name: 'ServiceAccount name with a Cyrillic homoglyph',
    spec: { serviceAccount: { name: 'аpp-a' } },
    want: { apply: /spec\.serviceAccount\.name/ },
  },
  {
    name: 'a role ARN as permissions boundary',
    spec: { permissionsBoundary: 'arn:aws:iam::123456789012:role/r' },
    want: { apply: /spec\.permissionsBoundary/ },
  },
  { name: 'audience with a space', spec: { audience: 'sts amazonaws' }, want: { apply: /spec\.audience/ } },
  {
    name: 'audience long enough to push the trust policy past 2,048 characters',
    spec: { audience: 'a'.repeat(2049) },
    want: { apply: /spec\.audience/ },
  },
  {
    name: '41 tags',
    spec: { tags: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`k${i}`, 'v'])) },
    want: { apply: /spec\.tags/ },
  },
  { name: 'a tag value of 257 characters', spec: { tags: { k: 'v'.repeat(257) } }, want: { apply: /spec\.tags/ } },
  // spec.additionalClusters: other clusters whose ServiceAccounts the trust admits.
  {
    name: 'an additional cluster over http',
    spec: { additionalClusters: [{ issuer: TRUSTED.replace('https:', 'http:') }] },
    want: { apply: /spec\.additionalClusters\[0\]\.issuer/ },
  },
  {
    name: 'an additional cluster issuer with wildcards (every EKS cluster)',
    spec: { additionalClusters: [{ issuer: 'https://oidc.eks.*.amazonaws.com/id/*' }] },
    want: { apply: /spec\.additionalClusters\[0\]\.issuer/ },
  },
  {
    name: 'an additional cluster issuer with a trailing slash',
    spec: { additionalClusters: [{ issuer: `${TRUSTED}/` }] },
    want: { apply: /spec\.additionalClusters\[0\]\.issuer/ },
  },
  {
    name: 'an additional cluster without an issuer',
    spec: { additionalClusters: [{ namespace: BAD_NS }] },
    want: { apply: /spec\.additionalClusters\[0\]\.issuer/ },
  },
  {
    name: 'an additional cluster namespace reaching past a colon',
    spec: { additionalClusters: [{ issuer: TRUSTED, namespace: 'kube-system:default' }] },
    want: { apply: /spec\.additionalClusters\[0\]\.namespace/ },
  },
  {
    name: 'an additional cluster ServiceAccount that is a wildcard',
    spec: { additionalClusters: [{ issuer: TRUSTED, serviceAccount: '*' }] },
    want: { apply: /spec\.additionalClusters\[0\]\.serviceAccount/ },
  },
  {
    name: '33 additional clusters',
    spec: { additionalClusters: Array.from({ length: 33 }, (_, i) => ({ issuer: `https://c${i}.example.com` })) },
    want: { apply: /spec\.additionalClusters/ },
  },
  {
    name: 'an unknown field in an additional cluster',
    spec: { additionalClusters: [{ issuer: TRUSTED, subjectPattern: '*' }] },
    want: { apply: /unknown field "spec\.additionalClusters\[0\]\.subjectPattern"/ },
  },
  {
    name: 'attachRoleARN with additionalClusters',
    spec: { attachRoleARN: 'arn:aws:iam::123456789012:role/r', additionalClusters: [{ issuer: TRUSTED }] },
    want: { apply: /its trust is not written/ },
  },
  // spec.subjectPattern: every way out of the namespace.
  ...['*:*', '?', 'ci-?', '..', ':', 'kube-system:*', '*:kube-system:*', '../kube-system/*', '${aws:username}', 'CI-*'].map(
    (pattern): Case => ({ name: `subjectPattern ${pattern}`, spec: { subjectPattern: pattern }, want: { apply: /spec\.subjectPattern/ } }),
  ),
  {
    name: 'attachRoleARN with a subjectPattern',
    spec: { attachRoleARN: 'arn:aws:iam::123456789012:role/r', subjectPattern: '*' },
    want: { apply: /its trust is not written/ },
  },
  {
    name: 'no spec at all',
    raw: 'apiVersion: irsa.dev/v1alpha1\nkind: IamServiceAccount\nmetadata:\n  name: bad-nospec\n',
    want: { apply: /spec: Required value/ },
  },
  {
    name: 'spec that is a string',
    raw: 'apiVersion: irsa.dev/v1alpha1\nkind: IamServiceAccount\nmetadata:\n  name: bad-string\nspec: hello\n',
    want: { apply: /spec/ },
  },
  { name: 'YAML that is not an object', raw: '- just\n- a list\n', want: { apply: /error|cannot|invalid/i } },
  {
    name: 'an object name in capitals',
    raw: 'apiVersion: irsa.dev/v1alpha1\nkind: IamServiceAccount\nmetadata:\n  name: Bad-Name\nspec: {}\n',
    want: { apply: /metadata\.name|RFC 1123/ },
  },

  // Accepted by the API server, refused by the operator before any AWS write.
  { name: 'AdministratorAccess', spec: { attachPolicyARNs: [admin] }, want: { reason: 'PolicyDenied' } },
  { name: 'IAMFullAccess', spec: { attachPolicyARNs: ['arn:aws:iam::aws:policy/IAMFullAccess'] }, want: { reason: 'PolicyDenied' } },
  {
    name: 'a customer policy granting iam:*',
    spec: { attachPolicyARNs: ['arn:aws:iam::123456789012:policy/escalate'] },
    want: { reason: 'PolicyGrantsDeniedAction' },
  },
  { name: 'an inline policy granting iam:*', spec: stmt({ Action: 'iam:*' }), want: { reason: 'InlinePolicyDenied' } },
  { name: 'an inline policy granting *', spec: stmt({ Action: '*' }), want: { reason: 'InlinePolicyDenied' } },
  {
    name: 'an inline policy granting IAM:PassRole in odd case',
    spec: stmt({ Action: ['s3:GetObject', 'IAM:PassRole'] }),
    want: { reason: 'InlinePolicyDenied' },
  },
  { name: 'an inline policy with NotAction', spec: stmt({ NotAction: 's3:*' }), want: { reason: 'InlinePolicyDenied' } },
  {
    name: 'an inline statement without Resource',
    spec: { attachPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] } },
    want: { reason: 'InvalidSpec' },
  },
  { name: 'an inline statement with a Principal', spec: stmt({ Action: 's3:GetObject', Principal: '*' }), want: { reason: 'InvalidSpec' } },
  {
    name: 'an inline policy over 10,240 characters',
    spec: stmt({ Action: 's3:GetObject', Resource: Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) }),
    want: { reason: 'InlinePolicyTooLarge' },
  },
  { name: 'a tag key aws:', spec: { tags: { 'aws:cloudformation:stack-name': 'x' } }, want: { reason: 'InvalidSpec' } },
  { name: 'a tag spoofing the ownership tag', spec: { tags: { 'irsa.dev/name': HEALTHY[0] } }, want: { reason: 'InvalidSpec' } },
  {
    name: 'a ServiceAccount annotation spoofing the role ARN',
    spec: { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/admin-role' } } },
    want: { reason: 'InvalidSpec' },
  },
  {
    name: 'a ServiceAccount label spoofing the managed-by label',
    spec: { serviceAccount: { labels: { 'irsa.dev/managed-by': 'irsa-operator' } } },
    want: { reason: 'InvalidSpec' },
  },
  {
    name: 'identity PodIdentity on a cluster EKS does not know',
    spec: { identity: 'PodIdentity' },
    want: { reason: 'PodIdentityNotAvailable', message: /EKS has no cluster local/ },
  },
  { name: 'a role name without the forced prefix', spec: { roleName: 'admin-role' }, want: { reason: 'RoleNameNotAllowed' } },
  { name: 'adopting an existing admin role by name', spec: { roleName: `${PREFIX}existing-admin` }, want: { reason: 'RoleNotOwned' } },
  { name: "the role name of another object's role", spec: { roleName: healthyRole(HEALTHY[0] ?? '') }, want: { reason: 'RoleConflict' } },
  {
    name: 'attachRoleARN of an admin role that does not trust it',
    spec: { attachRoleARN: 'arn:aws:iam::123456789012:role/admin-role' },
    want: { reason: 'TrustPolicyMismatch' },
  },
  {
    name: 'attachRoleARN in another partition',
    spec: { attachRoleARN: 'arn:aws-cn:iam::123456789012:role/r' },
    want: { reason: 'PartitionMismatch' },
  },
  {
    name: 'a managed policy in another partition',
    spec: { attachPolicyARNs: ['arn:aws-us-gov:iam::aws:policy/AmazonS3ReadOnlyAccess'] },
    want: { reason: 'PartitionMismatch' },
  },
  {
    name: 'the China audience, which the provider does not list',
    spec: { audience: 'sts.amazonaws.com.cn' },
    want: { reason: 'AudienceNotAllowedByProvider', message: /accepts the audiences sts.amazonaws.com, not sts.amazonaws.com.cn/ },
  },
  {
    name: "audience test (eksctl's documented example), which the provider does not list",
    spec: { audience: 'test' },
    want: { reason: 'AudienceNotAllowedByProvider', message: /add-client-id-to-open-id-connect-provider/ },
  },
  {
    name: 'a permissions boundary in another partition',
    spec: { permissionsBoundary: 'arn:aws-cn:iam::aws:policy/B' },
    want: { reason: 'PartitionMismatch' },
  },
  {
    name: 'a ServiceAccount another IamServiceAccount owns',
    spec: { serviceAccount: { name: 'owned-elsewhere' } },
    want: { reason: 'ServiceAccountConflict' },
  },
  {
    name: 'an existing ServiceAccount without overrideExisting',
    spec: { serviceAccount: { name: 'plain' } },
    want: { reason: 'ServiceAccountExists' },
  },
  { name: 'a namespace the operator does not serve', namespace: 'other-1', spec: {}, want: { reason: 'NamespaceNotAllowed' } },
  { name: 'a fourth role in a namespace capped at three', namespace: HEALTHY_NS, spec: {}, want: { reason: 'NamespaceRoleQuotaExceeded' } },
  // What a policy grants, judged against IAM's action list: AWS-managed policies read from IAM,
  // NotAction, wildcards and case tricks.
  ...(
    [
      ['AWSLambda_FullAccess', 'iam:PassRole'],
      ['PowerUserAccess', 'sts:AssumeRole'],
      ['AmazonECS_FullAccess', 'iam:PassRole'],
      ['AmazonEC2FullAccess', 'iam:CreateServiceLinkedRole'],
      ['AWSAccountManagementFullAccess', 'account:CloseAccount'],
      ['IAMUserChangePassword', 'iam:ChangePassword'],
    ] as const
  ).map(([policy, action]): Case => ({
    name: `the AWS-managed ${policy}, which grants ${action}`,
    spec: { attachPolicyARNs: [`arn:aws:iam::aws:policy/${policy}`] },
    want: {
      reason: 'PolicyGrantsDeniedAction',
      message: new RegExp(`^arn:aws:iam::aws:policy/${policy} \\(version v\\d+\\): statement .* grants ${action},`),
    },
  })),
  {
    name: 'a customer policy whose NotAction leaves IAM in',
    spec: { attachPolicyARNs: ['arn:aws:iam::123456789012:policy/not-s3'] },
    want: { reason: 'PolicyGrantsDeniedAction', message: /policy\/not-s3 \(version v1\): statement "AllButS3" grants iam:PassRole/ },
  },
  ...(
    [
      ['iam:Pass*', 'iam:PassRole'],
      ['iam:*Role', 'iam:PassRole'],
      ['iam:Pass?ole', 'iam:PassRole'],
      ['IaM:pAsSrOlE', 'iam:PassRole'],
      ['*:PassRole', 'iam:PassRole'],
      ['i*:Pass*', 'iam:PassRole'],
      ['iam:Tag*', 'iam:TagInstanceProfile'],
      ['iam:Untag*', 'iam:UntagInstanceProfile'],
      ['iam:DeleteRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary'],
      ['iam:CreatePolicyVersion', 'iam:CreatePolicyVersion'],
      ['iam:CreateAccessKey', 'iam:CreateAccessKey'],
      ['organizations:Leave*', 'organizations:LeaveOrganization'],
      ['account:Close*', 'account:CloseAccount'],
      ['sts:AssumeRoot', 'sts:AssumeRoot'],
      ['sts:Assume*', 'sts:AssumeRole'],
    ] as const
  ).map(([action, granted]): Case => ({
    name: `an inline policy granting ${action}`,
    spec: stmt({ Action: ['s3:GetObject', action] }),
    want: { reason: 'InlinePolicyDenied', message: new RegExp(`statement 0 grants ${granted},`) },
  })),
  {
    name: 'an inline NotAction that leaves out all of IAM but not sts:AssumeRole',
    spec: stmt({ NotAction: ['iam:*', 'organizations:*', 'account:*'] }),
    want: { reason: 'InlinePolicyDenied', message: /grants sts:AssumeRole,/ },
  },
  {
    name: 'an inline PassRole narrowed by resource and condition',
    spec: stmt({
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::123456789012:role/lambda-*',
      Condition: { StringEquals: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
    }),
    want: { reason: 'InlinePolicyDenied', message: /grants iam:PassRole,/ },
  },
  {
    name: 'an inline denied action in a later statement, named by its Sid',
    spec: {
      attachPolicy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
          { Sid: 'Sneaky', Effect: 'Allow', Action: ['sqs:SendMessage', 'iam:UpdateAssumeRolePolicy'], Resource: '*' },
        ],
      },
    },
    want: { reason: 'InlinePolicyDenied', message: /statement "Sneaky" grants iam:UpdateAssumeRolePolicy,/ },
  },
  {
    name: "this cluster's own issuer as an additional cluster",
    spec: { additionalClusters: [{ issuer: 'https://oidc.irsa.local/id/LOCALTESTENV' }] },
    want: { reason: 'InvalidSpec', message: /is this cluster's own issuer/ },
  },
  {
    name: 'an additional cluster listed twice',
    spec: { additionalClusters: [{ issuer: TRUSTED }, { issuer: TRUSTED, namespace: 'other' }] },
    want: { reason: 'InvalidSpec', message: /repeats spec\.additionalClusters\[0\]\.issuer/ },
  },
  {
    name: 'an additional cluster the platform team does not trust',
    spec: { additionalClusters: [{ issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/UNTRUSTED' }] },
    want: { reason: 'IssuerNotAllowed', message: /allowedIssuers: / },
  },
  {
    name: 'seven trusted clusters: a trust policy over 2,048 characters',
    spec: { additionalClusters: ALLOWED_ISSUERS.map((issuer) => ({ issuer })) },
    want: { reason: 'TrustPolicyTooLarge', message: /over the limit of 2048 \(trustPolicyLimit\)/ },
  },
  {
    name: 'a trusted cluster whose OIDC provider IAM does not have',
    spec: { additionalClusters: [{ issuer: TRUSTED }] },
    want: { reason: 'OIDCProviderNotFound', message: /for spec\.additionalClusters\[0\]/ },
  },
  {
    name: 'a subject pattern that misses the named ServiceAccount',
    spec: { serviceAccount: { name: 'app' }, subjectPattern: 'ci-*' },
    want: { reason: 'InvalidSpec', message: /does not match the ServiceAccount app/ },
  },
  {
    name: 'a subject pattern where the operator allows none',
    spec: { subjectPattern: '*' },
    want: { reason: 'SubjectPatternNotAllowed', message: /subjectPatternNamespaces: none/ },
  },
  {
    name: 'a customer policy that does not exist',
    spec: { attachPolicyARNs: ['arn:aws:iam::123456789012:policy/missing'] },
    want: { reason: 'PolicyNotFound' },
  },
  // spec.account: the schema, then the operator's accounts and its policy for them.
  { name: 'an account that is not 12 digits', spec: { account: '12345' }, want: { apply: /spec\.account/ } },
  { name: 'an account given as a number', spec: { account: 210987654321 }, want: { apply: /spec\.account/ } },
  { name: 'an account alias instead of its ID', spec: { account: 'prod-account' }, want: { apply: /spec\.account/ } },
  {
    name: 'an account the operator is not configured for',
    spec: { account: '999999999999' },
    want: { reason: 'AccountNotAllowed', message: /not 999999999999/ },
  },
  {
    name: "the operator's account spelled out is its own (not refused)",
    spec: { account: '123456789012', attachPolicyARNs: [admin] },
    want: { reason: 'PolicyDenied' },
  },
  {
    name: 'a configured account not open to this namespace',
    spec: { account: OPEN_ACCOUNT },
    want: { reason: 'AccountNotAllowedInNamespace', message: /namespace bad-1 may not use account 210987654321/ },
  },
  {
    name: 'identity PodIdentity with a role in another (configured) account',
    spec: { account: OPEN_ACCOUNT, identity: 'PodIdentity' },
    want: { reason: 'PodIdentityNeedsOwnAccount', message: /use the own account .* or identity IRSA for a role in another account/ },
  },
  {
    name: 'an attachRoleARN of an account the operator is not configured for',
    spec: { attachRoleARN: 'arn:aws:iam::999999999999:role/elsewhere' },
    want: { reason: 'AccountNotAllowed' },
  },
  {
    name: 'an attachRoleARN of another account than spec.account',
    spec: { attachRoleARN: `arn:aws:iam::${OPEN_ACCOUNT}:role/r`, account: '123456789012' },
    want: { reason: 'InvalidSpec', message: /attachRoleARN is a role of account 210987654321, not of spec\.account 123456789012/ },
  },
];

/** The document applied for case `i`: its raw YAML, or an object `bad-<i>` with its spec. */
export function caseDocument(tc: Case, i: number): string {
  return (
    tc.raw ??
    JSON.stringify({
      apiVersion: 'irsa.dev/v1alpha1',
      kind: 'IamServiceAccount',
      metadata: { name: `bad-${i}`, namespace: tc.namespace ?? BAD_NS },
      spec: tc.spec ?? {},
    })
  );
}
