import { createRequire } from 'node:module';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import pino from 'pino';
import { createLogger } from '../adapters/logger';
import type { LazyRequest, SlackHttpAnswer } from '../adapters/slack/slack-front';
import type { TimeboxConfig } from '../config/config-schema';
import type { LocalEnv } from '../config/env';
import type { CatalogueSnapshot } from '../domain/catalogue';
import { staticCatalogue } from '../domain/catalogue-view';
import { startLocalRuntime, type LocalRuntimeOptions } from './local-runtime';

/**
 * The local process's workflow thread (started by local-thread.ts): the Bolt app and its listeners,
 * the worker, notifier, sweep and timers, and the embedded store, all off the event loop that
 * answers Slack. The main thread checks each request and acks it; what it hands here runs to its end.
 */

/** What the main thread gives the workflow thread (structured-cloned, so data only). */
export interface WorkflowThreadInput {
  env: LocalEnv;
  config: TimeboxConfig;
  /** The thread's own logger: pino at this level, on this file descriptor. */
  log: { level: string; fd: 1 | 2 };
  runtime: Pick<LocalRuntimeOptions, 'workflow' | 'identityCenter' | 'slackUserGroupCacheMs' | 'sweepIntervalMs' | 'reconcileIntervalMs' | 'skipAwsCheck'>;
  /** Modules required in this thread before it starts (tests: recording this thread's AWS calls, injecting a crash); their `onStop` exports, if any, run once the workflow has stopped. */
  preload?: string[];
  /** What can be granted, instead of the config's lists (a snapshot: data crosses to the thread, objects do not). */
  catalogueSnapshot?: CatalogueSnapshot;
  /** The config's own catalogue (config.policy.catalogue), as its snapshot: set by local-thread.ts, rebuilt in the thread. */
  configSnapshot?: CatalogueSnapshot;
}

export type ToWorkflowThread =
  /** A request acked with an empty 200: run its listener to the end (it answers on the response_url). */
  | { type: 'lazy'; request: LazyRequest }
  /** A request whose answer goes in the HTTP reply: answer `id`. */
  | { type: 'reply'; id: number; request: LazyRequest }
  /** Finish what was handed over, stop the workflow, say 'stopped'. */
  | { type: 'stop' };

export type FromWorkflowThread =
  | { type: 'ready' }
  /** `code`: a coded error's code, so the main thread can tell a one-line start-up refusal (discovery_failed) apart. */
  | { type: 'failed'; message: string; code?: string }
  | { type: 'answer'; id: number; answer: SlackHttpAnswer }
  | { type: 'stopped' };

async function run(port: MessagePort, input: WorkflowThreadInput): Promise<void> {
  // Required, not imported: in a clone the thread has tsx's CommonJS hook only (see local-thread.ts).
  const load = createRequire(__filename);
  const hooks = (input.preload ?? []).map((path) => load(path) as { onStop?: () => void });
  const logger = createLogger(input.log.level, pino.destination({ dest: input.log.fd, sync: true }));
  const runtime = await startLocalRuntime({
    env: input.env,
    config: input.configSnapshot ? { ...input.config, policy: { ...input.config.policy, catalogue: staticCatalogue(input.configSnapshot) } } : input.config,
    logger,
    ...input.runtime,
    ...(input.catalogueSnapshot ? { catalogue: staticCatalogue(input.catalogueSnapshot) } : {}),
    listen: false,
  });
  const front = runtime.front;
  if (!front) throw new Error('the workflow thread serves Slack over HTTP only (Socket Mode runs in one thread)');
  const send = (message: FromWorkflowThread) => port.postMessage(message);

  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  const failed = (err: unknown) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'could not serve a Slack request');
  let stopping = false;
  port.on('message', (message: ToWorkflowThread) => {
    if (message.type === 'lazy') {
      track(front.handleLazyRequest(message.request).catch(failed));
    } else if (message.type === 'reply') {
      track(
        front.handle(message.request).then(
          (answer) => send({ type: 'answer', id: message.id, answer }),
          (err: unknown) => {
            failed(err);
            send({ type: 'answer', id: message.id, answer: { status: 500, headers: {}, body: '' } });
          },
        ),
      );
    } else if (message.type === 'stop' && !stopping) {
      stopping = true;
      // The HTTP server is already closed: what was handed over finishes, then the workflow drains and stops.
      void Promise.allSettled([...inFlight])
        .then(() => runtime.stop())
        .then(() => {
          for (const hook of hooks) hook.onStop?.();
          send({ type: 'stopped' });
        });
    }
  });
  send({ type: 'ready' });
}

if (parentPort) {
  const port = parentPort;
  run(port, workerData as WorkflowThreadInput).catch((err: unknown) => {
    const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err), ...(code ? { code } : {}) } satisfies FromWorkflowThread);
  });
}
