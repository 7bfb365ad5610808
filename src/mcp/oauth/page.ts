/**
 * The consent page's HTML. Everything that came from the client (its name, redirect URI,
 * scopes) is chosen by whoever registered it, so every value is escaped before it is shown.
 */

import type { ConsentDescription } from "@cloudflare/workers-oauth-provider";
import { KEY_ROLES, type KeyRole } from "../../store/api-keys.js";

/**
 * Escapes text for HTML content and attribute values.
 *
 * @example escapeHtml('<a href="x">') // "&#60;a href=&#34;x&#34;&#62;"
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const ROLE_HELP: Record<KeyRole, string> = {
  admin: "admin: everything an operator can, plus the audit log",
  operator: "operator: spawn, pause, resume and terminate processes",
  reader: "reader: read processes, their event logs and agent types",
};

export interface ConsentPageInput {
  details: ConsentDescription;
  handle: string;
  /** The authorization request's query string, to show this page again after an error. */
  query: string;
  role: KeyRole;
  error?: string | undefined;
}

/**
 * The page that asks a person to approve `details.clientName` with a tenant API key.
 *
 * @example consentPage({ details, handle, query, role: "reader" })
 */
export function consentPage(input: ConsentPageInput): string {
  const { details } = input;
  const name = escapeHtml(details.clientName);
  const origin = details.clientDomain
    ? `Published by <strong>${escapeHtml(details.clientDomain)}</strong>.`
    : "This client registered itself: its name is not verified.";
  const loopback = details.redirectIsLoopback
    ? "<p class=warn><strong>Access goes to an app on your own computer.</strong> Continue only if you just started connecting from it.</p>"
    : "";
  const roles = KEY_ROLES.map(
    (role) =>
      `<label><input type=radio name=role value=${role}${role === input.role ? " checked" : ""}> ${escapeHtml(ROLE_HELP[role])}</label>`,
  ).join("<br>");
  const error = input.error ? `<p class=error role=alert>${escapeHtml(input.error)}</p>` : "";
  return `<!doctype html>
<html lang=en>
<meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>Connect ${name} to edgekernel</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
.warn{background:#fff4e0;padding:.5rem .75rem}.error{background:#fde8e8;padding:.5rem .75rem}
input[type=password]{width:100%;font:inherit;padding:.4rem}button{font:inherit;padding:.4rem 1rem}
</style>
<h1>Connect ${name} to edgekernel?</h1>
<p>${origin} If you allow it, access will be sent to <strong>${escapeHtml(details.redirectHost)}</strong>.</p>
${loopback}
${error}
<form method=post action="/oauth/authorize">
<input type=hidden name=handle value="${escapeHtml(input.handle)}">
<input type=hidden name=query value="${escapeHtml(input.query)}">
<p><label for=api_key>Your API key (admin or operator) for the tenant to connect</label><br>
<input type=password id=api_key name=api_key autocomplete=off required placeholder="ek_…"></p>
<fieldset><legend>Role to grant (at most your key's own)</legend>${roles}</fieldset>
<p><button name=decision value=approve>Allow</button> <button name=decision value=deny formnovalidate>Deny</button></p>
</form>
</html>`;
}

/**
 * A plain page for an authorization request that cannot go on (nothing to redirect to).
 *
 * @example errorPage("This authorization expired or was already used; start again")
 */
export function errorPage(message: string): string {
  return `<!doctype html>
<html lang=en>
<meta charset=utf-8>
<title>edgekernel: authorization failed</title>
<h1>Authorization failed</h1>
<p>${escapeHtml(message)}</p>
</html>`;
}
