import {
  MlflowEntityInfo,
  MlflowHealthReport,
  MlflowLink,
} from '@stateful-mlflow/plugin-mlflow-common';

/** The AWS console page of an RDS DB instance, in the instance's own region. */
export function rdsConsoleUrl(region: string, instanceId: string): string {
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/rds/home?region=${r}#database:id=${encodeURIComponent(
    instanceId,
  )}`;
}

/** The AWS console page of an S3 bucket, in the bucket's own region. */
export function s3ConsoleUrl(region: string, bucket: string): string {
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/s3/buckets/${encodeURIComponent(
    bucket,
  )}?region=${r}`;
}

/**
 * What makes two links the same page: trailing slashes do not count, and the AWS console serves a
 * page under any of its hosts (`s3.console…`, `eu-west-1.console…`), so only its path counts.
 */
function linkKey(url: string): string {
  const awsConsole =
    /^https:\/\/(?:[a-z0-9-]+\.)?console\.aws\.amazon\.com(\/.*)$/.exec(url);
  if (awsConsole) {
    return `aws-console:${awsConsole[1]}`;
  }
  return url.replace(/\/+$/, '');
}

/**
 * The links of an instance: the MLflow UI, the AWS console pages of its database and bucket, the
 * entity's Kubernetes tab, then what the backend adds; each page once. The regions the backend
 * reports win over the annotation because they are where the resources really are.
 */
export function buildMlflowLinks(options: {
  info: MlflowEntityInfo;
  report?: MlflowHealthReport;
  /** Path of the entity's Kubernetes tab, when the entity has one. */
  kubernetesTabPath?: string;
}): MlflowLink[] {
  const { info, report, kubernetesTabPath } = options;
  const database = report?.checks.find(
    check => check.id === 'database',
  )?.details;
  const artifacts = report?.checks.find(
    check => check.id === 'artifactStore',
  )?.details;

  const links: MlflowLink[] = [];
  if (info.trackingUrl) {
    links.push({ title: 'MLflow UI', url: info.trackingUrl });
  }
  const rdsRegion = database?.region ?? info.awsRegion;
  const rdsInstanceId = database?.instanceId ?? info.rdsInstanceId;
  if (rdsRegion && rdsInstanceId) {
    links.push({
      title: `RDS instance ${rdsInstanceId} (AWS console)`,
      url: rdsConsoleUrl(rdsRegion, rdsInstanceId),
    });
  }
  const s3Region = artifacts?.region ?? info.awsRegion;
  const bucket = artifacts?.bucket ?? info.bucket;
  if (s3Region && bucket) {
    links.push({
      title: `S3 bucket ${bucket} (AWS console)`,
      url: s3ConsoleUrl(s3Region, bucket),
    });
  }
  if (kubernetesTabPath) {
    links.push({ title: 'Kubernetes', url: kubernetesTabPath });
  }
  links.push(...(report?.links ?? []));

  const seen = new Set<string>();
  return links.filter(link => {
    const key = linkKey(link.url);
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
