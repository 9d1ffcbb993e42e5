import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { globToRegExp } from '../../../src/policy/glob.ts';

describe('globToRegExp', () => {
  const cases: { name: string; glob: string; flags?: string; value: string; want: boolean }[] = [
    { name: 'literal matches itself', glob: 'team-a', value: 'team-a', want: true },
    { name: 'anchored at the start', glob: 'team', value: 'xteam', want: false },
    { name: 'anchored at the end', glob: 'team', value: 'teamx', want: false },
    { name: '. is literal, matches a dot', glob: 'a.b', value: 'a.b', want: true },
    { name: '. is literal, not any character', glob: 'a.b', value: 'axb', want: false },
    { name: '+ is literal, matches a plus', glob: 'a+b', value: 'a+b', want: true },
    { name: '+ is literal, not a repetition', glob: 'a+b', value: 'aab', want: false },
    { name: '( ) are literal', glob: 'f(x)', value: 'f(x)', want: true },
    { name: '( ) are not a group', glob: 'f(x)', value: 'fx', want: false },
    { name: '[ ] are literal', glob: '[ab]', value: '[ab]', want: true },
    { name: '[ ] are not a class', glob: '[ab]', value: 'a', want: false },
    { name: '| is literal', glob: 'a|b', value: 'a|b', want: true },
    { name: '| is not alternation', glob: 'a|b', value: 'a', want: false },
    { name: '^ and $ are literal', glob: '^a$', value: '^a$', want: true },
    { name: '{ } are literal', glob: 'a{2}', value: 'a{2}', want: true },
    { name: '{ } are not a quantifier', glob: 'a{2}', value: 'aa', want: false },
    { name: 'backslash is literal', glob: 'a\\d', value: 'a\\d', want: true },
    { name: 'backslash is not a class escape', glob: 'a\\d', value: 'a1', want: false },
    { name: '* matches nothing', glob: 'team-*', value: 'team-', want: true },
    { name: '* matches many characters', glob: 'team-*', value: 'team-a.b/c:d', want: true },
    { name: '* in the middle', glob: 'arn:*:iam::aws:policy/X', value: 'arn:aws-cn:iam::aws:policy/X', want: true },
    { name: '* alone matches everything', glob: '*', value: 'anything at all', want: true },
    { name: '* alone matches the empty string', glob: '*', value: '', want: true },
    { name: '? matches exactly one character', glob: 'a?c', value: 'abc', want: true },
    { name: '? does not match zero characters', glob: 'a?c', value: 'ac', want: false },
    { name: '? does not match two characters', glob: 'a?c', value: 'abbc', want: false },
    { name: 'case-sensitive without flags', glob: 'Team', value: 'team', want: false },
    { name: 'case-insensitive with i', glob: 'Team', flags: 'i', value: 'team', want: true },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(globToRegExp(tc.glob, tc.flags).test(tc.value), tc.want);
    });
  }

  it('passes the flags through', () => {
    assert.equal(globToRegExp('a', 'i').flags, 'i');
    assert.equal(globToRegExp('a').flags, '');
  });
});
