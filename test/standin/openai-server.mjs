/**
 * A stand-in for a paid OpenAI-compatible model provider, at its HTTP boundary: the one thing
 * tests may fake. Plain Node (node:http), no dependencies. It answers chat completions from
 * per-scenario queues of canned replies and records every request it gets, so tests can both
 * script the provider and check what was sent to it. Scenarios keep concurrent tests apart.
 *
 * Started once per `vitest run` by test/standin/global-setup.ts, which provides its port as
 * `standinOpenaiPort` (and the pool passes it to workers as the `STANDIN_OPENAI_PORT` binding).
 * Standalone: `node test/standin/openai-server.mjs [--port N]` prints `{"port":N}`.
 *
 * Model endpoint (what a provider client calls):
 *   POST /s/<scenario>/v1/chat/completions   scenario from the path: use base URL
 *                                            http://127.0.0.1:PORT/s/<scenario>/v1
 *   POST /v1/chat/completions                scenario from the `x-standin-scenario` header,
 *                                            else from the body's `model` (so one fixed
 *                                            OPENAI_BASE_URL serves `openai:<scenario>` ids)
 *   Each request takes the next reply from its scenario's queue; when the queue is empty it
 *   gets the scenario's `whenEmpty` reply, or else a 400 saying the scenario ran out (a test
 *   bug, reported as a fatal error rather than retried). Streaming is not supported (400).
 *
 * Control API (for tests):
 *   POST   /__scenario/<name>              body { replies: Reply[], whenEmpty?: Reply }: load
 *                                          the queue, replacing any earlier one and its log
 *   GET    /__scenario/<name>/requests     { requests: Recorded[] } in arrival order;
 *          ?atLeast=N                      first waits until N have arrived (at most
 *                                          WAIT_CAP_MS, then answers with what it has)
 *   DELETE /__scenario/<name>              forget the scenario
 *   GET    /__health                       200 "ok"
 *   Scenario names: 1-100 of A-Z a-z 0-9 _ . -
 *
 * Reply (one canned answer):
 *   { type: "text", text, usage?: { promptTokens, completionTokens }, finishReason? }
 *   { type: "tool-calls", toolCalls: [{ id?, name, arguments: object | string }], text?,
 *     usage?, finishReason? }            arguments as a string are sent verbatim (e.g. bad JSON)
 *   { type: "error", status, headers?, body? }   e.g. { type: "error", status: 429,
 *                                        headers: { "retry-after": "2" } }; body defaults to an
 *                                        OpenAI-style { error: { message, type } }
 *   { type: "hang" }                     never answers: the connection stays open until the
 *                                        client aborts it (Recorded.aborted becomes true)
 *   { type: "disconnect" }               drops the connection without answering (a network
 *                                        failure: the client sees no response at all)
 *   Without usage, token counts are estimated as ceil(chars / 4) of the messages and reply.
 *
 * Recorded: { method, path, headers (lower-case names), body (parsed JSON, or the raw text),
 *             aborted: true when the client went away before it was answered }
 */

import { createServer } from "node:http";
import { pathToFileURL } from "node:url";

/** Longest a `?atLeast=` wait holds the control request: a missing request fails the test's
 * assertion instead of hanging it. */
export const WAIT_CAP_MS = 10_000;
/** Largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Most requests recorded per scenario; older ones are dropped first. */
export const MAX_RECORDED_PER_SCENARIO = 1_000;

const SCENARIO_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/**
 * Starts the stand-in on `host:port` (port 0: any free port).
 *
 * @example
 * const standin = await startOpenAiStandin();
 * // base URL for scenario "s1": `http://127.0.0.1:${standin.port}/s/s1/v1`
 * await standin.close();
 *
 * @param {{ port?: number, host?: string }} [options]
 * @returns {Promise<{ port: number, close: () => Promise<void> }>}
 */
