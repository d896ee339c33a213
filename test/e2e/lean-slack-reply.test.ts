import { LatencyProxy, type ProxiedRequest } from '../../bench/latency-proxy';
import { CATALOGUE_NOT_READY } from '../../src/entrypoints/lambda/lambda-catalogue';
import { LambdaWorld } from '../support/lambda-world';
import { DISCOVERING_CONFIG_HEAD } from '../support/timebox-harness';

/** The name Lambda gives the Slack function (AWS_LAMBDA_FUNCTION_NAME): it hands requests to itself under it. */
const SLACK_FUNCTION = 'timebox-slack';
const CONFIG = `${DISCOVERING_CONFIG_HEAD}
  - name: everyone-readonly
    accounts: ["ou:ou-ab12-00000001"]
    permissionSets: [ReadOnly]
    requesters: ["*"]
    autoApprove: true
    maxDuration: 1h
`;

/**
 * The Slack function's reply on AWS, at a cold start, with a config that discovers (so running a
 * listener reads the discovery cache in the table): what the reply waits for is only what handing
 * the request over needs (the signing secret, the Invoke), never the table, the config or the App.
 */
// One world per file: the handlers keep their runtime for the module's life.
let w: LambdaWorld;
let proxy: LatencyProxy;
const tableCalls: string[] = [];
beforeAll(async () => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = SLACK_FUNCTION;
  w = await LambdaWorld.start(CONFIG);
  // Every DynamoDB call the functions make, counted on the wire (no latency added).
  proxy = await LatencyProxy.start('dynamodb', w.dynamo.endpoint, 0, (req: ProxiedRequest) => tableCalls.push(String(req.headers['x-amz-target'] ?? '')));
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
});
afterAll(async () => {
  await proxy.close();
  await w.stop();
  delete process.env.AWS_LAMBDA_FUNCTION_NAME;
});

describe('performance-2: the Slack function replies after the hand-off alone', () => {
  test('a cold start answering a slash command reads nothing from the table before its empty reply (only the secret and the Invoke); the lazy invocation then reads the discovery cache and answers the person', async () => {
    const reply = await w.command('carol', 'workloads-shared ReadOnly 30m lean reply');
    expect({ status: reply.statusCode, body: reply.body ?? '', tableCallsBeforeReply: tableCalls.slice() }).toEqual({ status: 200, body: '', tableCallsBeforeReply: [] });
    expect(w.aws.calls.map((c) => c.operation)).toEqual(['GetSecretValue', 'Invoke']);

    expect(await w.runLazyListeners(SLACK_FUNCTION)).toEqual([{ statusCode: 200, body: '' }]);
    // The lazy invocation read the cache (there is none yet: the sweep has not read the organisation) and said so.
    expect(tableCalls.filter((t) => t.endsWith('.GetItem')).length).toBeGreaterThan(0);
    const [answer] = w.slackApi.responses(reply.responseUrl);
    expect(String(answer?.body.text)).toContain(CATALOGUE_NOT_READY.slice(0, 60));
  });
});
