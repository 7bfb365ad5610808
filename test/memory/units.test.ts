/**
 * The pure parts of memory: the compaction rule, the summary, the FTS query sanitiser, the
 * process-end memory's content; and the D1 repository's dedupe and quota at their edges.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { buildContext, messageTokens } from "../../src/kernel/agent/context";
import {
  COMPACTION_THRESHOLD_SHARE,
  EMPTY_COMPACTION,
  MIN_VERBATIM_TURNS,
  planCompaction,
  SUMMARY_SHARE,
  summariseTurn,
  summaryText,
} from "../../src/kernel/memory/compaction";
import { toFtsQuery } from "../../src/kernel/memory/fts-query";
import { MAX_MEMORY_QUERY_TERMS } from "../../src/kernel/memory/limits";
import type { ProcessRecord } from "../../src/kernel/process/record";
import type { ChatMessage } from "../../src/llm/types";
import { processEndContent } from "../../src/objects/memory-end";
import { openDb } from "../../src/store/db";
import { type NewMemory, writeMemory } from "../../src/store/memory";

const say = (text: string): ChatMessage => ({ role: "assistant", content: text, toolCalls: [] });
const callTool = (id: string, name: string, args: Record<string, unknown>): ChatMessage => ({
  role: "assistant",
  content: "",
  toolCalls: [{ id, name, arguments: args }],
});
const answer = (id: string, name: string, value: unknown, isError = false): ChatMessage => ({
  role: "tool",
  toolCallId: id,
  toolName: name,
  content: JSON.stringify(value),
  isError,
});
const tokensOf = (history: ChatMessage[]) => history.reduce((n, m) => n + messageTokens(m), 0);

describe("planCompaction", () => {
  const history = Array.from({ length: 10 }, (_, i) => say(`turn ${i + 1} ${"x".repeat(396)}`));

  it("does nothing while the conversation is under the threshold share of its room", () => {
    const room = Math.ceil(tokensOf(history) / COMPACTION_THRESHOLD_SHARE) + 1;
    expect(planCompaction({ history, state: EMPTY_COMPACTION, roomTokens: room })).toBeNull();
    expect(planCompaction({ history, state: EMPTY_COMPACTION, roomTokens: 0 })).toBeNull();
  });

  it("folds the oldest turns into numbered summary lines once over it", () => {
    const room = Math.floor(tokensOf(history) / COMPACTION_THRESHOLD_SHARE) - 1;
    const plan = planCompaction({ history, state: EMPTY_COMPACTION, roomTokens: room })!;
    expect(plan).not.toBeNull();
    expect(plan.compactedMessages).toBeGreaterThan(0);
    expect(plan.state.coveredMessages).toBe(plan.compactedMessages);
    expect(plan.state.lines[0]).toMatch(/^turn 1: said "turn 1 x+…"$/);
    expect(plan.tokensAfter).toBeLessThan(plan.tokensBefore);
    expect(summaryText(plan.state)).toMatch(/^\[Summary of the first \d+ messages/);
    // A second plan from the new state, with nothing added, has nothing to do.
    expect(planCompaction({ history, state: plan.state, roomTokens: room })).toBeNull();
  });

  it("always keeps the newest turns verbatim, however small the room", () => {
    const plan = planCompaction({ history, state: EMPTY_COMPACTION, roomTokens: 50 })!;
    expect(plan.state.coveredMessages).toBe(history.length - MIN_VERBATIM_TURNS);
    // And caps the summary, saying how many lines it left out.
    expect(plan.state.omittedLines).toBeGreaterThan(0);
    expect(summaryText(plan.state)).toContain("older summary lines omitted");
    const capped = messageTokens({ role: "user", content: summaryText(plan.state)! });
    expect(capped).toBeLessThanOrEqual(Math.max(16, Math.floor(50 * SUMMARY_SHARE)) + 40);
  });

  it("never separates a tool call from its result, nor passes an unanswered call", () => {
    const big = "y".repeat(2000);
    const convo: ChatMessage[] = [
      callTool("c1", "memory_search", { query: "a" }),
      answer("c1", "memory_search", { results: [big] }),
      callTool("c2", "sleep", { ms: 10 }), // unanswered: everything from here stays verbatim
      say(big),
      say(big),
      say(big),
    ];
    const plan = planCompaction({ history: convo, state: EMPTY_COMPACTION, roomTokens: 1200 })!;
    expect(plan.state.coveredMessages).toBe(2);
    expect(plan.state.lines[0]).toMatch(
      /^turn 1: called memory_search\(\{"query":"a"\}\) -> ok: \{"results":\["y+…$/,
    );
  });

  it("summarises errors and missing results as such", () => {
    const line = summariseTurn(
      [callTool("c1", "spawn", { type: "x" }), answer("c1", "spawn", { error: "no" }, true)],
      4,
    );
    expect(line).toBe('turn 4: called spawn({"type":"x"}) -> error: {"error":"no"}');
    expect(summariseTurn([callTool("c9", "wait", {})], 5)).toBe(
      "turn 5: called wait({}) -> no result",
    );
  });
});

describe("buildContext with a summary", () => {
  it("pins the summary right after the goal and counts it", () => {
    const built = buildContext({
      system: "s",
      goal: "the goal",
      history: [say("recent")],
      summary: "[Summary] turn 1: said hello",
      contextWindowTokens: 1000,
      maxOutputTokens: 10,
      toolTokens: 0,
    });
    expect(built.messages.map((m) => m.content)).toEqual([
      "the goal",
      "[Summary] turn 1: said hello",
      "recent",
    ]);
    expect(built.droppedMessages).toBe(0);
  });
});

describe("toFtsQuery", () => {
  it("quotes words and ORs them, dropping every FTS operator character", () => {
    expect(toFtsQuery('deploy "canary')).toBe('"deploy" OR "canary"');
    expect(toFtsQuery("content:x* NEAR(a b) -c ^d")).toBe(
      '"content" OR "x" OR "near" OR "a" OR "b" OR "c" OR "d"',
    );
    expect(toFtsQuery("Über café 東京")).toBe('"über" OR "café" OR "東京"');
    expect(toFtsQuery("a a A")).toBe('"a"');
  });

  it("is null without a word and keeps at most the term cap", () => {
    for (const q of ["", "  ", '"', "*", "()^-:"]) expect(toFtsQuery(q)).toBeNull();
    const many = Array.from({ length: MAX_MEMORY_QUERY_TERMS + 10 }, (_, i) => `w${i}`).join(" ");
    expect(toFtsQuery(many)!.split(" OR ")).toHaveLength(MAX_MEMORY_QUERY_TERMS);
  });
});

describe("processEndContent", () => {
  const exited = {
    status: "exited",
    goal: "g",
    result: { ok: 1 },
    labels: {},
  } as unknown as ProcessRecord;

  it("holds the goal and result of an exit with a result", () => {
    expect(processEndContent(exited)).toBe('Goal: g\nResult: {"ok":1}');
    expect(processEndContent({ ...exited, result: "plain" } as ProcessRecord)).toBe(
      "Goal: g\nResult: plain",
    );
  });

  it("is null for other endings, a null result, or the memory=off label", () => {
    expect(processEndContent({ ...exited, status: "terminated" } as ProcessRecord)).toBeNull();
    expect(processEndContent({ ...exited, result: null } as ProcessRecord)).toBeNull();
    expect(processEndContent({ ...exited, labels: { memory: "off" } } as ProcessRecord)).toBeNull();
  });
});

describe("the memory repository", () => {
  const db = () => openDb((env as unknown as Env).DB);
  const memory = (over: Partial<NewMemory>): NewMemory => ({
    tenantId: `ten_${crypto.randomUUID().replaceAll("-", "")}`,
    agentType: "assistant",
    processId: null,
    step: null,
    source: "explicit",
    content: "c",
    tags: [],
    dedupeKey: null,
    ...over,
  });

  it("writes a memory once per dedupe key", async () => {
    const m = memory({ dedupeKey: "tool:p:1:0" });
    const first = await writeMemory(db(), m, 10, Date.now());
    const again = await writeMemory(db(), { ...m, content: "other" }, 10, Date.now());
    expect(first.ok && first.created).toBe(true);
    expect(again.ok && !again.created && again.row.id === (first.ok && first.row.id)).toBe(true);
  });

  it("refuses a write past the per-type limit, and only there", async () => {
    const base = memory({});
    expect((await writeMemory(db(), base, 2, Date.now())).ok).toBe(true);
    expect((await writeMemory(db(), base, 2, Date.now())).ok).toBe(true);
    const third = await writeMemory(db(), base, 2, Date.now());
    expect(third).toEqual({ ok: false, code: "quota_exceeded", limit: 2 });
    // Another agent type of the same tenant has its own allowance.
    expect((await writeMemory(db(), { ...base, agentType: "other" }, 2, Date.now())).ok).toBe(true);
  });
});
