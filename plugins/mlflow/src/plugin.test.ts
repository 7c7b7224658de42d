import { mlflowPlugin } from './plugin';

describe('mlflow', () => {
  it('should export plugin', () => {
    expect(mlflowPlugin).toBeDefined();
  });
});
