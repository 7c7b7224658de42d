import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { dumpYaml, KubernetesObject } from '@kubernetes/client-node';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes the objects as one multi-document YAML file inside the workspace (for a GitOps
 * repository); a path leading outside the workspace is refused.
 */
export async function writeManifests(options: {
  workspacePath: string;
  manifestsPath: string;
  objects: KubernetesObject[];
}): Promise<void> {
  const target = resolveSafeChildPath(
    options.workspacePath,
    options.manifestsPath,
  );
  await mkdir(dirname(target), { recursive: true });
  await writeFile(
    target,
    options.objects.map(o => dumpYaml(o)).join('---\n'),
    'utf8',
  );
}
