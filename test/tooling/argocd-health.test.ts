// The Argo CD health check (config/argocd/health.lua) run in fengari, a Lua 5.3 VM in JavaScript,
// against the statuses the operator writes. Argo CD runs such scripts in gopher-lua (Lua 5.1) with
// only the base, table, string and math libraries; the script keeps to what both have in common.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { lauxlib, lua, lualib, to_luastring, type LuaState } from 'fengari';
import { parse } from 'yaml';
import type { Condition, ConditionStatus, ConditionType, IamServiceAccount, IamServiceAccountStatus } from '../../src/api/types.ts';
import { buildStatus, type Outcome } from '../../src/controller/status.ts';

const HEALTH_LUA = readFileSync(new URL('../../config/argocd/health.lua', import.meta.url), 'utf8');
const CM_PATCH = readFileSync(new URL('../../config/argocd/argocd-cm-patch.yaml', import.meta.url), 'utf8');
const HEALTH_KEY = 'resource.customizations.health.irsa.dev_IamServiceAccount';

/** Pushes a JSON value as Lua sees it in Argo CD: objects and arrays become tables, arrays 1-based. */
function pushValue(L: LuaState, value: unknown): void {
  if (value === null || value === undefined) {
    lua.lua_pushnil(L);
  } else if (typeof value === 'boolean') {
    lua.lua_pushboolean(L, value);
  } else if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) lua.lua_pushinteger(L, value);
    else lua.lua_pushnumber(L, value);
  } else if (typeof value === 'string') {
    lua.lua_pushstring(L, to_luastring(value));
  } else if (Array.isArray(value)) {
    lua.lua_createtable(L, value.length, 0);
    value.forEach((item: unknown, i) => {
      pushValue(L, item);
      lua.lua_seti(L, -2, i + 1);
    });
  } else if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, v] of entries) {
      pushValue(L, v);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  } else {
    throw new TypeError(`no Lua value for a ${typeof value}`);
  }
}

function stringField(L: LuaState, key: string): string | null {
  lua.lua_getfield(L, -1, to_luastring(key));
  const s = lua.lua_tojsstring(L, -1);
  lua.lua_pop(L, 1);
  return s;
}

/** Runs the health script as Argo CD does: `obj` global, the chunk returns `hs`. */
function health(obj: IamServiceAccount): { status: string | null; message: string | null } {
  const L = lauxlib.luaL_newstate();
  const libs = [
    ['_G', lualib.luaopen_base],
    ['table', lualib.luaopen_table],
    ['string', lualib.luaopen_string],
    ['math', lualib.luaopen_math],
  ] as const;
  for (const [name, open] of libs) {
    lauxlib.luaL_requiref(L, to_luastring(name), open, true);
    lua.lua_pop(L, 1);
  }
  // Through JSON, as Argo CD converts the live object.
  pushValue(L, JSON.parse(JSON.stringify(obj)));
  lua.lua_setglobal(L, to_luastring('obj'));
  if (
    lauxlib.luaL_loadbuffer(L, to_luastring(HEALTH_LUA), null, to_luastring('@config/argocd/health.lua')) !== lua.LUA_OK ||
    lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK
  ) {
    throw new Error(`health.lua failed: ${lua.lua_tojsstring(L, -1) ?? '(no message)'}`);
  }
  assert.equal(lua.lua_type(L, -1), lua.LUA_TTABLE, 'health.lua returns a table');
  return { status: stringField(L, 'status'), message: stringField(L, 'message') };
}

const T = '2024-01-01T00:00:00Z';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/irsa-prod.apps.web';
const fields: Outcome['fields'] = { roleARN: ROLE_ARN, roleName: 'irsa-prod.apps.web', serviceAccountName: 'web' };

function object(generation: number, status?: IamServiceAccountStatus): IamServiceAccount {
  return {
    apiVersion: 'irsa.dev/v1alpha1',
    kind: 'IamServiceAccount',
    metadata: { name: 'web', namespace: 'apps', generation },
    spec: { serviceAccount: { name: 'web' }, attachPolicyARNs: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] },
    ...(status ? { status } : {}),
  };
}

/** A status as buildStatus writes it for this outcome at this generation. */
function written(outcome: Outcome, generation: number): IamServiceAccountStatus {
  return buildStatus(undefined, outcome, generation, T).status;
}

/** A status with hand-written conditions, for states buildStatus does not produce. */
function withConditions(generation: number, ...conditions: [ConditionType, ConditionStatus, string, string][]): IamServiceAccountStatus {
  return {
    observedGeneration: generation,
    ...fields,
    conditions: conditions.map(([type, status, reason, message]): Condition => ({
      type,
      status,
      reason,
      message,
      observedGeneration: generation,
      lastTransitionTime: T,
    })),
  };
}

const synced = { state: 'synced', reason: 'Synced', message: 'in sync' } as const;
const TRUST = 'the trust policy of arn:aws:iam::123456789012:role/irsa-prod.apps.web admits a token (statement 0)';
const SA_EXISTS =
  'ServiceAccount apps/web exists and was not created by irsa-operator: set serviceAccount.overrideExisting: true to take it over';
const WAITING_FOR_ROLE = 'the ServiceAccount is annotated once the role is in sync';

