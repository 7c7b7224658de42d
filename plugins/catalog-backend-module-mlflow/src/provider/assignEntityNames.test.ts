import { assignEntityNames } from './assignEntityNames';
import { MlflowInstance } from './readMlflowInstance';

function instance(
  instanceName: string,
  cluster: string,
  namespace: string,
  createdAt: string,
  trust: MlflowInstance['trust'] = 'verified',
): MlflowInstance {
  return {
    cluster,
    namespace,
    deploymentName: instanceName,
    instanceName,
    trust,
    owner: 'group:default/ml-team',
    entityNamespace: trust === 'verified' ? 'default' : 'mlflow-adopted',
    createdAt,
    hasInstanceLabel: true,
  };
}

describe('assignEntityNames', () => {
  it('keeps the instance name when it is unique', () => {
    const a = instance('alpha', 'local', 'ns', '2026-01-01T00:00:00Z');
    const b = instance('beta', 'local', 'ns', '2026-01-02T00:00:00Z');
    const names = assignEntityNames([a, b]);
    expect(names.get(a)).toBe('alpha');
    expect(names.get(b)).toBe('beta');
  });

  it('lets the oldest Deployment keep a shared name and suffixes the later ones with namespace, then cluster', () => {
    const newest = instance('demo', 'gke', 'ml', '2026-03-01T00:00:00Z');
    const oldest = instance('demo', 'local', 'ml', '2026-01-01T00:00:00Z');
    const middle = instance('demo', 'eks', 'ml', '2026-02-01T00:00:00Z');
    const names = assignEntityNames([newest, middle, oldest]);
    expect(names.get(oldest)).toBe('demo');
    expect(names.get(middle)).toBe('demo-ml');
    expect(names.get(newest)).toBe('demo-ml-gke');
  });

  it('falls back to a short stable hash when the suffixed names are too long', () => {
    const longName = 'a'.repeat(50);
    const first = instance(longName, 'local', 'ns', '2026-01-01T00:00:00Z');
    const second = instance(
      longName,
      'local',
      'other-ns',
      '2026-01-02T00:00:00Z',
    );
    const names = assignEntityNames([first, second]);
    expect(names.get(first)).toBe(longName);
    const hashed = names.get(second)!;
    expect(hashed).toMatch(/^a+-[0-9a-f]{8}$/);
    expect(hashed.length).toBeLessThanOrEqual(53);
    expect(assignEntityNames([first, second]).get(second)).toBe(hashed);
  });

  it('treats names that differ only in case as the same name', () => {
    const a = instance('Demo', 'local', 'ns', '2026-01-01T00:00:00Z');
    const b = instance('demo', 'local', 'ns2', '2026-01-02T00:00:00Z');
    expect(assignEntityNames([a, b]).get(b)).toBe('demo-ns2');
  });

  it('gives a verified instance its name even when an older unsigned one claims it in the same catalog namespace', () => {
    const squatter = instance('demo', 'local', 'ml', '2025-01-01T00:00:00Z');
    const signed = instance(
      'demo',
      'local',
      'mlflow-demo',
      '2026-01-01T00:00:00Z',
    );
    const unsigned = {
      ...squatter,
      trust: 'adopted' as const,
      entityNamespace: 'default',
    };
    const names = assignEntityNames([unsigned, signed]);
    expect(names.get(signed)).toBe('demo');
    expect(names.get(unsigned)).toBe('demo-ml');
  });

  it("keeps names apart per catalog namespace: an adopted instance may share a verified one's name", () => {
    const signed = instance(
      'demo',
      'local',
      'mlflow-demo',
      '2026-01-01T00:00:00Z',
    );
    const adopted = instance(
      'demo',
      'local',
      'ml',
      '2025-01-01T00:00:00Z',
      'adopted',
    );
    const names = assignEntityNames([adopted, signed]);
    expect(names.get(signed)).toBe('demo');
    expect(names.get(adopted)).toBe('demo');
  });
});
