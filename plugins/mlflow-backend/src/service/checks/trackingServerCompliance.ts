import {
  MlflowComplianceFlag,
  MlflowTrackingServerDetails,
} from '@stateful-mlflow/plugin-mlflow-common';

/**
 * `localhost`, `*.localhost` (RFC 6761) and loopback literals never leave the machine, so plain
 * HTTP is acceptable there.
 */
function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === '[::1]'
  );
}

/** The two compliance points of the server: its door is locked, and it is reached over HTTPS. */
export function complianceOf(
  details: MlflowTrackingServerDetails,
  url: URL,
  anonymousAnswer: number | undefined,
): MlflowComplianceFlag[] {
  // A server that answers an anonymous request has no authentication, whatever was deployed.
  const observed =
    anonymousAnswer === undefined
      ? undefined
      : anonymousAnswer === 401 || anonymousAnswer === 403;
  return [
    {
      id: 'authentication',
      label: 'Authentication required',
      ok:
        details.authMode !== 'anonymous' &&
        (observed ?? details.authMode === 'basic-auth'),
      required: true,
    },
    {
      id: 'https',
      label: 'HTTPS tracking URL (plain HTTP only on localhost)',
      ok: url.protocol === 'https:' || isLocalHost(url.hostname),
      required: true,
    },
  ];
}

/** What a failed point means, in the words of a summary. */
const FAILED_POINT: Record<string, string> = {
  authentication:
    'authentication is off (anyone who reaches it can read and write)',
  https: 'the tracking URL is plain HTTP on a host that is not local',
};

/** The required points that failed, in the words of a summary. */
export function failedPoints(compliance: MlflowComplianceFlag[]): string[] {
  return compliance
    .filter(f => f.required && !f.ok)
    .map(f => FAILED_POINT[f.id] ?? f.label);
}
