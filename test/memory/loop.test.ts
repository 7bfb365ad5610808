/**
 * Memory in the agent loop: the `memory_write` / `memory_search` tools through the gate, the
 * process-end memory (and its opt-out), and compaction of a long scripted conversation under a
 * small context window, persisted so later steps build on it instead of redoing it.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import type { CompactionState } from "../../src/kernel/memory/compaction";
import type { ChatMessage } from "../../src/llm/types";
import type { AgentProcess } from "../../src/objects/agent-process";
import { COMPACTION_KV_KEY } from "../../src/objects/memory-compaction";
import {
  call,
  defineType,
  ended,
  eventsOf,
  type FullProcess,
  finishTurn,
  newPool,
  newTenant,
  spawn,
  type TestTenant,
  until,
} from "../helpers";

const testEnv = env as unknown as Env;

interface Hit {
  id: string;
  content: string;
  provenance: { processId: string; step: number | null; source: string; agentType: string };
}

async function searchAs(t: TestTenant, processId: string, q: string): Promise<Hit[]> {
  const res = await call<{ items: Hit[] }>(
    "GET",
    `/v1/processes/${processId}/workspace/memory?q=${encodeURIComponent(q)}`,
    { token: t.reader },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
}

/** Polls a search until it returns something (the process-end write follows the exit). */
async function eventually(t: TestTenant, processId: string, q: string): Promise<Hit[]> {
  for (let i = 0; i < 200; i++) {
    const items = await searchAs(t, processId, q);
    if (items.length > 0) return items;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no memory matched ${q}`);
}

function inObject<T>(id: string, fn: (p: AgentProcess) => T): Promise<T> {
  const stub = testEnv.AGENT_PROCESS.get(testEnv.AGENT_PROCESS.idFromName(id));
  return runInDurableObject(stub, (instance: AgentProcess) => fn(instance));
}

const MEMORY_CAPS = ["proc.finish", "memory.write", "memory.read"];

describe("the memory tools of the agent loop", () => {
  it("writes and searches memory through the gate, with provenance in the tool result", async () => {
    const t = await newTenant("mem-tools");
    const type = await defineType(t, { capabilities: MEMORY_CAPS });
    const res = await spawn(t.operator, {
      type,
      goal: "learn about herons",
      script: [
        {
          toolCalls: [
            {
              name: "memory_write",
              arguments: { content: "The heron fishes at dawn by the weir.", tags: ["birds"] },
            },
          ],
        },
        { toolCalls: [{ name: "memory_search", arguments: { query: "heron weir" } }] },
        { toolCalls: [{ name: "memory_search", arguments: { query: '"*' } }] },
        { toolCalls: [{ name: "memory_write", arguments: { content: "" } }] },
        finishTurn("done"),
      ],
    });
    expect(res.status).toBe(201);
    const done = (await until(t.reader, res.body.id, ended)) as FullProcess;
    expect(done.status).toBe("exited");

    const found = await searchAs(t, res.body.id, "heron");
    const written = found.find((m) => m.provenance.source === "explicit")!;
    expect(written.provenance).toMatchObject({
      processId: res.body.id,
      step: 1,
      source: "explicit",
      agentType: type,
    });

    const log = (await eventsOf(t.reader, res.body.id))
      .filter((e) => e.event === "syscall")
      .map((e) => e.reason);
    expect(log[0]).toMatch(/^memory_write: allow/);
    expect(log[1]).toMatch(/^memory_search: allow/);

    const messages = await inObject(res.body.id, (p) => p.store.messages());
    const tools = messages.filter(
      (m): m is Extract<ChatMessage, { role: "tool" }> => m.role === "tool",
    );
    const search = JSON.parse(tools[1]!.content) as { results: Hit[] };
    expect(search.results[0]!.id).toBe(written.id);
    expect(search.results[0]!.provenance.processId).toBe(res.body.id);
    // A query with no word and an empty memory come back as errors the model reads.
    expect(tools[2]!.isError).toBe(true);
    expect(tools[2]!.content).toContain("at least one word");
    expect(tools[3]!.isError).toBe(true);
    expect(tools[3]!.content).toContain("content");
  });

  it("denies the memory tools to a process without the capabilities", async () => {
    const t = await newTenant("mem-nocap");
    const type = await defineType(t, { capabilities: ["proc.finish"] });
    const res = await spawn(t.operator, {
      type,
      labels: { memory: "off" },
      script: [
        { toolCalls: [{ name: "memory_write", arguments: { content: "should not land" } }] },
        finishTurn("done"),
      ],
    });
    await until(t.reader, res.body.id, ended);
    const log = (await eventsOf(t.reader, res.body.id))
      .filter((e) => e.event === "syscall")
      .map((e) => e.reason);
    expect(log[0]).toMatch(/^memory_write: deny/);
    expect(
      (await call<{ items: unknown[] }>("GET", "/v1/memories", { token: t.reader })).body.items,
    ).toEqual([]);
  });
});

describe("the process-end memory", () => {
  it("remembers the goal and result of an exit, once, unless the process opts out", async () => {
    const t = await newTenant("mem-end");
    // The opted-out process ends first; the other's memory landing after it shows the order.
    const quiet = await spawn(t.operator, {
      goal: "count the ospreys quietly",
      labels: { memory: "off" },
      script: [finishTurn({ ospreys: 3 })],
    });
    await until(t.reader, quiet.body.id, ended);
    const loud = await spawn(t.operator, {
      goal: "count the ospreys on the estuary",
      script: [finishTurn({ ospreys: 7, where: "estuary" })],
    });
    await until(t.reader, loud.body.id, ended);
    const hits = await eventually(t, loud.body.id, "ospreys");
    expect(hits).toHaveLength(1);
    expect(hits[0]!.provenance).toMatchObject({
      processId: loud.body.id,
      source: "process_end",
      step: 1,
      agentType: "assistant",
    });
    expect(hits[0]!.content).toBe(
      'Goal: count the ospreys on the estuary\nResult: {"ospreys":7,"where":"estuary"}',
    );
    // A terminated process leaves no memory either.
    const cut = await spawn(t.operator, {
      goal: "ospreys that never get counted",
      script: [{ toolCalls: [{ name: "sleep", arguments: { ms: 3_600_000 } }] }],
    });
    await until(t.reader, cut.body.id, (p) => p.status === "waiting");
    await call("POST", `/v1/processes/${cut.body.id}/terminate`, { token: t.operator });
    await until(t.reader, cut.body.id, ended);
    expect(await searchAs(t, loud.body.id, "ospreys")).toHaveLength(1);
  });
});

describe("compaction of the conversation", () => {
  it("summarises old turns near a small window, persists it and does not redo it each step", async () => {
    const pool = await newPool({ contextWindowTokens: 1200, maxOutputTokensPerStep: 64 });
    const t = await newTenant("mem-compact");
    const type = await defineType(t, { pool, capabilities: ["proc.finish"] });
    const turns = Array.from({ length: 16 }, (_, i) => ({
      text: `Observation ${i + 1}: ${"the tide table shows another rise of the water level ".repeat(7)}`,
    }));
    const res = await spawn(t.operator, {
      type,
      goal: "watch the tide",
      script: [...turns, finishTurn("tide watched")],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = (await until(t.reader, res.body.id, ended)) as FullProcess;
    // Every scripted turn played in order: compaction did not change what the model replays.
    expect(done.status).toBe("exited");
    expect(done.result).toBe("tide watched");
    expect(done.stats.steps).toBe(17);

    const events = await eventsOf(t.reader, res.body.id);
    const compactions = events.filter((e) => e.event === "compact");
    expect(compactions.length).toBeGreaterThanOrEqual(2);
    expect(compactions[0]!.reason).toMatch(/^compacted \d+ messages into the summary/);
    // Persisted: the step after a compaction starts from it, so no two steps in a row compact.
    const kinds = events.filter((e) => e.event === "compact" || e.event === "step");
    for (let i = 1; i < kinds.length; i++) {
      if (kinds[i]!.event === "compact") {
        expect(kinds[i - 1]!.event).toBe("step");
        expect(kinds[i - 2]?.event ?? "step").toBe("step");
      }
    }
    // Each step's input stayed inside the window.
    for (const e of events.filter((x) => x.event === "step")) {
      const input = Number(/: (\d+) in,/.exec(e.reason ?? "")?.[1]);
      expect(input).toBeLessThanOrEqual(1200);
    }

    const state = await inObject(res.body.id, (p) =>
      p.store.getKv<CompactionState>(COMPACTION_KV_KEY),
    );
    expect(state).not.toBeNull();
    expect(state!.compactions).toBe(compactions.length);
    expect(state!.coveredMessages).toBeGreaterThan(0);
    // The conversation itself is intact; the summary stands for its first messages.
    const stored = await inObject(res.body.id, (p) => p.store.messages());
    // 16 text turns, then finish and its result.
    expect(stored).toHaveLength(18);
    expect(state!.coveredMessages).toBeLessThan(16);
    const lastLine = state!.lines.at(-1)!;
    expect(lastLine).toBe(
      `turn ${state!.coveredTurns}: said "${`Observation ${state!.coveredTurns}: ${"the tide table shows another rise of the water level ".repeat(7)}`.trim().slice(0, 159)}…"`,
    );
  });
});
