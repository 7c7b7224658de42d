import { AuthService } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { KeyedBatcher } from './KeyedBatcher';

/**
 * Reads entities from the catalog as the plugin itself, so that the refs asked for by every
 * request in the same turn of the event loop are read with one catalog call whoever asks. What
 * a caller may see of them is decided afterwards, per caller, by `HealthReadAuthorizer`
 * (`catalog.entity.read`, as the catalog would decide it); nothing is kept once answered.
 */
export class CatalogEntityReader {
  private readonly batcher: KeyedBatcher<'catalog', string, Entity | undefined>;

  constructor(catalog: CatalogService, auth: AuthService) {
    this.batcher = new KeyedBatcher({
      groupId: () => 'catalog',
      keyId: ref => ref,
      load: async (_, entityRefs) => {
        const { items } = await catalog.getEntitiesByRefs(
          { entityRefs },
          { credentials: await auth.getOwnServiceCredentials() },
        );
        const byRef = new Map(entityRefs.map((ref, i) => [ref, items[i]]));
        return ref => byRef.get(ref);
      },
    });
  }

  /** The entities of `refs` (canonical refs), undefined where there is none, in order. */
  read(refs: string[]): Promise<Array<Entity | undefined>> {
    return Promise.all(refs.map(ref => this.batcher.get('catalog', ref)));
  }
}
