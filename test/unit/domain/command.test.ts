import fc from 'fast-check';
import { MAX_REASON_LENGTH, normaliseReason, parseCommand, USAGE } from '../../../src/domain/command';
import { TimeboxError } from '../../../src/domain/errors';
import { isRequestId } from '../../../src/domain/request-id';

const H = 3_600_000;
/** Characters normaliseReason promises to strip: C0/C1 controls, DEL, zero-width and bidi controls, line/paragraph separators. */
// eslint-disable-next-line no-control-regex
const STRIPPED = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e]/u;

function timeboxErrorFrom(fn: () => unknown): TimeboxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeboxError);
    return err as TimeboxError;
  }
  throw new Error('expected a TimeboxError, but nothing was thrown');
}

describe('parseCommand', () => {
  test.each(['', '   ', '\n\t '])('%j opens the form for accounts', (text) => {
    expect(parseCommand(text)).toEqual({ kind: 'modal', targets: 'account' });
  });

  test.each(['group', 'GROUP', '  Group  '])('%j alone opens the form for groups', (text) => {
    expect(parseCommand(text)).toEqual({ kind: 'modal', targets: 'group' });
  });

  test.each(['help', 'HELP', 'Help', '  help  ', '-h', '--help', '?'])('%j shows help', (text) => {
    expect(parseCommand(text)).toEqual({ kind: 'help' });
  });

  test.each([
    ['end R-0123456789', 'R-0123456789'],
    ['END r-abcdefghjk', 'R-ABCDEFGHJK'],
    ['  end   R-0123456789  ', 'R-0123456789'],
  ])('%j ends a request', (text, requestId) => {
    expect(parseCommand(text)).toEqual({ kind: 'end', requestId });
  });

  test.each(['end', 'end yesterday', 'end R-123', 'end R-0123456789X'])('%j asks which request to end', (text) => {
    expect(timeboxErrorFrom(() => parseCommand(text)).message).toContain('Say which request to end, e.g. `/aws-access end R-0123456789`');
  });

  test('an account called "end" is still requested with four words or more', () => {
    expect(parseCommand('end ReadOnly 1h looking')).toMatchObject({ kind: 'request', spec: { kind: 'account', accounts: ['end'], permissionSets: ['ReadOnly'] } });
  });

  test('the old single form still works: one account and one permission set are one-element lists', () => {
    expect(parseCommand('staging ReadOnly 2h fixing INC-1')).toEqual({
      kind: 'request',
      spec: { kind: 'account', accounts: ['staging'], permissionSets: ['ReadOnly'] },
      durationMs: 2 * H,
      reason: 'fixing INC-1',
    });
  });

  test('comma-separated accounts and permission sets become lists, in the order typed', () => {
    expect(parseCommand('staging,sandbox,111111111111 ReadOnly,Admin 2h incident 123')).toEqual({
      kind: 'request',
      spec: { kind: 'account', accounts: ['staging', 'sandbox', '111111111111'], permissionSets: ['ReadOnly', 'Admin'] },
      durationMs: 2 * H,
      reason: 'incident 123',
    });
  });

  test('keeps names as typed, duplicates included (resolution folds them, case-insensitively, later)', () => {
    const parsed = parseCommand('Staging,STAGING readonly 1h30m x');
    expect(parsed).toMatchObject({ kind: 'request', spec: { kind: 'account', accounts: ['Staging', 'STAGING'], permissionSets: ['readonly'] }, durationMs: 1.5 * H });
  });

  test('extra spaces, tabs and newlines anywhere are folded', () => {
    expect(parseCommand('  staging \n ReadOnly\t\t2h   fixing \n\n  INC-1  \n')).toEqual({
      kind: 'request',
      spec: { kind: 'account', accounts: ['staging'], permissionSets: ['ReadOnly'] },
      durationMs: 2 * H,
      reason: 'fixing INC-1',
    });
  });

  test.each([
    ['staging, ReadOnly 2h x', 'staging,', 'account'],
    [',staging ReadOnly 2h x', ',staging', 'account'],
    ['staging,,sandbox ReadOnly 2h x', 'staging,,sandbox', 'account'],
    ['staging ReadOnly, 2h x', 'ReadOnly,', 'permission set'],
    ['staging , 2h x', ',', 'permission set'],
  ])('an empty list item (%j) is refused, quoting the list and saying how to write one', (text, word, what) => {
    const err = timeboxErrorFrom(() => parseCommand(text));
    expect(err.code).toBe('invalid_command');
    expect(err.message).toContain(`"${word}"`);
    expect(err.message).toContain(`empty ${what}`);
    expect(err.message).toContain('commas and no spaces');
  });

  describe('group requests', () => {
    test('`group <groups> <duration> <reason>` asks for group membership', () => {
      expect(parseCommand('group oncall 2h paged for INC-9')).toEqual({
        kind: 'request',
        spec: { kind: 'group', groups: ['oncall'] },
        durationMs: 2 * H,
        reason: 'paged for INC-9',
      });
    });

    test('the keyword is case-insensitive; groups may be a comma-separated list kept as typed', () => {
      expect(parseCommand('GROUP oncall,DbAdmins 30m x')).toMatchObject({ kind: 'request', spec: { kind: 'group', groups: ['oncall', 'DbAdmins'] }, durationMs: 30 * 60_000 });
    });

    test('"group" is a keyword: `group ReadOnly 1h x` asks for a group called ReadOnly, not an account called group', () => {
      expect(parseCommand('group ReadOnly 1h x')).toMatchObject({ spec: { kind: 'group', groups: ['ReadOnly'] } });
      // An account really called "group" is asked for by its id.
      expect(parseCommand('111111111111 ReadOnly 1h x')).toMatchObject({ spec: { kind: 'account', accounts: ['111111111111'] } });
    });

    test('an empty group in the list is refused, naming the list', () => {
      const err = timeboxErrorFrom(() => parseCommand('group oncall, 1h x'));
      expect(err.code).toBe('invalid_command');
      expect(err.message).toContain('"oncall,"');
      expect(err.message).toContain('empty group');
    });

    test('too few words is invalid_command with usage', () => {
      const err = timeboxErrorFrom(() => parseCommand('group oncall'));
      expect(err.code).toBe('invalid_command');
      expect(err.message).toContain(USAGE);
    });

    test('a missing reason and a bad duration are refused as for accounts', () => {
      expect(timeboxErrorFrom(() => parseCommand('group oncall 2h')).code).toBe('missing_reason');
      expect(timeboxErrorFrom(() => parseCommand('group oncall soon because')).code).toBe('invalid_duration');
    });

    test('the usage explains the group form and the lists', () => {
      expect(USAGE).toContain('/aws-access group <groups> <duration> <reason');
      expect(USAGE).toContain('comma-separated');
    });
  });

  test('"help" followed by more words is not help', () => {
    expect(timeboxErrorFrom(() => parseCommand('help me')).code).toBe('invalid_command');
  });

  test('a missing reason is refused with missing_reason', () => {
    const err = timeboxErrorFrom(() => parseCommand('staging ReadOnly 2h'));
    expect(err.code).toBe('missing_reason');
    expect(err.message).toMatch(/reason/i);
  });

  test('a reason made only of control characters counts as missing', () => {
    expect(timeboxErrorFrom(() => parseCommand('staging ReadOnly 2h \u0000\u0007\u200b')).code).toBe('missing_reason');
  });

  test.each(['staging', 'staging ReadOnly'])('too few arguments (%j) is invalid_command with usage', (text) => {
    const err = timeboxErrorFrom(() => parseCommand(text));
    expect(err.code).toBe('invalid_command');
    expect(err.message).toContain(USAGE);
    expect(err.message).toContain('/aws-access <accounts> <permission-sets> <duration> <reason');
  });

  test.each(['2hours', '1.5h', 'soon', '0m', '400d'])('a bad duration (%j) is invalid_duration naming it', (duration) => {
    const err = timeboxErrorFrom(() => parseCommand(`staging ReadOnly ${duration} fixing INC-1`));
    expect(err.code).toBe('invalid_duration');
    expect(err.message).toContain(`"${duration}"`);
  });

  test('a bad duration is reported before a missing reason', () => {
    expect(timeboxErrorFrom(() => parseCommand('staging ReadOnly forever')).code).toBe('invalid_duration');
  });

  test(`a reason of exactly ${MAX_REASON_LENGTH} characters is accepted`, () => {
    const reason = 'a'.repeat(MAX_REASON_LENGTH);
    expect(parseCommand(`staging ReadOnly 2h ${reason}`)).toMatchObject({ reason });
  });

  test(`a reason over ${MAX_REASON_LENGTH} characters is refused with reason_too_long, giving the length`, () => {
    const err = timeboxErrorFrom(() => parseCommand(`staging ReadOnly 2h ${'a'.repeat(MAX_REASON_LENGTH + 1)}`));
    expect(err.code).toBe('reason_too_long');
    expect(err.message).toContain(String(MAX_REASON_LENGTH + 1));
    expect(err.message).toContain(String(MAX_REASON_LENGTH));
  });

  test('the length limit applies after white space is folded', () => {
    const words = Array.from({ length: 250 }, () => 'ab').join('     ');
    // 250 × "ab" joined by single spaces is 749 characters; folded that is still too long…
    expect(timeboxErrorFrom(() => parseCommand(`staging ReadOnly 2h ${words}`)).code).toBe('reason_too_long');
    // …but 100 words separated by runs of spaces fold down to 299 characters.
    const spaced = Array.from({ length: 100 }, () => 'ab').join(' '.repeat(20));
    expect(parseCommand(`staging ReadOnly 2h ${spaced}`)).toMatchObject({ reason: Array.from({ length: 100 }, () => 'ab').join(' ') });
  });

  test('control, zero-width and bidi characters are stripped from the reason', () => {
    const parsed = parseCommand('staging ReadOnly 2h fix\u0000ing\u0007 INC\u200b-1\u202e evil\u001b[31m red\u0085end');
    expect(parsed.kind).toBe('request');
    if (parsed.kind !== 'request') return;
    expect(parsed.reason).not.toMatch(STRIPPED);
    expect(parsed.reason).toBe('fix ing INC -1 evil [31m red end');
  });
});

