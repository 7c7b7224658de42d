import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';

/** A scaffolder task event, as `GET /api/scaffolder/v2/tasks/:id/events` returns it. */
export type TaskEvent = {
  id: number;
  type: 'log' | 'completion' | 'cancelled' | 'recovered';
  body: {
    message?: string;
    stepId?: string;
    status?: string;
    output?: Record<string, unknown>;
    error?: { name?: string; message?: string };
  };
  createdAt: string;
};

/** How a task ended: its status, outputs and every log message. */
export type TaskResult = {
  taskId: string;
  status: 'completed' | 'failed' | 'cancelled';
  output: Record<string, unknown>;
  log: string[];
  durationMs: number;
};

/** A completed task as `taskOutcome` gives it: what a test expects its task's outcome to equal. */
export const TASK_COMPLETED = { status: 'completed', log: [] };

/** The status, with the last `logLines` log lines when it did not complete (so a failure shows why). */
export function taskOutcome(result: TaskResult, logLines = 5) {
  return {
    status: result.status,
    log: result.status === 'completed' ? [] : result.log.slice(-logLines),
  };
}

/** Throws `<what> failed: <last log lines>` unless the task completed: for set-up later tests need. */
export function assertTaskCompleted(
  result: TaskResult,
  what: string,
  logLines = 8,
): void {
  if (result.status !== 'completed') {
    throw new Error(
      `${what} failed: ${result.log.slice(-logLines).join('\n')}`,
    );
  }
}

/** The response of `POST /api/scaffolder/v2/dry-run`. */
export type DryRunResult = {
  log: Array<{ body: { message: string; stepId?: string; status?: string } }>;
  output: Record<string, unknown>;
  steps: Array<{ id: string; name: string; action: string }>;
  directoryContents: Array<{ path: string; base64Content: string }>;
};

/** The repository's template file, parsed: what the dry-run endpoint takes as `template`. */
export function loadTemplate(repoRoot: string, name: string) {
  return parse(
    readFileSync(join(repoRoot, 'templates', name, 'template.yaml'), 'utf8'),
  ) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string };
    spec: {
      parameters: Array<{
        title: string;
        properties: Record<string, Record<string, unknown>>;
      }>;
      steps: Array<{
        id: string;
        action: string;
        if?: unknown;
        input?: Record<string, unknown>;
      }>;
      output?: unknown;
    };
  };
}

/**
 * The files beside a template (its skeleton), as the dry-run endpoint takes them in
 * `directoryContents`: paths relative to the template's folder.
 */
export function loadTemplateFiles(
  repoRoot: string,
  name: string,
): Array<{ path: string; base64Content: string }> {
  const root = join(repoRoot, 'templates', name);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap(entry =>
      entry.isDirectory()
        ? walk(join(dir, entry.name))
        : [join(dir, entry.name)],
    );
  return walk(root)
    .filter(path => relative(root, path) !== 'template.yaml')
    .map(path => ({
      path: relative(root, path),
      base64Content: readFileSync(path).toString('base64'),
    }));
}

/** Calls the scaffolder API of a running backend as the holder of `token`. */
export class ScaffolderClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.baseUrl}/api/scaffolder${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the error message
    }
    return { status: res.status, body: parsed as T };
  }

  /** Starts the template `templateRef` with `values`; returns the task id. */
  async createTask(
    templateRef: string,
    values: Record<string, unknown>,
    secrets?: Record<string, string>,
  ): Promise<string> {
    const res = await this.request<{ id?: string }>('POST', '/v2/tasks', {
      templateRef,
      values,
      secrets,
    });
    if (res.status !== 201 || !res.body.id) {
      throw new Error(
        `Creating a task of ${templateRef} failed: ${
          res.status
        } ${JSON.stringify(res.body)}`,
      );
    }
    return res.body.id;
  }

  /**
   * Follows the task's events until it ends; `onLog` sees every log message as it arrives.
   * Throws when the task does not end within `timeoutMs`.
   */
  async waitForTask(
    taskId: string,
    options: {
      timeoutMs: number;
      onLog?: (message: string) => void;
      /** Sees every event (with its step and time) as it arrives. */
      onEvent?: (event: TaskEvent) => void;
    },
  ): Promise<TaskResult> {
    const started = Date.now();
    const log: string[] = [];
    let after: number | undefined;
    while (Date.now() - started < options.timeoutMs) {
      const query = after === undefined ? '' : `?after=${after}`;
      const res = await this.request<TaskEvent[]>(
        'GET',
        `/v2/tasks/${encodeURIComponent(taskId)}/events${query}`,
      );
      if (res.status !== 200) {
        throw new Error(
          `Reading the events of task ${taskId} failed: ${
            res.status
          } ${JSON.stringify(res.body)}`,
        );
      }
      for (const event of res.body) {
        after = event.id;
        options.onEvent?.(event);
        if (event.type === 'log' && event.body.message) {
          log.push(event.body.message);
          options.onLog?.(event.body.message);
        }
        if (event.type === 'completion' || event.type === 'cancelled') {
          const failed = Boolean(event.body.error);
          let status: TaskResult['status'] = failed ? 'failed' : 'completed';
          if (event.type === 'cancelled') {
            status = 'cancelled';
          }
          return {
            taskId,
            status,
            output: event.body.output ?? {},
            log: failed ? [...log, event.body.error?.message ?? ''] : log,
            durationMs: Date.now() - started,
          };
        }
      }
    }
    throw new Error(
      `Task ${taskId} did not end within ${
        options.timeoutMs
      } ms; last log lines:\n${log.slice(-20).join('\n')}`,
    );
  }

  /** Runs a template and waits for it: `createTask` then `waitForTask`. */
  async runTemplate(
    templateRef: string,
    values: Record<string, unknown>,
    options: {
      timeoutMs: number;
      onLog?: (message: string) => void;
      onEvent?: (event: TaskEvent) => void;
    },
  ): Promise<TaskResult> {
    const taskId = await this.createTask(templateRef, values);
    return this.waitForTask(taskId, options);
  }

  /**
   * `POST /v2/dry-run`. Resolves with the HTTP status and body: 200 with the log and outputs, or
   * 400 with the parameter validation errors.
   */
  async dryRun(body: {
    template: unknown;
    values: Record<string, unknown>;
    secrets?: Record<string, string>;
    directoryContents?: Array<{ path: string; base64Content: string }>;
  }): Promise<{
    status: number;
    body: DryRunResult & {
      errors?: Array<{ property?: string; message?: string; stack?: string }>;
    };
  }> {
    return this.request('POST', '/v2/dry-run', {
      directoryContents: [],
      ...body,
    });
  }
}
