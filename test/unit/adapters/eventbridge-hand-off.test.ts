/** The waiter's hand-off and the backup schedule: the schedule never depends on the hand-off. */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { EventBridgeScheduler, scheduleName } from '../../../src/adapters/scheduler/eventbridge-scheduler';
import type { AdvanceJob } from '../../../src/app/ports';
import { AwsStandIn } from '../../support/aws-stand-in';
import { SilentLogger } from '../../support/in-memory-ports';

const WORKER_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:timebox-worker';
const WAITER_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:timebox-sweep';
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('reliability-3: a failed hand-off to the waiter keeps the backup schedule (adapter)', () => {
  let aws: AwsStandIn;
  let logger: SilentLogger;
  let handedOff: AdvanceJob[];
  /** The schedules there were as each job was handed to the waiter. */
  let schedulesAtHandOff: string[][];
  let failHandOff: boolean;
  let scheduler: EventBridgeScheduler;

  beforeEach(async () => {
    aws = await AwsStandIn.start();
    logger = new SilentLogger();
    handedOff = [];
    schedulesAtHandOff = [];
    failHandOff = false;
    const client = new SchedulerClient({ endpoint: aws.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIASTANDINDUMMYKEY0', secretAccessKey: 'dummy' }, maxAttempts: 1 });
    scheduler = new EventBridgeScheduler(
      client,
      {
        groupName: 'timebox',
        targetArn: WORKER_ARN,
        roleArn: 'arn:aws:iam::123456789012:role/timebox-scheduler',
        waiterArn: WAITER_ARN,
        handOff: async (job) => {
          if (failHandOff) throw new Error('TooManyRequestsException: Rate exceeded');
          handedOff.push(job);
          schedulesAtHandOff.push(aws.schedules().map((x) => x.name));
        },
        logger,
      },
      () => NOW,
    );
  });

  afterEach(async () => {
    await aws.close();
  });

  test('the hand-off throws (Lambda throttling): the schedule for the minute after is made anyway, scheduleAt resolves, and the failure is logged naming the request', async () => {
    failHandOff = true;
    await expect(scheduler.scheduleAt({ requestId: 'R-0000000001' }, NOW + 30_000)).resolves.toBeUndefined();
    expect(aws.schedules()).toMatchObject([{ name: scheduleName('R-0000000001'), targetArn: WORKER_ARN, expression: 'at(2030-01-01T12:01:00)' }]);
    expect(aws.callsTo('CreateSchedule')).toHaveLength(1);
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'warn', obj: expect.objectContaining({ requestId: 'R-0000000001' }), msg: expect.stringContaining('could not hand the job to the waiter') })]);
  });

  test('Scheduler refuses the schedule: the job is still handed to the waiter (on time), and the refusal is thrown for the caller to log', async () => {
    aws.injectFault('CreateSchedule', { type: 'InternalServerException', message: 'Scheduler is down' });
    await expect(scheduler.scheduleAt({ requestId: 'R-0000000002' }, NOW + 30_000)).rejects.toThrow('Scheduler is down');
    expect(aws.schedules()).toEqual([]);
    expect(handedOff).toEqual([{ requestId: 'R-0000000002', notBefore: NOW + 30_000 }]);
  });

  test('both work: the schedule is made before the waiter is handed the job', async () => {
    await scheduler.scheduleAt({ requestId: 'R-0000000003' }, NOW + 30_000);
    expect(handedOff).toEqual([{ requestId: 'R-0000000003', notBefore: NOW + 30_000 }]);
    expect(schedulesAtHandOff).toEqual([[scheduleName('R-0000000003')]]);
    expect(logger.entries).toEqual([]);
  });
});
