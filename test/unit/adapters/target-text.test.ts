import { grantsSubject, plainTarget, requestSubject, targetFields, targetName, targetText } from '../../../src/adapters/slack/views/target-text';
import type { Grant } from '../../../src/domain/access-request';
import type { GrantTarget } from '../../../src/domain/grant-target';

const STAGING: GrantTarget = { kind: 'account', accountId: '111111111111', accountName: 'staging', permissionSetName: 'ReadOnly', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1/ps-1' };
const ONCALL: GrantTarget = { kind: 'group', groupId: 'g-1', groupName: 'oncall' };
// Names come from the config: Slack's control characters in them are escaped, never rendered.
const ODD: GrantTarget = { kind: 'account', accountId: '222222222222', accountName: '<!channel> & co', permissionSetName: `Admin${'x'.repeat(60)}`, permissionSetArn: 'arn' };
const grant = (id: string, target: GrantTarget): Grant => ({ id, target, ruleName: 'r', autoApproved: true, approvalsRequired: 0, approvals: [], status: 'PENDING' });

describe('daily-use: how a target reads in Slack, in one module', () => {
  test('the phrase with the account id, plain or with bold names, and escaped', () => {
    expect(targetText(STAGING)).toBe('ReadOnly on staging (`111111111111`)');
    expect(targetText(STAGING, true)).toBe('*ReadOnly* on *staging* (`111111111111`)');
    expect(targetText(ONCALL)).toBe('membership of oncall');
    expect(targetText(ONCALL, true)).toBe('membership of *oncall*');
    expect(targetText(ODD)).toContain(' on &lt;!channel&gt; &amp; co (`222222222222`)');
  });

  test('names only, in bold, for the replies to the person ending access', () => {
    expect(targetName(STAGING)).toBe('*ReadOnly* on *staging*');
    expect(targetName(ONCALL)).toBe('membership of *oncall*');
  });

  test('plain text for confirm dialogs and fallbacks: no mrkdwn, long names cut', () => {
    expect(plainTarget(STAGING)).toBe('ReadOnly on staging');
    expect(plainTarget(ONCALL)).toBe('membership of oncall');
    expect(plainTarget(ODD)).toBe(`Admin${'x'.repeat(34)}… on <!channel> & co`);
  });

  test('the fields of a one-grant message, and several grants in one phrase', () => {
    expect(targetFields(STAGING)).toEqual(['*Account*\nstaging (`111111111111`)', '*Permission set*\nReadOnly']);
    expect(targetFields(ONCALL)).toEqual(['*Group*\noncall']);
    expect(requestSubject({ grants: [grant('1', STAGING)] }, true)).toBe('*ReadOnly* on *staging* (`111111111111`)');
    expect(requestSubject({ grants: [grant('1', STAGING), grant('2', ONCALL)] })).toBe('2 grants');
    expect(grantsSubject([grant('1', STAGING), grant('2', ONCALL)], plainTarget, 'active grants')).toBe('2 active grants');
  });
});
