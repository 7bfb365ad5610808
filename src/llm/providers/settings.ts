/** Reading provider settings from env vars, where unset and blank mean the same thing. */

/**
 * The trimmed value, or undefined when unset or blank (an empty var in wrangler.toml or
 * `.dev.vars` is not a credential).
 *
 * @example optionalSetting("  sk-1 ") // "sk-1"
 * @example optionalSetting("") // undefined
 */
export function optionalSetting(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}

/**
 * An http(s) base URL without its trailing slash, or an error message naming `varName`.
 *
 * @example parseBaseUrl("http://localhost:11434/v1/", "OPENAI_BASE_URL") // { ok: true, url: "http://localhost:11434/v1" }
 */
export function parseBaseUrl(
  value: string,
  varName: string,
): { ok: true; url: string } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: `${varName} is not a URL: ${JSON.stringify(value)}` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { ok: false, reason: `${varName} must be an http(s) URL, got ${url.protocol}` };
  }
  return { ok: true, url: url.href.replace(/\/+$/, "") };
}
