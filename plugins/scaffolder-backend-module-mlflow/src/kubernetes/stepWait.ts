import { LoggerService } from '@backstage/backend-plugin-api';

/** How a step waits: until one deadline for the whole step, polling, stopping on cancel. */
export type StepWait = {
  /** Epoch milliseconds when the step's timeoutSeconds runs out. */
  deadline: number;
  pollIntervalMs: number;
  logger: LoggerService;
  signal?: AbortSignal;
};

/** Seconds left before the step's deadline, at least one so a last look still happens. */
export function secondsLeft(wait: StepWait): number {
  return Math.max(1, Math.round((wait.deadline - Date.now()) / 1000));
}
