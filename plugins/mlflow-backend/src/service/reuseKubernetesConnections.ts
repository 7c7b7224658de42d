import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * `@kubernetes/client-node` 2.x gives every request a new connection pool, so every call to the
 * API server opens (and TLS-handshakes) a new connection. This hands the first pool of the config
 * to every later request, so the checks' calls reuse their connections. Credentials are still
 * applied per request (token headers); the pool holds only the TLS settings of the cluster, which
 * a config from `kubernetes.clusterLocatorMethods` keeps for the process's life.
 */
export function reuseKubernetesConnections(kubeConfig: KubeConfig): KubeConfig {
  const apply = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  let shared: Dispatcher | undefined;
  kubeConfig.applySecurityAuthentication = async context => {
    await apply(context);
    const made = context.getDispatcher();
    if (!made || made === shared) {
      return;
    }
    if (!shared) {
      shared = made;
      return;
    }
    context.setDispatcher(shared);
    // Never used for a connection: closing it releases nothing but the object.
    made.close().catch(() => undefined);
  };
  return kubeConfig;
}
