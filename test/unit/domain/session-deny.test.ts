import fc from 'fast-check';
import { addSessionDeny, denyStatement, sessionDenySid, timeboxStatements, SESSION_DENY_SID_PREFIX } from '../../../src/domain/session-deny';

const USER = '9067c0ffee-ca201000-0000-4000-8000-000000000001';
const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-07T14:05:00.000Z');

const adminPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowS3",   "Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*" } ,
    {"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}
  ]
}`;

describe('daily-use: session deny statements (pure policy editing)', () => {
  test('the deny statement has the conditions the issue names: user, account, and sessions issued before the end', () => {
    expect(denyStatement({ userId: USER, accountId: '222222222222', before: T0 + 1 })).toEqual({
      Sid: `${SESSION_DENY_SID_PREFIX}2222222222229067c0ffeeca201000000040008000000000000001`,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'identitystore:UserId': USER, 'aws:PrincipalAccount': '222222222222' },
        DateLessThan: { 'aws:TokenIssueTime': '2026-12-07T14:05:01Z' },
      },
    });
    expect(sessionDenySid({ userId: USER, accountId: '1' })).toMatch(/^[A-Za-z0-9]+$/);
  });

  test('no policy yet: a new document with only the deny', () => {
    const edit = addSessionDeny(undefined, { userId: USER, accountId: '111111111111', before: T0 }, T0, HOUR);
    expect(JSON.parse(edit.text)).toEqual({ Version: '2012-10-17', Statement: [denyStatement({ userId: USER, accountId: '111111111111', before: T0 })] });
    expect(edit.fits).toBe(true);
  });

  test("the admin's statements and formatting stay byte for byte; a second end for the same user and account replaces the first", () => {
    const first = addSessionDeny(adminPolicy, { userId: USER, accountId: '111111111111', before: T0 }, T0, HOUR);
    const second = addSessionDeny(first.text, { userId: USER, accountId: '111111111111', before: T0 + 60_000 }, T0 + 60_000, HOUR);
    expect(second.text).toContain('{ "Sid": "AllowS3",   "Effect": "Allow", "Action": ["s3:Get*"], "Resource": "*" }');
    expect(second.text).toContain('{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}');
    expect(second.text.startsWith('{\n  "Version": "2012-10-17",\n  "Statement": ')).toBe(true);
    expect(timeboxStatements(second.text)).toEqual([{ sid: sessionDenySid({ userId: USER, accountId: '111111111111' }), before: T0 + 60_000 }]);
    // An older end retried late never moves the cut-off back.
    const late = addSessionDeny(second.text, { userId: USER, accountId: '111111111111', before: T0 }, T0 + 120_000, HOUR);
    expect(timeboxStatements(late.text)[0]?.before).toBe(T0 + 60_000);
  });

  test('statements older than the session duration are pruned; younger ones are kept', () => {
    let text = addSessionDeny(undefined, { userId: 'a', accountId: '1', before: T0 }, T0, HOUR).text;
    text = addSessionDeny(text, { userId: 'b', accountId: '1', before: T0 + 30 * 60_000 }, T0 + 30 * 60_000, HOUR).text;
    const edit = addSessionDeny(text, { userId: 'c', accountId: '1', before: T0 + HOUR }, T0 + HOUR, HOUR);
    expect(edit.pruned).toEqual([sessionDenySid({ userId: 'a', accountId: '1' })]);
    expect(timeboxStatements(edit.text).map((s) => s.sid)).toEqual([sessionDenySid({ userId: 'b', accountId: '1' }), sessionDenySid({ userId: 'c', accountId: '1' })]);
  });

  test('past the size limit the oldest Timebox statements go first; when the admin leaves no room, nothing fits', () => {
    let text = adminPolicy;
    for (let i = 0; i < 5; i++) text = addSessionDeny(text, { userId: `u${i}`, accountId: '1', before: T0 + i * 1000 }, T0 + i * 1000, HOUR).text;
    const limit = text.length; // room for exactly the five
    const edit = addSessionDeny(text, { userId: 'u5', accountId: '1', before: T0 + 5000 }, T0 + 5000, HOUR, limit);
    expect(edit.fits).toBe(true);
    expect(edit.dropped).toEqual([sessionDenySid({ userId: 'u0', accountId: '1' })]);
    expect(edit.text.length).toBeLessThanOrEqual(limit);
    expect(edit.text).toContain('"Sid": "AllowS3"');
    const none = addSessionDeny(adminPolicy, { userId: 'x', accountId: '1', before: T0 }, T0, HOUR, adminPolicy.length);
    expect(none.fits).toBe(false);
  });

  test('a single Statement object (not a list) is kept and becomes a list', () => {
    const single = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}';
    const edit = addSessionDeny(single, { userId: USER, accountId: '1', before: T0 }, T0, HOUR);
    expect(edit.text.startsWith('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},')).toBe(true);
  });

  test('any admin statements, in any formatting and with awkward strings, survive byte for byte and in order', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }));
    const statement = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 4 }).map((s) => ({ Effect: 'Allow', ...s }));
    const space = fc.constantFrom('', ' ', '\n  ', '\t');
    fc.assert(
      fc.property(fc.array(fc.tuple(statement, space), { maxLength: 6 }), space, fc.integer({ min: 0, max: 10 }), (stmts, pad, n) => {
        const raws = stmts.map(([s, p]) => JSON.stringify(s, null, p === '' ? undefined : p.length));
        const doc = `{${pad}"Version":"2012-10-17",${pad}"Statement":${pad}[${raws.join(`,${pad}`)}]${pad}}`;
        let text = doc;
        for (let i = 0; i <= n; i++) text = addSessionDeny(text, { userId: `u${i % 3}`, accountId: '1', before: T0 + i }, T0 + i, HOUR).text;
        const parsed = JSON.parse(text) as { Statement: unknown[] };
        let from = 0;
        for (const raw of raws) {
          const at = text.indexOf(raw, from);
          expect(at).toBeGreaterThanOrEqual(from);
          from = at + raw.length;
        }
        expect(parsed.Statement.length).toBe(raws.length + Math.min(n + 1, 3));
      }),
    );
  });
});
