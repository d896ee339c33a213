import { findRequestId } from '../../src/domain/request-id';
import { functionUrlEvent } from '../support/lambda-events';
import { LAMBDA, LambdaWorld, type FunctionUrlResponse } from '../support/lambda-world';
import { SlackRequestSender } from '../support/slack-requests';
import { PEOPLE, SIGNING_SECRET } from '../support/timebox-harness';

/** The name Lambda gives the Slack function (AWS_LAMBDA_FUNCTION_NAME): it hands requests to itself under it. */
const SLACK_FUNCTION = 'timebox-slack';

interface LazyEvent {
  lazyListener: { headers: Record<string, string>; rawBody: string };
}

/**
 * Lazy listeners on AWS: the Slack function checks the request, replies to Slack at once, and hands
 * the request to an asynchronous invocation of itself (run here from what it sent to the AWS
 * stand-in, as Lambda's async invoke would), which answers the person on the response_url.
 */
// One world per file: the handlers keep their runtime for the module's life.
let w: LambdaWorld;
beforeAll(async () => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = SLACK_FUNCTION;
  w = await LambdaWorld.start();
});
afterAll(async () => {
  await w.stop();
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
});
afterEach(() => {
  w.aws.clearFaults();
  w.slackApi.clearFaults();
  w.aws.takeInvocations();
});