describe('Argo CD health check', () => {
  const cases: { name: string; obj: IamServiceAccount; status: string; message: RegExp }[] = [
    {
      name: 'Healthy: Ready=True at the current generation',
      obj: object(2, written({ role: synced, serviceAccount: synced, trust: TRUST, fields }, 2)),
      status: 'Healthy',
      message: /^ServiceAccount web can assume arn:aws:iam::123456789012:role\/irsa-prod\.apps\.web$/,
    },
    {
      name: 'Progressing: no status yet',
      obj: object(1),
      status: 'Progressing',
      message: /^Waiting for the operator to reconcile generation 1$/,
    },
    {
      name: 'Progressing: status without conditions',
      obj: object(1, { observedGeneration: 1 }),
      status: 'Progressing',
      message: /^Waiting for the operator to reconcile generation 1$/,
    },
    {
      name: 'Progressing: observedGeneration older than metadata.generation (even if Ready)',
      obj: object(3, written({ role: synced, serviceAccount: synced, trust: TRUST, fields }, 2)),
      status: 'Progressing',
      message: /^Waiting for the operator to reconcile generation 3$/,
    },
    {
      name: 'Progressing: Ready=False, Reconciling=True (WaitingForRole)',
      obj: object(
        1,
        withConditions(
          1,
          ['RoleSynced', 'True', 'Synced', 'in sync'],
          ['ServiceAccountSynced', 'Unknown', 'WaitingForRole', WAITING_FOR_ROLE],
          ['Ready', 'False', 'WaitingForRole', WAITING_FOR_ROLE],
          ['Reconciling', 'True', 'WaitingForRole', WAITING_FOR_ROLE],
        ),
      ),
      status: 'Progressing',
      message: /^WaitingForRole: the ServiceAccount is annotated once the role is in sync$/,
    },
    {
      name: 'Progressing: role waiting for the OIDC provider, as the reconciler writes it',
      obj: object(
        1,
        written(
          {
            role: { state: 'progressing', reason: 'OIDCProviderNotFound', message: 'no IAM OIDC provider for the cluster issuer' },
            serviceAccount: { state: 'progressing', reason: 'WaitingForRole', message: WAITING_FOR_ROLE },
            fields,
          },
          1,
        ),
      ),
      status: 'Progressing',
      message: /^OIDCProviderNotFound: no IAM OIDC provider for the cluster issuer$/,
    },
    {
      name: 'Progressing: an audience the OIDC provider does not list, as the reconciler writes it',
      obj: object(
        1,
        written(
          {
            role: {
              state: 'progressing',
              reason: 'AudienceNotAllowedByProvider',
              message: 'the provider lists sts.amazonaws.com, not test',
            },
            serviceAccount: undefined,
            fields,
          },
          1,
        ),
      ),
      status: 'Progressing',
      message: /^AudienceNotAllowedByProvider: the provider lists sts.amazonaws.com, not test$/,
    },
    {
      name: 'Degraded, never Healthy: every part synced but the trust not judged (Ready=False, no Reconciling)',
      obj: object(1, written({ role: synced, serviceAccount: synced, fields }, 1)),
      status: 'Degraded',
      message: /^TrustNotChecked: not judged yet: in sync$/,
    },
    {
      name: 'Progressing: Ready=Unknown',
      obj: object(1, withConditions(1, ['Ready', 'Unknown', 'Pending', 'not yet evaluated'])),
      status: 'Progressing',
      message: /^Pending: not yet evaluated$/,
    },
    {
      name: 'Progressing: conditions without Ready',
      obj: object(1, withConditions(1, ['RoleSynced', 'True', 'Synced', 'in sync'])),
      status: 'Progressing',
      message: /Ready/,
    },
    {
      name: 'Degraded: Stalled=True (ServiceAccountExists)',
      obj: object(
        4,
        written({ role: synced, serviceAccount: { state: 'stalled', reason: 'ServiceAccountExists', message: SA_EXISTS }, fields }, 4),
      ),
      status: 'Degraded',
      message: /^ServiceAccountExists: ServiceAccount apps\/web exists and was not created by irsa-operator: /,
    },
    {
      name: 'Degraded: Ready=False without Reconciling',
      obj: object(
        1,
        withConditions(
          1,
          ['RoleSynced', 'False', 'RoleNotOwned', 'role irsa-prod.apps.web exists without the ownership tags'],
          ['Ready', 'False', 'RoleNotOwned', 'role irsa-prod.apps.web exists without the ownership tags'],
        ),
      ),
      status: 'Degraded',
      message: /^RoleNotOwned: role irsa-prod\.apps\.web exists without the ownership tags$/,
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const hs = health(tc.obj);
      assert.equal(hs.status, tc.status);
      assert.match(hs.message ?? '', tc.message);
    });
  }
});

describe('argocd-cm patch', () => {
  it('patches argocd-cm in the argocd namespace', () => {
    const doc = parse(CM_PATCH) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    assert.equal(doc.apiVersion, 'v1');
    assert.equal(doc.kind, 'ConfigMap');
    assert.equal(doc.metadata?.name, 'argocd-cm');
    assert.equal(doc.metadata?.namespace, 'argocd');
  });

  it('embeds health.lua byte for byte', () => {
    const doc = parse(CM_PATCH) as { data?: Record<string, unknown> };
    assert.equal(doc.data?.[HEALTH_KEY], HEALTH_LUA);
  });
});
