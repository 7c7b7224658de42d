import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  DeferredEntity,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';

/**
 * The catalog's view of entity providers, shared by every replica as the database is: a full
 * mutation replaces exactly the entities of the provider that applied it.
 */
export class FakeCatalog {
  readonly byProvider = new Map<string, DeferredEntity[]>();
  applied = 0;

  connection(providerName: string): EntityProviderConnection {
    return {
      applyMutation: async mutation => {
        if (mutation.type !== 'full') {
          throw new Error('expected a full mutation');
        }
        this.applied++;
        this.byProvider.set(providerName, mutation.entities);
      },
      refresh: async () => {},
    };
  }

  entities(): Entity[] {
    return [...this.byProvider.values()].flat().map(d => d.entity);
  }

  refs(): string[] {
    return this.entities()
      .map(e => stringifyEntityRef(e))
      .sort();
  }

  get(ref: string): Entity | undefined {
    return this.entities().find(e => stringifyEntityRef(e) === ref);
  }
}
