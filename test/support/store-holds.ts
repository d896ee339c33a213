import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** One DynamoDB command as the store sent it (marshalled input), for matching a hold. */
export interface StoreCall {
  command: string;
  input: unknown;
}

export interface StoreHold {
  /** Resolves when the first held call comes in. */
  arrived: Promise<StoreCall>;
  /** Calls held so far (each waits until release). */
  readonly held: number;
  /** Lets every held call (and every later matching one) through. */
  release(): void;
}

/**
 * Holds every call the store sends to DynamoDB that `match` accepts, unanswered, until `release()`:
 * a slow table (one partition hot, a throttled index) as the process would see it, for the calls
 * chosen. Installed as client middleware, as a proxy between Timebox and the table would sit.
 */
export function holdStoreCalls(dynamo: DynamoDBClient, match: (call: StoreCall) => boolean): StoreHold {
  let release!: () => void;
  let arrived!: (call: StoreCall) => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const arrival = new Promise<StoreCall>((resolve) => (arrived = resolve));
  let open = false;
  let held = 0;
  const name = `storeHold${Math.random().toString(36).slice(2)}`;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const call = { command: (context as { commandName?: string }).commandName ?? 'unknown', input: (args as { input: unknown }).input };
      if (!open && match(call)) {
        held += 1;
        arrived(call);
        await released;
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    arrived: arrival,
    get held() {
      return held;
    },
    release: () => {
      open = true;
      release();
      dynamo.middlewareStack.remove(name);
    },
  };
}
