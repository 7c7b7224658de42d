import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ActionContext,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { JsonObject, JsonValue } from '@backstage/types';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillInputDefaults } from '../actions/withInputDefaults';

/** This test file's workspaces, all under one folder that is removed after its tests. */
let workspaces: string | undefined;
if (typeof afterAll === 'function') {
  afterAll(() => {
    if (workspaces) {
      rmSync(workspaces, { recursive: true, force: true });
      workspaces = undefined;
    }
  });
}

/**
 * A fresh, empty workspace folder for one action context, removed after the test file's tests.
 * (The scaffolder test utils' default workspace is left behind whenever CI is set, as the test
 * command sets it, which filled /tmp with hundreds of folders per run.)
 */
export function testWorkspace(): string {
  workspaces ??= mkdtempSync(join(tmpdir(), 'mlflow-action-tests-'));
  return mkdtempSync(join(workspaces, 'workspace-'));
}

/**
 * What a task remembers between runs: the stored checkpoint results. Pass the same store to a
 * second context to simulate task recovery.
 */
export type CheckpointStore = Map<string, JsonValue | undefined>;

export type RecordedContext<
  TInput extends JsonObject,
  TOutput extends JsonObject,
> = {
  ctx: ActionContext<TInput, TOutput>;
  /** Every log line, with its level, in order. */
  logs: Array<{ level: string; message: string; meta?: string }>;
  outputs: Record<string, JsonValue>;
  store: CheckpointStore;
  /** Keys of the checkpoints whose function actually ran in this context (not replayed). */
  executed: string[];
  /** Keys of every checkpoint asked for, executed or replayed. */
  requested: string[];
  /** Every log message, output and checkpoint key as one text, for scanning for secrets. */
  everythingVisible(): string;
};

function recordingLogger(
  logs: RecordedContext<JsonObject, JsonObject>['logs'],
  fields: JsonObject = {},
): LoggerService {
  const record =
    (level: string) => (message: string, meta?: Error | JsonObject) => {
      const all =
        meta instanceof Error
          ? { ...fields, error: meta.message }
          : { ...fields, ...meta };
      logs.push({
        level,
        message,
        meta: Object.keys(all).length > 0 ? JSON.stringify(all) : undefined,
      });
    };
  return {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    child: meta => recordingLogger(logs, { ...fields, ...meta }),
  };
}

/**
 * A mock action context whose `checkpoint` stores each result by key and replays it on the next
 * call with that key (like a recovered task), which refuses checkpoints during dry-run (a
 * checkpoint wraps a mutation, and dry-run must not mutate), and which records every log line and
 * output.
 */
export function createCheckpointingContext<
  TInput extends JsonObject,
  TOutput extends JsonObject,
>(
  action: TemplateAction<TInput, TOutput, 'v2'>,
  options: {
    /** Raw step input; defaults are filled in as in production, nothing else is checked. */
    input: JsonObject;
    isDryRun?: boolean;
    signal?: AbortSignal;
    store?: CheckpointStore;
    workspacePath?: string;
  },
): RecordedContext<TInput, TOutput> {
  const logs: RecordedContext<TInput, TOutput>['logs'] = [];
  const outputs: Record<string, JsonValue> = {};
  const store: CheckpointStore = options.store ?? new Map();
  const executed: string[] = [];
  const requested: string[] = [];
  const base = createMockActionContext<TInput, TOutput>({
    // The same default-filling as the module's registered actions.
    input: fillInputDefaults(action, options.input) as TInput,
    isDryRun: options.isDryRun,
    signal: options.signal,
    workspacePath: options.workspacePath ?? testWorkspace(),
    logger: recordingLogger(logs),
  });
  const ctx: ActionContext<TInput, TOutput> = {
    ...base,
    isDryRun: options.isDryRun,
    signal: options.signal,
    async checkpoint<T extends JsonValue | void>(opts: {
      key: string;
      fn: () => Promise<T> | T;
    }): Promise<T> {
      requested.push(opts.key);
      if (options.isDryRun) {
        throw new Error(
          `checkpoint "${opts.key}" was requested during a dry-run; dry-run must not mutate`,
        );
      }
      if (store.has(opts.key)) {
        return store.get(opts.key) as T;
      }
      const value = await opts.fn();
      // Stored as the scaffolder stores it: through JSON.
      const stored =
        value === undefined
          ? undefined
          : (JSON.parse(JSON.stringify(value)) as JsonValue);
      store.set(opts.key, stored);
      executed.push(opts.key);
      return stored as T;
    },
    output(name, value) {
      outputs[name as string] = value as JsonValue;
    },
  };
  return {
    ctx,
    logs,
    outputs,
    store,
    executed,
    requested,
    everythingVisible: () =>
      [
        ...logs.map(l => `${l.level} ${l.message} ${l.meta ?? ''}`),
        JSON.stringify(outputs),
        ...requested,
        JSON.stringify([...store.entries()]),
      ].join('\n'),
  };
}
