/**
 * Whether `location` is an absolute URL on another origin than `baseUrl`. Credentials sent
 * with every request to a generator (an API key header) must not follow a result URL there:
 * OpenAI's point at blob storage, and any server may name a host of its choosing.
 */
export function isOtherOrigin(location: string, baseUrl: string): boolean {
  if (!/^https?:\/\//i.test(location)) return false;
  try {
    return new URL(location).origin !== new URL(baseUrl).origin;
  } catch {
    return true;
  }
}
