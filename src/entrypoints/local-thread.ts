import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../app/ports';
import { boltLogger } from '../adapters/slack/bolt-logger';
import { SlackFront, type SlackHttpAnswer } from '../adapters/slack/slack-front';
import { DiscoveryFailedError } from '../domain/catalogue';
import type { FromWorkflowThread, ToWorkflowThread, WorkflowThreadInput } from './workflow-thread';

export interface ThreadedRuntimeOptions extends WorkflowThreadInput {
  /** The main thread's logger (the workflow thread makes its own from `log`). */
  logger: Logger;
}

export interface ThreadedRuntime {
  /** Base URL of the HTTP server. */
  url: string;
  /** Closes the HTTP server, lets the workflow thread finish what it was handed and stop, and ends it. */
  stop(): Promise<void>;
}

/**
 * The local process over HTTP, on two threads. This one runs only the HTTP server, the request
 * checks (SlackFront) and the ack, so an ack never waits behind earlier requests' work; the
 * workflow thread (workflow-thread.ts) runs the Bolt app, the workflow and the store. Requests are
 * handed over by postMessage: most are acked with an empty 200 first and answered on their
 * response_url; those whose answer must be in the reply make a round trip.
 *
 * A crash of the workflow thread is a crash of the process: its error is logged and the process
 * exits 1, so whatever restarts Timebox restarts it, and the start-up sweep picks up, as after any crash.
 */
export async function startThreadedRuntime(options: ThreadedRuntimeOptions): Promise<ThreadedRuntime> {
  const { logger, ...input } = options;
  const worker = startWorkflowThread(input);
  let state: 'starting' | 'running' | 'stopping' | 'stopped' = 'starting';
  const pending = new Map<number, (answer: SlackHttpAnswer) => void>();
  let nextId = 0;
  let onStopped: () => void = () => undefined;

  const crash = (what: string) => {
    logger.error({ err: what }, 'the workflow thread crashed');
    process.stderr.write(`timebox: the workflow thread crashed: ${what}\n`);
    process.exit(1);
  };
  const started = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: FromWorkflowThread) => {
      if (message.type === 'ready') {
        state = 'running';
        resolve();
      } else if (message.type === 'failed') {
        reject(message.code === 'discovery_failed' ? new DiscoveryFailedError(message.message) : new Error(message.message));
      } else if (message.type === 'answer') {
        pending.get(message.id)?.(message.answer);
        pending.delete(message.id);
      } else if (message.type === 'stopped') {
        state = 'stopped';
        onStopped();
      }
    });
    worker.on('error', (err) => {
      const outOfMemory = (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      if (state === 'starting') reject(err);
      // Nothing is lost (the store says what is left to do), but the operator must know what to raise.
      else if (outOfMemory) crash(`it ran out of memory (TIMEBOX_WORKFLOW_HEAP_MB is ${input.env.TIMEBOX_WORKFLOW_HEAP_MB}; raise it): ${err.message}`);
      else crash(err.stack ?? err.message);
    });
    worker.on('exit', (code) => {
      if (state === 'starting') reject(new Error(`the workflow thread exited (code ${code}) before it was ready`));
      else if (state !== 'stopped') crash(`it exited (code ${code})`);
    });
  });
  try {
    await started;
  } catch (err) {
    await worker.terminate();
    throw err;
  }

  const post = (message: ToWorkflowThread) => worker.postMessage(message);
  const front = new SlackFront({
    signingSecret: input.env.SLACK_SIGNING_SECRET,
    logger: boltLogger(logger),
    replyWhen: 'ack',
    isReady: () => state === 'running',
    handOff: (request) => {
      post({ type: 'lazy', request });
      return Promise.resolve();
    },
    answerInReply: (request) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        post({ type: 'reply', id, request });
      }),
  });
  try {
    await front.start(input.env.PORT);
  } catch (err) {
    state = 'stopped';
    await worker.terminate();
    throw err;
  }
  const url = `http://127.0.0.1:${front.port}`;
  logger.info({ url, mode: 'http', store: input.env.TIMEBOX_TABLE ?? 'embedded' }, 'timebox is ready');

  let stopping: Promise<void> | undefined;
  return {
    url,
    stop: () =>
      (stopping ??= (async () => {
        state = 'stopping';
        await front.stop();
        await new Promise<void>((resolve) => {
          onStopped = resolve;
          post({ type: 'stop' });
        });
        await worker.terminate();
      })()),
  };
}

/**
 * The workflow thread, from the same tree as this file: the build's .js, or in a clone the
 * TypeScript source through tsx (registered in the thread, as bin/timebox.js does).
 */
function startWorkflowThread(given: WorkflowThreadInput): Worker {
  // Data crosses to the thread, objects with methods do not: the config's catalogue goes as its snapshot.
  const input: WorkflowThreadInput = { ...given, configSnapshot: given.config.policy.catalogue.current() };
  const entry = join(__dirname, `workflow-thread${extname(__filename)}`);
  // The heap limit also sets how far V8 lets the heap grow past what is live (TIMEBOX_WORKFLOW_HEAP_MB).
  const resourceLimits = { maxOldGenerationSizeMb: given.env.TIMEBOX_WORKFLOW_HEAP_MB };
  if (extname(entry) !== '.ts') return new Worker(entry, { workerData: input, resourceLimits });
  const tsx = require.resolve('tsx/cjs/api');
  return new Worker(`require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`, { eval: true, workerData: input, resourceLimits });
}
