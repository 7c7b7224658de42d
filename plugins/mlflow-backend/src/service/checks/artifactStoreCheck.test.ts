import { hasTlsOnlyStatement } from './artifactStoreCheck';

describe('hasTlsOnlyStatement', () => {
  const policy = (...statements: unknown[]) =>
    JSON.stringify({ Version: '2012-10-17', Statement: statements });

  it('finds a Deny of requests without TLS, however the condition value is written', () => {
    for (const value of ['false', false, ['false']]) {
      expect(
        hasTlsOnlyStatement(
          policy({
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': value } },
          }),
        ),
      ).toBe(true);
    }
  });

  it('does not count an Allow, another condition, no policy or a policy that is not JSON', () => {
    expect(
      hasTlsOnlyStatement(
        policy({
          Effect: 'Allow',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ),
    ).toBe(false);
    expect(
      hasTlsOnlyStatement(
        policy({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'true' } },
        }),
      ),
    ).toBe(false);
    expect(hasTlsOnlyStatement(undefined)).toBe(false);
    expect(hasTlsOnlyStatement('not json')).toBe(false);
  });
});
