import { screen, waitFor } from '@testing-library/react';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { MlflowEntityInfo } from '@stateful-mlflow/plugin-mlflow-common';
import { MlflowAuthenticationFacts, MlflowSignInCard } from './MlflowSignIn';

const basicAuth: MlflowEntityInfo = {
  trackingUrl: 'https://mlflow-demo.example.com',
  kubernetesNamespace: 'mlflow-demo',
  authMode: 'basic-auth',
  authAdminSecret: 'mlflow-demo-mlflow-auth',
  healthSecret: 'mlflow-demo-mlflow-health',
};

/** The page's text once the code snippets (highlighted asynchronously) show `expected`. */
async function pageTextWith(expected: string): Promise<string> {
  await waitFor(() => expect(document.body.textContent).toContain(expected));
  return document.body.textContent ?? '';
}

// Each test renders a whole test app: slow on a loaded two-core machine.
jest.setTimeout(30_000);

describe('MlflowSignInCard', () => {
  it('tells a data scientist which variables to set and how the admin reads the Secret', async () => {
    await renderInTestApp(<MlflowSignInCard info={basicAuth} />);
    expect(
      screen.getByText('Authentication: MLflow users (basic auth)'),
    ).toBeInTheDocument();
    const text = await pageTextWith(
      'export MLFLOW_TRACKING_URI=https://mlflow-demo.example.com',
    );
    expect(text).toContain(
      'export MLFLOW_TRACKING_USERNAME=<your MLflow user>',
    );
    expect(text).toContain('export MLFLOW_TRACKING_PASSWORD=<its password>');
    expect(text).toContain(
      'Admin Secret: mlflow-demo-mlflow-auth (namespace mlflow-demo).',
    );
    expect(text).toContain(
      "kubectl get secret mlflow-demo-mlflow-auth -n mlflow-demo -o jsonpath='{.data.admin-password}' | base64 -d",
    );
    // The health user is Backstage's own: never offered to people.
    expect(text).not.toContain('mlflow-demo-mlflow-health');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('warns that an anonymous instance lets anyone in, and offers no credentials', async () => {
    await renderInTestApp(
      <MlflowSignInCard
        info={{
          ...basicAuth,
          authMode: 'anonymous',
          authAdminSecret: undefined,
        }}
      />,
    );
    expect(screen.getByRole('alert')).toHaveTextContent(
      'Authentication is off: anyone who reaches the tracking URL can read and change every experiment.',
    );
    const text = await pageTextWith(
      'export MLFLOW_TRACKING_URI=https://mlflow-demo.example.com',
    );
    expect(text).not.toContain('MLFLOW_TRACKING_PASSWORD');
  });

  it('says so when the instance does not tell how it authenticates', async () => {
    await renderInTestApp(
      <MlflowSignInCard info={{ ...basicAuth, authMode: 'kerberos' }} />,
    );
    expect(screen.getByText('Authentication: Not known')).toBeInTheDocument();
    expect(
      screen.getByText('The instance does not say how it authenticates.'),
    ).toBeInTheDocument();
  });
});

describe('MlflowAuthenticationFacts', () => {
  it('names the mode and the admin Secret in one line', async () => {
    await renderInTestApp(<MlflowAuthenticationFacts info={basicAuth} />);
    expect(screen.getByLabelText('Authentication')).toHaveTextContent(
      'Authentication: MLflow users (basic auth) · admin Secret mlflow-demo-mlflow-auth',
    );
  });
});
