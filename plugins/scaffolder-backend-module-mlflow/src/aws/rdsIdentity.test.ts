import { verifyRdsInstanceIdentity } from './rdsIdentity';

const SECRET =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-demo-AbCdEf';

const ours = {
  DBInstanceIdentifier: 'mlflow-demo',
  TagList: [
    { Key: 'stateful-mlflow/instance', Value: 'demo' },
    { Key: 'owner', Value: 'group:default/guests' },
  ],
  MasterUserSecret: { SecretArn: SECRET },
};

describe('verifyRdsInstanceIdentity', () => {
  it("accepts this instance's RDS instance and its own master secret, returning the recorded owner", () => {
    expect(
      verifyRdsInstanceIdentity({
        name: 'demo',
        instanceId: 'mlflow-demo',
        instance: ours,
        masterSecretArn: SECRET,
      }),
    ).toEqual({ owner: 'group:default/guests' });
    expect(
      verifyRdsInstanceIdentity({
        name: 'demo',
        instanceId: 'mlflow-demo',
        instance: ours,
      }),
    ).toEqual({ owner: 'group:default/guests' });
  });

  it("refuses another instance's RDS instance, naming it and the reason", () => {
    expect(() =>
      verifyRdsInstanceIdentity({
        name: 'intruder',
        instanceId: 'mlflow-demo',
        instance: ours,
      }),
    ).toThrow(
      'Invalid instanceId: received "mlflow-demo", but that RDS instance was not created for MLflow instance "intruder" (it lacks the tag stateful-mlflow/instance=intruder). The database step never logs in to another instance.',
    );
    expect(() =>
      verifyRdsInstanceIdentity({
        name: 'demo',
        instanceId: 'shared-db',
        instance: { DBInstanceIdentifier: 'shared-db' },
      }),
    ).toThrow(/Invalid instanceId: received "shared-db"/);
  });

  it('refuses a master secret that is not the instance’s own managed secret', () => {
    expect(() =>
      verifyRdsInstanceIdentity({
        name: 'demo',
        instanceId: 'mlflow-demo',
        instance: ours,
        masterSecretArn:
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-victim-XyZ',
      }),
    ).toThrow(
      `Invalid masterSecretArn: received "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-victim-XyZ", but that is not the managed master secret of RDS instance mlflow-demo (${SECRET}). Leave masterSecretArn empty to use the instance's own.`,
    );
  });
});
