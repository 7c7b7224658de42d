import { InputError, NotAllowedError, isError } from '@backstage/errors';
import {
  CallAbandonedError,
  StepDeadline,
  untilAbandoned,
} from '../util/stepDeadline';

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
]);

const NAME_TAKEN = new Set([
  'BucketAlreadyExists',
  'DBInstanceAlreadyExists',
  'DBInstanceAlreadyExistsFault',
  'EntityAlreadyExists',
  'ResourceExistsException',
  'InvalidGroup.Duplicate',
]);

/** The error code of an AWS SDK v3 error, when it is one. */
export function awsErrorName(error: unknown): string | undefined {
  if (!isError(error)) {
    return undefined;
  }
  const code = (error as { Code?: unknown }).Code;
  return typeof code === 'string' ? code : error.name;
}

/** The HTTP status of an AWS SDK v3 error, when it has one. */
export function awsHttpStatus(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: number } })
    ?.$metadata;
  return metadata?.httpStatusCode;
}

/**
 * Runs one AWS call and turns its failures into messages a template user can act on: the IAM
 * permission that is missing, or that a name is taken and another must be chosen.
 *
 * With a `deadline`, the call gets an abort signal (pass it to `send(command, { abortSignal })`)
 * and is abandoned at its timeout or on cancel, even when the peer never answers.
 *
 * @param permission - the IAM action of the call, e.g. `s3:CreateBucket`
 * @param target - what the call is about, for the message: `bucket "mlflow-demo"`
 */
export async function callAws<T>(
  permission: string,
  target: string,
  call: (abortSignal?: AbortSignal) => Promise<T>,
  deadline?: StepDeadline,
): Promise<T> {
  try {
    if (!deadline) {
      return await call();
    }
    const limit = deadline.nextCall();
    // Async, so a call that throws synchronously rejects like any other failure.
    return await untilAbandoned(
      (async () => call(limit.signal))(),
      limit,
      `AWS ${permission} on ${target}`,
    );
  } catch (error) {
    if (error instanceof CallAbandonedError) {
      throw error;
    }
    const name = awsErrorName(error);
    const message = isError(error) ? error.message : String(error);
    if (name && ACCESS_DENIED.has(name)) {
      throw new NotAllowedError(
        `AWS denied ${permission} on ${target}: Backstage's AWS identity needs the ${permission} permission (see the IAM policy in the plugin README). AWS said: ${message}`,
      );
    }
    if (name && NAME_TAKEN.has(name)) {
      throw new InputError(
        `The name of ${target} is already taken (${name}); choose another name. AWS said: ${message}`,
      );
    }
    if (
      name &&
      /^(InvalidParameter|InvalidParameterValue|InvalidParameterCombination|ValidationError|MalformedPolicyDocument|InvalidBucketName|InvalidArgument|MalformedXML)/.test(
        name,
      )
    ) {
      throw new InputError(
        `AWS rejected ${permission} on ${target} (${name}): ${message}`,
      );
    }
    if (isError(error)) {
      error.message = `${permission} on ${target} failed${
        name ? ` (${name})` : ''
      }: ${message}`;
    }
    throw error;
  }
}

/**
 * `callAws` for a read whose "not found" is an answer: undefined when AWS reports one of
 * `absentWhen` (error codes), the result otherwise.
 */
export async function findAws<T>(
  permission: string,
  target: string,
  absentWhen: string[],
  call: (abortSignal?: AbortSignal) => Promise<T>,
  deadline?: StepDeadline,
): Promise<T | undefined> {
  const absent = Symbol('absent');
  const result = await callAws<T | typeof absent>(
    permission,
    target,
    async abortSignal => {
      try {
        return await call(abortSignal);
      } catch (error) {
        if (absentWhen.includes(awsErrorName(error) ?? '')) {
          return absent;
        }
        throw error;
      }
    },
    deadline,
  );
  return result === absent ? undefined : result;
}
