import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { specSchema } from '../../../src/api/schema.ts';
import { WELL_KNOWN_POLICY_NAMES } from '../../../src/api/types.ts';
import { validateSpec } from '../../../src/api/validate.ts';
import { WELL_KNOWN_POLICIES } from '../../../src/policy/wellknown.ts';

describe('WELL_KNOWN_POLICIES', () => {
  it('has exactly one entry per well-known policy name', () => {
    assert.deepEqual(Object.keys(WELL_KNOWN_POLICIES).sort(), [...WELL_KNOWN_POLICY_NAMES].sort());
  });

  it('matches the names the schema accepts', () => {
    assert.deepEqual(Object.keys(specSchema.properties.wellKnownPolicies.properties).sort(), [...WELL_KNOWN_POLICY_NAMES].sort());
  });

  for (const name of WELL_KNOWN_POLICY_NAMES) {
    const def = WELL_KNOWN_POLICIES[name];

    it(`${name}: grants something`, () => {
      assert.ok(def.managedPolicies.length + def.statements.length > 0);
    });

    it(`${name}: managed policies are names below "policy/"`, () => {
      for (const m of def.managedPolicies) assert.match(m, /^[\w+=,.@-]+(\/[\w+=,.@-]+)*$/);
    });

    it(`${name}: only known placeholders`, () => {
      const placeholders = JSON.stringify(def.statements).match(/\$\{[^}]*\}/g) ?? [];
      for (const p of placeholders) assert.ok(p === '${Partition}' || p === '${ClusterName}', p);
    });

    it(`${name}: ARNs in statements start with arn:\${Partition}:`, () => {
      const arns = JSON.stringify(def.statements).match(/"arn:[^"]*"/g) ?? [];
      for (const a of arns) assert.match(a, /^"arn:\$\{Partition\}:/);
    });

    if (def.statements.length > 0) {
      it(`${name}: statements form a valid identity policy`, () => {
        assert.equal(validateSpec({ attachPolicy: { Version: '2012-10-17', Statement: def.statements } }), undefined);
      });
    }
  }

  it('uses the managed AmazonEBSCSIDriverPolicy for the EBS CSI controller', () => {
    assert.deepEqual(WELL_KNOWN_POLICIES.ebsCSIController, { managedPolicies: ['service-role/AmazonEBSCSIDriverPolicy'], statements: [] });
  });

  it('uses AmazonEC2ContainerRegistryPowerUser for the image builder', () => {
    assert.deepEqual(WELL_KNOWN_POLICIES.imageBuilder, { managedPolicies: ['AmazonEC2ContainerRegistryPowerUser'], statements: [] });
  });
});
