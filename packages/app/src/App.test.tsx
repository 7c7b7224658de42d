import { render } from '@testing-library/react';
import App from './App';

describe('App', () => {
  it('renders the sign-in page with guest access', async () => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Test' },
            backend: { baseUrl: 'http://localhost:7007' },
            techdocs: {
              storageUrl: 'http://localhost:7007/api/techdocs/static/docs',
            },
          },
          context: 'test',
        },
      ] as any,
    };

    const rendered = render(App.createRoot());

    // Without a session the app shows the sign-in page with the guest provider.
    expect(
      await rendered.findByRole(
        'button',
        { name: 'Enter' },
        { timeout: 15000 },
      ),
    ).toBeInTheDocument();
  });
});
