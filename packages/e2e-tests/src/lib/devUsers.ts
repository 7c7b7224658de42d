/**
 * Config enabling the development-only `devUsers` sign-in provider of packages/backend for the
 * given catalog users (merge it into a test backend's config).
 */
export function devUsersConfig(users: string[]) {
  return { auth: { providers: { devUsers: { users } } } };
}

/** Signs in through the `devUsers` provider as `user` and returns the Backstage token. */
export async function devUserToken(
  baseUrl: string,
  user: string,
): Promise<string> {
  const res = await fetch(
    `${baseUrl}/api/auth/devUsers/refresh?env=development&user=${encodeURIComponent(
      user,
    )}`,
    { headers: { 'X-Requested-With': 'XMLHttpRequest' } },
  );
  if (!res.ok) {
    const text = await res.text();
    let message = text;
    try {
      message = JSON.parse(text).error?.message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`Sign-in as ${user} failed: ${res.status} ${message}`);
  }
  const body = (await res.json()) as {
    backstageIdentity?: { token?: string };
  };
  const token = body.backstageIdentity?.token;
  if (!token) {
    throw new Error(`Sign-in as ${user} answered without a Backstage token`);
  }
  return token;
}

/** Who the auth backend says a token's user is, with the ownership refs policies decide on. */
export async function userInfo(
  baseUrl: string,
  token: string,
): Promise<{ sub?: string; ent?: string[] }> {
  const res = await fetch(`${baseUrl}/api/auth/v1/userinfo`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) {
    throw new Error(`userinfo failed: ${res.status} ${await res.text()}`);
  }
  return ((await res.json()) as { claims: { sub?: string; ent?: string[] } })
    .claims;
}
