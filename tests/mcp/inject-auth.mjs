// Node preload (`node --import ./inject-auth.mjs …`) that gives the conformance suite a bearer
// token: the suite has no option for request headers, and /mcp answers 401 without a token.
// Adds `Authorization: Bearer $MCP_BEARER_TOKEN` to every request for the origin of
// $MCP_SERVER_URL, through the three ways the suite sends HTTP: the global `fetch` (the SDK
// client and most scenarios), the `undici` package's `request` (dns-rebinding-protection,
// which sets its own `Host`) and `http.request` with an options object
// (http-header-validation, which sends header spellings fetch would normalise). Requests to
// other origins are left alone.
//
// The `undici` package is CommonJS: patching its exports before the suite's ESM `import` of it
// creates the ES module facade makes the facade's `request` the patched one.
// $CONFORMANCE_PACKAGE names the suite's package.json, from which `undici` is resolved.
import http from "node:http";
import { createRequire } from "node:module";

const bearer = `Bearer ${process.env.MCP_BEARER_TOKEN}`;

const targetUrl = new URL(process.env.MCP_SERVER_URL);

const forUs = (url) => {
  try {
    return new URL(url instanceof Request ? url.url : String(url)).origin === targetUrl.origin;
  } catch {
    return false;
  }
};

const realFetch = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  if (!forUs(input)) return realFetch(input, init);
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has("authorization")) headers.set("authorization", bearer);
  return realFetch(input, { ...init, headers });
};

const undici = createRequire(process.env.CONFORMANCE_PACKAGE)("undici");
const realRequest = undici.request;
undici.request = (url, opts = {}, ...rest) => {
  if (!forUs(url)) return realRequest(url, opts, ...rest);
  // undici takes headers as an object or as a flat [name, value, name, value, …] array.
  const list = opts.headers ?? {};
  const headers = Array.isArray(list)
    ? Object.fromEntries(list.flatMap((v, i) => (i % 2 ? [] : [[v, list[i + 1]]])))
    : { ...list };
  const named = Object.keys(headers).some((k) => k.toLowerCase() === "authorization");
  return realRequest(url, { ...opts, headers: named ? headers : { ...headers, authorization: bearer } }, ...rest);
};

const realHttpRequest = http.request;
http.request = (options, ...rest) => {
  const ours =
    typeof options === "object" &&
    !(options instanceof URL) &&
    (options.hostname ?? options.host) === targetUrl.hostname &&
    String(options.port) === targetUrl.port;
  const named = ours && Object.keys(options.headers ?? {}).some((k) => k.toLowerCase() === "authorization");
  if (!ours || named) return realHttpRequest(options, ...rest);
  return realHttpRequest({ ...options, headers: { ...options.headers, authorization: bearer } }, ...rest);
};
