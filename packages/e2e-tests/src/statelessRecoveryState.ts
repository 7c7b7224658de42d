import { randomBytes } from 'node:crypto';
import { MlflowTrackingClient, sha256 } from './lib/mlflowTrackingClient';

/** What the recovery test writes into an instance, and reads back to compare. */
export type TrackingState = {
  experiment: { id: string; name: string };
  run: {
    id: string;
    name?: string;
    status: string;
    params: Record<string, string>;
    /** Latest value of each metric. */
    metrics: Record<string, number>;
    /** The tags the test set (MLflow adds system tags of its own). */
    tags: Record<string, string>;
    lossHistory: Array<{ step: number; value: number }>;
  };
  artifact: { path: string; bytes: number; sha256: string };
  modelVersion: {
    name: string;
    version: string;
    source: string;
    runId?: string;
  };
};

/** Where the recorded things are, to read them back from any server of the instance. */
export type RecordedIds = {
  experimentId: string;
  runId: string;
  artifactPath: string;
  modelName: string;
  modelVersion: string;
  tagKeys: string[];
};

const PARAMS = { learning_rate: '0.01', optimizer: 'adam', epochs: '3' };
const LOSS = [0.9, 0.45, 0.21];
const TAGS = { team: 'platform', dataset: 'iris-v2' };
const ARTIFACT_FILE = 'model/weights.bin';
/** Big enough to be streamed in several chunks through the proxy. */
const ARTIFACT_BYTES = 3 * 1024 * 1024 + 17;

/**
 * Creates an experiment, a finished run with params, a metric history and tags, a binary artifact
 * uploaded through the artifact proxy, and a registered model version from that run.
 */
export async function recordTrackingState(
  tracking: MlflowTrackingClient,
  label: string,
): Promise<{ ids: RecordedIds; artifact: Uint8Array }> {
  const experimentId = await tracking.createExperiment(`recovery-${label}`);
  const created = await tracking.createRun(experimentId, `baseline-${label}`);
  const runId = created.info.run_id;
  await tracking.logBatch(runId, {
    params: PARAMS,
    metrics: [
      ...LOSS.map((value, step) => ({ key: 'loss', value, step })),
      { key: 'accuracy', value: 0.93, step: 2 },
    ],
    tags: TAGS,
  });
  const artifact = new Uint8Array(randomBytes(ARTIFACT_BYTES));
  const artifactPath = MlflowTrackingClient.proxiedArtifactPath(
    created,
    ARTIFACT_FILE,
  );
  await tracking.uploadArtifact(artifactPath, artifact);
  await tracking.finishRun(runId);

  const modelName = `recovery-model-${label}`;
  await tracking.createRegisteredModel(modelName);
  const version = await tracking.createModelVersion({
    name: modelName,
    source: `${created.info.artifact_uri}/model`,
    runId,
  });
  return {
    ids: {
      experimentId,
      runId,
      artifactPath,
      modelName,
      modelVersion: version.version,
      tagKeys: Object.keys(TAGS),
    },
    artifact,
  };
}

/** Reads everything back through the tracking API; throws when any of it is missing. */
export async function readTrackingState(
  tracking: MlflowTrackingClient,
  ids: RecordedIds,
): Promise<TrackingState> {
  const experiment = await tracking.getExperiment(ids.experimentId);
  const run = await tracking.getRun(ids.runId);
  const lossHistory = await tracking.metricHistory(ids.runId, 'loss');
  const artifact = await tracking.downloadArtifact(ids.artifactPath);
  const version = await tracking.getModelVersion(
    ids.modelName,
    ids.modelVersion,
  );
  const tags = Object.fromEntries(
    (run.data.tags ?? [])
      .filter(t => ids.tagKeys.includes(t.key))
      .map(t => [t.key, t.value]),
  );
  return {
    experiment: { id: experiment.experiment_id, name: experiment.name },
    run: {
      id: run.info.run_id,
      name: run.info.run_name,
      status: run.info.status,
      params: Object.fromEntries(
        (run.data.params ?? []).map(p => [p.key, p.value]),
      ),
      metrics: Object.fromEntries(
        (run.data.metrics ?? []).map(m => [m.key, m.value]),
      ),
      tags,
      lossHistory,
    },
    artifact: {
      path: ids.artifactPath,
      bytes: artifact.byteLength,
      sha256: sha256(artifact),
    },
    modelVersion: {
      name: version.name,
      version: version.version,
      source: version.source,
      runId: version.run_id,
    },
  };
}

/** The state the recording must produce, to check the first read against. */
export function expectedTrackingState(
  ids: RecordedIds,
  artifact: Uint8Array,
  label: string,
): Omit<TrackingState, 'modelVersion'> & {
  modelVersion: Omit<TrackingState['modelVersion'], 'source'>;
} {
  return {
    experiment: { id: ids.experimentId, name: `recovery-${label}` },
    run: {
      id: ids.runId,
      name: `baseline-${label}`,
      status: 'FINISHED',
      params: PARAMS,
      metrics: { loss: LOSS[LOSS.length - 1], accuracy: 0.93 },
      tags: TAGS,
      lossHistory: LOSS.map((value, step) => ({ step, value })),
    },
    artifact: {
      path: ids.artifactPath,
      bytes: artifact.byteLength,
      sha256: sha256(artifact),
    },
    modelVersion: {
      name: ids.modelName,
      version: ids.modelVersion,
      runId: ids.runId,
    },
  };
}
