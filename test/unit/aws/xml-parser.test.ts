// The operator's bundle parses AWS's XML with src/aws/xml-parser.ts instead of the SDK's parser
// (scripts/bundle/options.ts). Both must read every document alike: the same value, or the same
// error. Checked on IAM's own response shapes and on generated documents that mix what the format
// allows (attributes, entities, CDATA, comments, layout whitespace, repeated and odd names).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseXML as sdkParseXML } from '@aws-sdk/xml-builder';
import { parseXML } from '../../../src/aws/xml-parser.ts';

/** The SDK's result or error message, and ours; they must be equal. */
function both(xml: string): { sdk: unknown; ours: unknown } {
  const read = (parse: (x: string) => unknown) => {
    try {
      return { value: parse(xml) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  return { sdk: read(sdkParseXML), ours: read(parseXML) };
}

function assertSame(xml: string): void {
  const { sdk, ours } = both(xml);
  assert.deepEqual(ours, sdk, `document: ${JSON.stringify(xml)}`);
}

const trust = encodeURIComponent(
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/x' }, Action: 'sts:AssumeRoleWithWebIdentity' },
    ],
  }),
);

const role = (i: number) => `
      <member>
        <Path>/irsa/</Path>
        <RoleName>irsa-team-a-app-${i}</RoleName>
        <RoleId>AROA${i}</RoleId>
        <Arn>arn:aws:iam::123456789012:role/irsa/irsa-team-a-app-${i}</Arn>
        <CreateDate>2026-11-27T12:00:00Z</CreateDate>
        <AssumeRolePolicyDocument>${trust}</AssumeRolePolicyDocument>
        <Description>IRSA role for ServiceAccount team-a/app-${i} &amp; &quot;friends&quot; &#x41;&#66;</Description>
        <InstanceProfileList/>
        <RolePolicyList>
          <member><PolicyName>inline</PolicyName><PolicyDocument>${trust}</PolicyDocument></member>
        </RolePolicyList>
        <AttachedManagedPolicies>
          <member><PolicyName>ReadOnly</PolicyName><PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member>
        </AttachedManagedPolicies>
        <Tags>
          <member><Key>irsa.dev/cluster</Key><Value>bench</Value></member>
          <member><Key>empty</Key><Value></Value></member>
        </Tags>
      </member>`;

const IAM_RESPONSES: Record<string, string> = {
  'GetAccountAuthorizationDetails, three roles': `<?xml version="1.0" encoding="UTF-8"?>
<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccountAuthorizationDetailsResult>
    <IsTruncated>true</IsTruncated>
    <Marker>bWFya2Vy</Marker>
    <RoleDetailList>${role(1)}${role(2)}${role(3)}
    </RoleDetailList>
  </GetAccountAuthorizationDetailsResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</GetAccountAuthorizationDetailsResponse>`,
  'ListRoles, one role, CRLF line ends': `<ListRolesResponse>\r\n<ListRolesResult><IsTruncated>false</IsTruncated><Roles>${role(9)}</Roles></ListRolesResult>\r\n</ListRolesResponse>`,
  'an error': `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name x cannot be found.</Message></Error>
  <RequestId>1</RequestId>
</ErrorResponse>`,
};

describe('parseXML (the bundle’s) against the SDK’s', () => {
  for (const [name, xml] of Object.entries(IAM_RESPONSES)) {
    it(`reads IAM's ${name} alike`, () => {
      assertSame(xml);
      const { ours } = both(xml);
      assert.ok(!('error' in (ours as object)), 'and it is a document, not an error');
    });
  }

  it('reads what the format allows alike', () => {
    for (const xml of [
      '<a/>',
      '<a></a>',
      '<a>text</a>',
      '<a x="1" y=\'2\'/>',
      '<a x="&lt;&amp;&gt;">t</a>',
      '<a><![CDATA[<raw & kept>]]></a>',
      '<a>one<!-- note -->two</a>',
      '<a><?pi data?><b/></a>',
      '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
      '<!doctype a><a>1</a>',
      '<!-- c --><?xml version="1.0"?><a>1</a>',
      '<a>\n  \n</a>',
      '<a>  </a>',
      '<a>x<b/>y<b/>z</a>',
      '<a>\n <b>1</b>\n <b>2</b>\n <b>3</b>\n</a>',
      '<a><__proto__>p</__proto__><__proto__>q</__proto__></a>',
      '<a __proto__="p"><b/></a>',
      '<a><toString>1</toString><constructor>2</constructor></a>',
      '<a>&#1114111;&#x10FFFF;&unknown;&amp</a>',
      '<a x=unquoted >1</a>',
      '<a\tx="1"\n/>',
      '<a><b>1</b><c x="2">3</c></a>',
    ]) {
      assertSame(xml);
    }
  });

  it('fails alike, with the same message', () => {
    for (const xml of [
      '',
      '   ',
      'text',
      '<a>',
      '<a><b></a>',
      '<a></b>',
      '<a/',
      '<a x="1"',
      '<a x="1>',
      '<a><!-- open</a>',
      '<a><![CDATA[open</a>',
      '<!DOCTYPE a [',
      '<?xml',
      '<a b>',
    ]) {
      const { sdk, ours } = both(xml);
      assert.ok('error' in (sdk as object), `the SDK refuses ${JSON.stringify(xml)}`);
      assert.deepEqual(ours, sdk, `document: ${JSON.stringify(xml)}`);
    }
  });

  it('reads generated documents alike (2,000 of them)', () => {
    // A small deterministic generator (xorshift), so a failure names a document that can be rerun.
    let seed = 0x9e3779b9;
    const next = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[next(xs.length)] as T;
    const names = ['a', 'b', 'member', 'Key', 'Value', '__proto__', 'toString', 'x-y', 'ns:tag'];
    const texts = ['', ' ', '\n', '\n  ', 'word', 'two words', '&amp;', '&lt;b&gt;', '&#10;', '&#x2028;', '%7B%22a%22%7D', 'é ü', '\r\n'];
    const element = (depth: number): string => {
      const name = pick(names);
      const attrs = next(4) === 0 ? ` ${pick(names)}="${pick(texts).replace(/"/g, '')}"` : '';
      if (next(6) === 0) return `<${name}${attrs}/>`;
      let body = '';
      const parts = depth > 3 ? 1 : 1 + next(4);
      for (let k = 0; k < parts; k++) {
        const kind = next(10);
        if (kind < 4 && depth <= 3) body += element(depth + 1);
        else if (kind === 4) body += `<![CDATA[${pick(texts)}]]>`;
        else if (kind === 5) body += '<!-- c -->';
        else body += pick(texts);
      }
      return `<${name}${attrs}>${body}</${name}>`;
    };
    for (let n = 0; n < 2000; n++) assertSame(`${next(3) === 0 ? '<?xml version="1.0"?>\n' : ''}${element(0)}`);
  });
});
