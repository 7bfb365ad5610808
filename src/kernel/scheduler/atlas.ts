/**
 * Adaptive thread-level least attained service (Autellix ATLAS): PLAS for programs whose calls
 * run in parallel threads (a tree search's branches, a coordinator's children). A request's
 * priority is the service attained along its thread's critical path, not the program's total,
 * so a program that fans out to eight branches is ranked by how deep it is, not by eight times
 * its depth: p(c) = max over c's parents of (p(parent) + service(parent)).
 *
 * Threads are named by the request's `threadId`. A request's parent is the previous request of
 * its thread; a thread's first request has as parents everything the program has finished so
 * far, so it starts from the program's longest path (a level of a tree search starts after the
 * previous level's slowest branch). The program's attained service is its longest path; a
 * request without a `threadId` belongs to its process's one thread, and for a program with one
 * thread ATLAS is exactly PLAS. Levels, FIFO within a level and anti-starvation are PLAS's.
 */

import type { z } from "zod";
import { PlasOptionsSchema, PlasPolicy, type ProgramService } from "./plas.js";
import type { SchedTask } from "./types.js";

/** Threads one program may have remembered; past it the least recently started is forgotten. */
export const MAX_THREADS_PER_PROGRAM = 4_096;

/** The thread of requests that name none: the process itself. */
const MAIN_THREAD = "";

export const AtlasOptionsSchema = PlasOptionsSchema;
export type AtlasOptions = z.input<typeof AtlasOptionsSchema>;

/** ATLAS: PLAS ranked by critical-path service. */
export class AtlasPolicy extends PlasPolicy {
  override readonly name: string = "atlas";

  protected override attainedOf(task: SchedTask, program: ProgramService): number {
    const threads = this.threadsOf(program);
    const id = task.threadId ?? MAIN_THREAD;
    const path = threads.get(id);
    if (path !== undefined) return path;
    // A new thread forks from everything the program has finished: its longest path.
    this.setPath(threads, id, program.attainedTokens);
    return program.attainedTokens;
  }

  protected override account(task: SchedTask, program: ProgramService, tokens: number): void {
    const threads = this.threadsOf(program);
    const id = task.threadId ?? MAIN_THREAD;
    const path = (threads.get(id) ?? program.attainedTokens) + tokens;
    this.setPath(threads, id, path);
    program.attainedTokens = Math.max(program.attainedTokens, path);
  }

  private threadsOf(program: ProgramService): Map<string, number> {
    program.threads ??= new Map();
    return program.threads;
  }

  private setPath(threads: Map<string, number>, id: string, pathTokens: number): void {
    if (!threads.has(id) && threads.size >= MAX_THREADS_PER_PROGRAM) {
      // Forgetting a thread is safe: if it returns, it restarts from the program's longest path.
      const oldest = threads.keys().next().value as string;
      threads.delete(oldest);
    }
    threads.set(id, pathTokens);
  }
}

/**
 * Creates an ATLAS policy.
 *
 * @example createAtlasPolicy(); // tasks of a tree search carry threadId: "level.branch"
 */
export function createAtlasPolicy(options: AtlasOptions = {}): AtlasPolicy {
  return new AtlasPolicy(options);
}