describe('normaliseReason', () => {
  test('folds runs of white space and trims', () => {
    expect(normaliseReason('  a \r\n\t b  ')).toBe('a b');
  });
  test('an empty or blank reason is missing_reason', () => {
    expect(timeboxErrorFrom(() => normaliseReason('')).code).toBe('missing_reason');
    expect(timeboxErrorFrom(() => normaliseReason(' \n\u2028 ')).code).toBe('missing_reason');
  });
});

describe('parseCommand properties', () => {
  const nasty = fc.constantFrom(' ', '\n', '\t', '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u00a0', '\u200b', '\u2028', '\u202e', '\ufeff', 'é', '😀');
  const word = fc.oneof(
    fc.constantFrom('staging', 'ReadOnly', '2h', '90m', '1h30m', 'help', '?', '0m', 'x', 'end', 'R-0123456789'),
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
  );
  const commandish = fc
    .array(fc.oneof(word, nasty, fc.string({ unit: nasty, maxLength: 4 })), { maxLength: 20 })
    .map((parts) => parts.join(' '));
  const anyText = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    commandish,
    fc.tuple(fc.constantFrom('staging ReadOnly 2h '), fc.string({ unit: 'binary', minLength: 400, maxLength: 700 })).map(([a, b]) => a + b),
  );

  test('for ANY string: one of the known kinds, or a TimeboxError — never another exception', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        let parsed;
        try {
          parsed = parseCommand(text);
        } catch (err) {
          return err instanceof TimeboxError;
        }
        if (parsed.kind === 'end' || parsed.kind === 'status' || parsed.kind === 'cancel') return isRequestId(parsed.requestId);
        return ['help', 'modal', 'request', 'list'].includes(parsed.kind);
      }),
      { numRuns: 2_000 },
    );
  });

  test('a returned request has a non-empty reason, at most 500 characters, with no control characters', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        let parsed;
        try {
          parsed = parseCommand(text);
        } catch {
          return true;
        }
        if (parsed.kind !== 'request') return true;
        return (
          parsed.reason.length > 0 &&
          parsed.reason.length <= MAX_REASON_LENGTH &&
          parsed.reason === parsed.reason.trim() &&
          !STRIPPED.test(parsed.reason) &&
          !/\p{Cc}/u.test(parsed.reason)
        );
      }),
      { numRuns: 2_000 },
    );
  });

  test('requests built from valid lists always parse back to those lists', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/).filter((t) => !['group', 'end', 'help'].includes(t.toLowerCase()));
    const tokens = fc.array(token, { minLength: 1, maxLength: 4 });
    const reasonWord = fc.stringMatching(/^[A-Za-z0-9#:,.-]{1,10}$/);
    fc.assert(
      fc.property(tokens, tokens, fc.integer({ min: 1, max: 48 }), fc.array(reasonWord, { minLength: 1, maxLength: 10 }), (accounts, sets, hours, words) => {
        const parsed = parseCommand(`${accounts.join(',')} ${sets.join(',')} ${hours}h ${words.join('  ')}`);
        expect(parsed).toEqual({ kind: 'request', spec: { kind: 'account', accounts, permissionSets: sets }, durationMs: hours * H, reason: words.join(' ') });
        const group = parseCommand(`group ${accounts.join(',')} ${hours}h ${words.join(' ')}`);
        expect(group).toEqual({ kind: 'request', spec: { kind: 'group', groups: accounts }, durationMs: hours * H, reason: words.join(' ') });
      }),
    );
  });

  test('a list with an empty item is never a request', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
    const withHole = fc
      .tuple(fc.array(token, { maxLength: 3 }), fc.array(token, { maxLength: 3 }))
      .map(([before, after]) => [...before, '', ...after].join(','));
    fc.assert(
      fc.property(withHole, fc.constantFrom('accounts', 'sets', 'groups'), (list, where) => {
        const text = where === 'groups' ? `group ${list} 1h x` : where === 'accounts' ? `${list} ReadOnly 1h x` : `staging ${list} 1h x`;
        // A lone "" is no word at all; every other hole leaves a comma behind.
        if (!list.includes(',')) return true;
        try {
          parseCommand(text);
        } catch (err) {
          return err instanceof TimeboxError && err.code === 'invalid_command';
        }
        return false;
      }),
    );
  });
});

