/** When a schedule fires: ahead of the job's time when there is room, so the revoke is on time. */
import { fireTime } from '../../../src/adapters/scheduler/eventbridge-scheduler';

const at = (iso: string) => Date.parse(iso);

describe('fireTime', () => {
  it('names a minute that is over before the time (Scheduler fires somewhere within it), 60 to 120 s ahead', () => {
    const due = at('2030-01-01T12:00:30Z');
    expect(fireTime(due, at('2030-01-01T11:00:00Z'))).toEqual({ expression: 'at(2030-01-01T11:59:00)', ahead: true });
    // Whatever second Scheduler picks in that minute, it is before the time, and at most 2 minutes before.
    const minute = at('2030-01-01T11:59:00Z');
    expect(minute + 59_999).toBeLessThan(due);
    expect(due - minute).toBeLessThanOrEqual(120_000);
  });

  it('a time on the minute: the minute before it', () => {
    expect(fireTime(at('2030-01-01T12:00:00Z'), at('2030-01-01T11:00:00Z')).expression).toBe('at(2030-01-01T11:59:00)');
  });

  it('too soon to fire ahead: the minute after the time instead (never early)', () => {
    const due = at('2030-01-01T12:00:30Z');
    expect(fireTime(due, at('2030-01-01T11:58:55Z'))).toEqual({ expression: 'at(2030-01-01T12:01:00)', ahead: false });
  });
});
