import { eventually } from './lib/eventually';
import { StartedBackend, startBackend } from './lib/startBackend';

jest.setTimeout(240_000);

describe('the Backstage backend (packages/backend)', () => {
  let backend: StartedBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });

  afterAll(async () => {
    await backend?.stop();
  });

  it('refuses catalog reads without credentials', async () => {
    const res = await fetch(`${backend.baseUrl}/api/catalog/entities`);
    expect(res.status).toBe(401);
  });

  it('signs a guest in and answers the catalog with that token', async () => {
    const token = await backend.guestToken();
    // The catalog ingests its file locations shortly after start.
    await eventually(async () => {
      const res = await fetch(
        `${backend.baseUrl}/api/catalog/entities/by-query?limit=100`,
        { headers: { Authorization: `Bearer ${token}` } },
      );
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        items: Array<{ kind: string; metadata: { name: string } }>;
      };
      expect(body.items.map(e => `${e.kind}:${e.metadata.name}`)).toEqual(
        expect.arrayContaining(['Group:guests', 'User:guest']),
      );
    });
  });
});