describe('performance-2: lazy listeners on the Lambda path', () => {
  // Builds Slack's payloads (it sends nothing: the Lambda handler is called directly).
  const payloads = new SlackRequestSender({ url: 'http://127.0.0.1:1/unused', signingSecret: SIGNING_SECRET });
  const signedForm = (payload: unknown) => functionUrlEvent(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), { signingSecret: SIGNING_SECRET });
  const handedToSelf = () => w.aws.invocations(SLACK_FUNCTION);

  test('a slash command gets an empty reply before anything is filed; the lazy invocation files it and answers the person on the response_url', async () => {
    const reply = await w.command('carol', 'production Admin 30m lazy reply');
    expect(reply.statusCode).toBe(200);
    expect(reply.body ?? '').toBe('');
    // Nothing was done on the reply's clock: no answer yet, nothing handed to the worker.
    expect(w.slackApi.responses(reply.responseUrl)).toEqual([]);
    expect(w.aws.invocations(LAMBDA.worker)).toEqual([]);
    expect(handedToSelf().map((i) => i.invocationType)).toEqual(['Event']);

    expect(await w.runLazyListeners(SLACK_FUNCTION)).toEqual([{ statusCode: 200, body: '' }]);
    const [answer] = w.slackApi.responses(reply.responseUrl);
    expect(answer?.body).toMatchObject({ response_type: 'ephemeral' });
    const text = String(answer?.body.text);
    expect(text).toContain('waiting for approval');
    const id = findRequestId(text)!;
    expect((await w.store.getRequest(id))?.requester.slackUserId).toBe(PEOPLE.carol.id);
    expect(w.aws.invocations(LAMBDA.worker).map((i) => JSON.parse(i.payload) as unknown)).toEqual([{ requestId: id }]);
  });

  test('what Slack needs in the reply stays in it: a type-ahead gets its options and a form with a bad duration its errors, and neither is handed off', async () => {
    const suggestion = (await w.slack(signedForm(payloads.blockSuggestionPayload({ userId: PEOPLE.carol.id, actionId: 'account', blockId: 'account', value: 'stag', callbackId: 'timebox_request' })))) as FunctionUrlResponse;
    expect(suggestion.statusCode).toBe(200);
    expect((JSON.parse(suggestion.body ?? '{}') as { options: Array<{ value: string }> }).options.map((o) => o.value)).toEqual(['111111111111']);

    const submission = payloads.blockSuggestionPayload({ userId: PEOPLE.carol.id, actionId: 'x', value: '' }) as Record<string, unknown>;
    const form = {
      ...submission,
      type: 'view_submission',
      view: {
        id: 'V0LAZY0001', type: 'modal', callback_id: 'timebox_request', private_metadata: '{}',
        state: { values: { account: { account: { selected_options: [{ value: '111111111111' }] } }, permission_set: { permission_set: { selected_options: [{ value: 'ReadOnly' }] } }, duration: { duration: { value: 'soon' } }, reason: { reason: { value: 'bad duration' } } } },
      },
    };
    const errors = (await w.slack(signedForm(form))) as FunctionUrlResponse;
    expect(errors.statusCode).toBe(200);
    expect(JSON.parse(errors.body ?? '{}')).toMatchObject({ response_action: 'errors', errors: { duration: expect.any(String) } });
    expect(handedToSelf()).toEqual([]);
  });

  test('the hand-off fails (Lambda refuses the Invoke): the command is run in the reply instead, and the person still gets the answer on the response_url', async () => {
    w.aws.injectFault('Invoke', { type: 'ResourceNotFoundException', message: 'Function not found: timebox-slack' }, 1);
    const reply = await w.command('carol', 'production Admin 30m hand-off refused');
    expect(reply.statusCode).toBe(200);
    expect(handedToSelf()).toEqual([]);
    const text = String(w.slackApi.responses(reply.responseUrl)[0]?.body.text);
    expect(text).toContain('waiting for approval');
    const id = findRequestId(text)!;
    expect(await w.store.getRequest(id)).toBeDefined();
  });

  test('a forged lazy event is refused: a bad signature, a handed-off request with its text changed, and a lazy event sent over HTTP file nothing and answer nobody', async () => {
    const reply = await w.command('carol', 'staging ReadOnly 30m genuine');
    const [handed] = w.aws.takeInvocations(SLACK_FUNCTION);
    const genuine = JSON.parse(handed!.payload) as LazyEvent;

    const badSignature: LazyEvent = { lazyListener: { ...genuine.lazyListener, headers: { ...genuine.lazyListener.headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` } } };
    expect(await w.slack(badSignature)).toEqual({ statusCode: 401, body: '' });
    const changed: LazyEvent = { lazyListener: { ...genuine.lazyListener, rawBody: genuine.lazyListener.rawBody.replace('staging+ReadOnly+30m', 'production+Admin+8h') } };
    expect(changed.lazyListener.rawBody).not.toBe(genuine.lazyListener.rawBody);
    expect(await w.slack(changed)).toEqual({ statusCode: 401, body: '' });
    // Through the Function URL a lazy event is only a body: unsigned, it is refused by the guard.
    const overHttp = functionUrlEvent(JSON.stringify(genuine), { signingSecret: SIGNING_SECRET, signature: 'v0=forged', contentType: 'application/json' });
    expect(((await w.slack(overHttp)) as FunctionUrlResponse).statusCode).toBe(401);

    expect(w.slackApi.responses(reply.responseUrl)).toEqual([]);
    expect(w.aws.invocations(LAMBDA.worker)).toEqual([]);
    expect(handedToSelf()).toEqual([]);
    // The genuine one still works.
    await w.slack(genuine);
    expect(String(w.slackApi.responses(reply.responseUrl)[0]?.body.text)).toContain('approved automatically');
  });
});

describe('performance-2: the form on the Lambda path is acked before views.open', () => {
  test('/aws-access alone: the reply is empty and goes back before views.open; the lazy invocation then opens the form with the command\'s trigger_id', async () => {
    const reply = await w.command('carol', '');
    expect(reply.statusCode).toBe(200);
    expect(reply.body ?? '').toBe('');
    const opened = () => w.slackApi.openedViews().filter((v) => v.trigger_id === reply.triggerId);
    expect(opened()).toEqual([]);
    await w.runLazyListeners(SLACK_FUNCTION);
    expect(opened()).toHaveLength(1);
    expect(w.slackApi.responses(reply.responseUrl)).toEqual([]);
  });

  test('Slack refuses to open the form (expired_trigger_id): the person gets an ephemeral answer naming it on the response_url', async () => {
    w.slackApi.injectFault('views.open', { error: 'expired_trigger_id' }, 1);
    const reply = await w.command('carol', '');
    await w.runLazyListeners(SLACK_FUNCTION);
    const [answer] = w.slackApi.responses(reply.responseUrl);
    expect(answer?.body).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer?.body.text)).toContain('The form did not open: Slack refused to open it (`expired_trigger_id`)');
  });
});