export async function startOpenAiStandin(options = {}) {
  const host = options.host ?? "127.0.0.1";
  /** @type {Map<string, { replies: object[], whenEmpty: object | null, requests: object[], waiters: Set<() => void> }>} */
  const scenarios = new Map();
  /** Responses held open by "hang" replies, ended when the server closes. */
  const hanging = new Set();
  let completionSeq = 0;

  function scenario(name) {
    let s = scenarios.get(name);
    if (!s) {
      s = { replies: [], whenEmpty: null, requests: [], waiters: new Set() };
      scenarios.set(name, s);
    }
    return s;
  }

  function record(s, entry) {
    s.requests.push(entry);
    if (s.requests.length > MAX_RECORDED_PER_SCENARIO) s.requests.shift();
    for (const wake of s.waiters) wake();
  }

  async function handle(req, res) {
    const url = new URL(req.url ?? "/", "http://standin");
    const path = url.pathname;
    const raw = await readBody(req);

    if (req.method === "GET" && path === "/__health") return send(res, 200, "ok");

    const control = /^\/__scenario\/([^/]+)(\/requests)?$/.exec(path);
    if (control) {
      const name = decodeURIComponent(control[1] ?? "");
      if (!SCENARIO_NAME.test(name)) return sendError(res, 400, `bad scenario name ${name}`);
      if (control[2]) {
        if (req.method !== "GET") return sendError(res, 405, "GET only");
        const s = scenario(name);
        const atLeast = Number(url.searchParams.get("atLeast") ?? "0");
        if (s.requests.length < atLeast) await waitFor(s, atLeast);
        return send(res, 200, { requests: s.requests });
      }
      if (req.method === "DELETE") {
        scenarios.delete(name);
        return send(res, 204, null);
      }
      if (req.method !== "POST") return sendError(res, 405, "POST or DELETE");
      const body = parseJson(raw);
      if (!body || !Array.isArray(body.replies)) {
        return sendError(res, 400, "body must be { replies: Reply[], whenEmpty?: Reply }");
      }
      const old = scenarios.get(name);
      scenarios.set(name, {
        replies: [...body.replies],
        whenEmpty: body.whenEmpty ?? null,
        requests: [],
        waiters: old?.waiters ?? new Set(),
      });
      return send(res, 204, null);
    }

    const model = /^(?:\/s\/([^/]+))?\/v1\/chat\/completions$/.exec(path);
    if (model && req.method === "POST") {
      const body = parseJson(raw);
      const name =
        (model[1] && decodeURIComponent(model[1])) ??
        req.headers["x-standin-scenario"] ??
        (typeof body?.model === "string" ? body.model : "");
      if (typeof name !== "string" || !SCENARIO_NAME.test(name)) {
        return sendError(res, 400, `stand-in: no valid scenario for this request (${name})`);
      }
      const s = scenario(name);
      const entry = {
        method: req.method,
        path,
        headers: { ...req.headers },
        body: body ?? raw,
        aborted: false,
      };
      record(s, entry);
      // A client that gives up before the answer (an aborted call) closes the connection.
      res.on("close", () => {
        if (!res.writableFinished) entry.aborted = true;
      });
      if (body === null) return sendError(res, 400, "stand-in: body is not JSON");
      if (body.stream === true) return sendError(res, 400, "stand-in: streaming not supported");
      const reply = s.replies.shift() ?? s.whenEmpty;
      if (!reply) {
        return sendError(
          res,
          400,
          `stand-in: scenario ${name} has no reply queued`,
          "standin_exhausted",
        );
      }
      return answer(res, reply, body);
    }

    return sendError(res, 404, `stand-in: no route ${req.method} ${path}`);
  }

  function answer(res, reply, body) {
    switch (reply.type) {
      case "hang":
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      case "disconnect":
        res.socket?.destroy();
        return;
      case "error": {
        const payload = reply.body ?? {
          error: { message: `stand-in error ${reply.status}`, type: "standin_error" },
        };
        return send(res, reply.status, payload, reply.headers ?? {});
      }
      case "text":
      case "tool-calls": {
        const text = reply.text ?? null;
        const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({
          id: call.id ?? `call_standin_${i}`,
          type: "function",
          function: {
            name: call.name,
            arguments:
              typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
          },
        }));
        const completionChars =
          (text ?? "").length +
          toolCalls.reduce((n, c) => n + c.function.name.length + c.function.arguments.length, 0);
        const promptTokens =
          reply.usage?.promptTokens ?? Math.ceil(JSON.stringify(body.messages ?? []).length / 4);
        const completionTokens = reply.usage?.completionTokens ?? Math.ceil(completionChars / 4);
        completionSeq += 1;
        return send(res, 200, {
          id: `chatcmpl-standin-${completionSeq}`,
          object: "chat.completion",
          created: 0,
          model: body.model ?? "standin",
          choices: [
            {
              index: 0,
              message: {
                role: "assistant",
                content: text,
                ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
              },
              finish_reason: reply.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"),
            },
          ],
          usage: {
            prompt_tokens: promptTokens,
            completion_tokens: completionTokens,
            total_tokens: promptTokens + completionTokens,
          },
        });
      }
      default:
        return sendError(res, 500, `stand-in: unknown reply type ${JSON.stringify(reply.type)}`);
    }
  }

  function waitFor(s, atLeast) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        s.waiters.delete(wake);
        resolve();
      };
      const wake = () => {
        if (s.requests.length >= atLeast) done();
      };
      const timer = setTimeout(done, WAIT_CAP_MS);
      s.waiters.add(wake);
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) sendError(res, 500, `stand-in: ${error?.message ?? error}`);
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve(undefined));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let bytes = 0;
    req.on("data", (chunk) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text) {
  if (text === "") return null;
  try {
    const value = JSON.parse(text);
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}

function send(res, status, payload, headers = {}) {
  if (payload === null) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const isText = typeof payload === "string";
  res.writeHead(status, {
    "content-type": isText ? "text/plain; charset=utf-8" : "application/json",
    ...headers,
  });
  res.end(isText ? payload : JSON.stringify(payload));
}

function sendError(res, status, message, type = "standin_error") {
  send(res, status, { error: { message, type } });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flag = process.argv.indexOf("--port");
  const port = flag > 0 ? Number(process.argv[flag + 1]) : 0;
  const standin = await startOpenAiStandin({ port });
  process.stdout.write(`${JSON.stringify({ port: standin.port })}\n`);
  const stop = () => standin.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
