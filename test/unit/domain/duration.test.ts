import fc from 'fast-check';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../../src/domain/duration';
import { TimeboxError } from '../../../src/domain/errors';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/** Runs fn and returns the TimeboxError it throws; fails the test if it throws nothing or something else. */
function timeboxErrorFrom(fn: () => unknown): TimeboxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TimeboxError);
    return err as TimeboxError;
  }
  throw new Error('expected a TimeboxError, but nothing was thrown');
}

describe('parseDuration', () => {
  test.each([
    ['45s', 45 * S],
    ['30m', 30 * M],
    ['90m', 90 * M],
    ['2h', 2 * H],
    ['1h30m', H + 30 * M],
    ['1d', D],
    ['1d2h3m4s', D + 2 * H + 3 * M + 4 * S],
    ['366d', 366 * D],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([
    ['2H', 2 * H],
    ['1H30M', H + 30 * M],
    ['45S', 45 * S],
    ['1D', D],
  ])('is case-insensitive: %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([' 2h', '2h ', '  1h30m\t', '\n30m\n'])('ignores white space around %j', (text) => {
    expect(parseDuration(text)).toBe(parseDuration(text.trim()));
  });

  describe('malformed input is refused with the format to use', () => {
    test.each(['', '   ', '2 hours', '90', '1m1h', '1h 30m', '-5m', '1.5h', 'h', '2x', 'soon', '1hh', '2h2h'])('%j', (text) => {
      const err = timeboxErrorFrom(() => parseDuration(text));
      expect(err.code).toBe('invalid_duration');
      expect(err.message).toContain(`"${text}"`);
      expect(err.message).toContain('90m, 2h, 1h30m');
    });
  });

  describe('out-of-range values are refused, naming the input and the allowed range', () => {
    test.each([
      ['0m', '0m'],
      ['0s', '0s'],
      ['0h0m', '0h0m'],
      ['367d', '367d'],
      ['366d1s', '366d1s'],
      ['8785h', '8785h'],
      ['20-digit days', '99999999999999999999d'],
      ['400-digit seconds (beyond Number range)', `${'9'.repeat(400)}s`],
    ])('%s', (_label, text) => {
      const err = timeboxErrorFrom(() => parseDuration(text));
      expect(err.code).toBe('invalid_duration');
      expect(err.message).toContain(`"${text.slice(0, 40)}`);
      expect(err.message).toMatch(/1s and 366d/);
    });
  });

  test('a very long input is quoted only in part, so the message stays readable', () => {
    const text = 'x'.repeat(5_000);
    const err = timeboxErrorFrom(() => parseDuration(text));
    expect(err.code).toBe('invalid_duration');
    expect(err.message.length).toBeLessThan(200);
  });

  test('accepts exactly the maximum and refuses one second more', () => {
    expect(parseDuration('366d')).toBe(MAX_DURATION_MS);
    expect(() => parseDuration('366d1s')).toThrow(TimeboxError);
  });

  test('property: any string either parses to a whole number of seconds in 1s..366d or throws invalid_duration', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^\d{0,4}[dhms ]?\d{0,4}[dhmsDHMS]?$/)), (text) => {
        let ms: number;
        try {
          ms = parseDuration(text);
        } catch (err) {
          return err instanceof TimeboxError && err.code === 'invalid_duration';
        }
        return Number.isInteger(ms / S) && ms >= S && ms <= MAX_DURATION_MS;
      }),
    );
  });
});

describe('formatDuration', () => {
  test.each([
    [45 * S, '45s'],
    [30 * M, '30m'],
    [90 * M, '1h30m'],
    [2 * H, '2h'],
    [D, '1d'],
    [D + 2 * H + 3 * M + 4 * S, '1d2h3m4s'],
    [D + 5 * S, '1d5s'],
    [0, '0s'],
  ])('renders %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('rounds to whole seconds and never renders a negative', () => {
    expect(formatDuration(1_499)).toBe('1s');
    expect(formatDuration(1_500)).toBe('2s');
    expect(formatDuration(-5 * M)).toBe('0s');
  });

  test('property: parseDuration(formatDuration(ms)) === ms for every whole number of seconds in 1s..366d', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_DURATION_MS / S }), (seconds) => {
        const ms = seconds * S;
        return parseDuration(formatDuration(ms)) === ms;
      }),
      { numRuns: 2_000 },
    );
  });
});