describe('daily-use: parsing list / status / cancel / help', () => {
  test('list alone, and status / cancel with an id in any case', () => {
    expect(parseCommand('list')).toEqual({ kind: 'list' });
    expect(parseCommand('  LIST ')).toEqual({ kind: 'list' });
    expect(parseCommand('status r-0123456789')).toEqual({ kind: 'status', requestId: 'R-0123456789' });
    expect(parseCommand('Cancel R-0123456789')).toEqual({ kind: 'cancel', requestId: 'R-0123456789' });
  });

  test('a missing or malformed id names the subcommand and the problem', () => {
    expect(timeboxErrorFrom(() => parseCommand('cancel')).message).toContain('Say which request to cancel, e.g. `/aws-access cancel R-0123456789`');
    expect(timeboxErrorFrom(() => parseCommand('status 42')).message).toContain('"42" is not a request id');
  });

  test('four words or more are a request, even for an account named list, status or cancel; an object key is no subcommand', () => {
    expect(parseCommand('list ReadOnly 1h reason').kind).toBe('request');
    expect(parseCommand('cancel ReadOnly 1h reason').kind).toBe('request');
    expect(() => parseCommand('constructor R-0123456789')).toThrow(TimeboxError);
    expect(timeboxErrorFrom(() => parseCommand('constructor R-0123456789')).code).toBe('invalid_command');
  });

  test('the usage names every subcommand', () => {
    for (const sub of ['/aws-access list', '/aws-access status <request id>', '/aws-access cancel <request id>', '/aws-access end <request id>', '/aws-access help', '/aws-access group']) expect(USAGE).toContain(sub);
  });
});
