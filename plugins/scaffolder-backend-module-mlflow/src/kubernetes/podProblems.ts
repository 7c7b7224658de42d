import type { V1Pod } from '@kubernetes/client-node';

/**
 * What keeps the given pods from running, one line per container: a waiting reason other than
 * the normal ContainerCreating, or a non-zero exit with its termination message.
 */
export function podProblems(pods: V1Pod[]): string[] {
  return pods.flatMap(pod =>
    (pod.status?.containerStatuses ?? []).flatMap(status => {
      const waiting = status.state?.waiting;
      const terminated =
        status.state?.terminated ?? status.lastState?.terminated;
      if (waiting?.reason && waiting.reason !== 'ContainerCreating') {
        return [
          `${pod.metadata?.name}: ${waiting.reason}${
            waiting.message ? ` (${waiting.message})` : ''
          }`,
        ];
      }
      if (terminated && terminated.exitCode !== 0) {
        return [
          `${pod.metadata?.name}: exited with ${terminated.exitCode}${
            terminated.message ? `: ${terminated.message.trim()}` : ''
          }`,
        ];
      }
      return [];
    }),
  );
}
