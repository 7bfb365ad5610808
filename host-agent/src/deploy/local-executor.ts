import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { readKernelFile } from "../read.js";
import type { CommandResult, Executor, SpawnedProcess } from "./types.js";

/** A command that runs longer than this is killed, unless the caller asks for another bound. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
/** Each of stdout and stderr is kept up to this many bytes; the rest is dropped and marked. */
export const MAX_COMMAND_OUTPUT_BYTES = 1_048_576;
/** What a spawned long-running process keeps of its output: the last this many chars. */
export const SPAWN_TAIL_CHARS = 16_384;

/** Options of one local command beyond the Executor seam: the verifier's tools need them. */
export interface LocalRunOptions {
  timeoutMs?: number;
  /** Extra environment variables, merged over this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  maxOutputBytes?: number;
}

/**
 * Runs commands on this machine with `spawn` (never a shell), a timeout and bounded output.
 *
 * @example
 * const local = new LocalExecutor();
 * const { code, stdout } = await local.run(["uname", "-r"], { timeoutMs: 5_000 });
 */
export class LocalExecutor implements Executor {
  readonly name = "local";

  run(argv: readonly string[], options: LocalRunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new Error("LocalExecutor.run: empty argv"));
    const maxOutputBytes = options.maxOutputBytes ?? MAX_COMMAND_OUTPUT_BYTES;
    return new Promise((resolve) => {
      const child = spawn(file, args, {
        stdio: ["ignore", "pipe", "pipe"],
        env: options.env === undefined ? process.env : { ...process.env, ...options.env },
        cwd: options.cwd,
        windowsHide: true,
      });
      const stdout = new BoundedOutput(maxOutputBytes);
      const stderr = new BoundedOutput(maxOutputBytes);
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
      let startError: Error | null = null;
      child.on("error", (error) => {
        startError = error;
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        const failed = startError as Error | null;
        resolve({
          code: failed === null ? code : null,
          stdout: stdout.text(),
          stderr: failed === null ? stderr.text() : `${stderr.text()}${failed.message}`,
          timedOut,
        });
      });
    });
  }

  async readText(path: string): Promise<string | null> {
    const read = await readKernelFile(path);
    return read.kind === "text" ? read.text : null;
  }

  async writeBytes(path: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes, { mode: 0o600 });
  }

  spawn(argv: readonly string[]): SpawnedProcess {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error("LocalExecutor.spawn: empty argv");
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    let stdout = "";
    let stderr = "";
    let exited = false;
    child.stdout.on("data", (chunk: Buffer) => {
      stdout = (stdout + chunk.toString("utf8")).slice(-SPAWN_TAIL_CHARS);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-SPAWN_TAIL_CHARS);
    });
    const done = new Promise<CommandResult>((resolve) => {
      child.on("error", (error) => {
        exited = true;
        resolve({ code: null, stdout, stderr: `${stderr}${error.message}`, timedOut: false });
      });
      child.on("close", (code) => {
        exited = true;
        resolve({ code, stdout, stderr, timedOut: false });
      });
    });
    return {
      pid: child.pid ?? null,
      kill: (signal) => (exited ? false : child.kill(signal)),
      exited: done,
      hasExited: () => exited,
    };
  }
}

/** Keeps the first `maxBytes` of a stream and counts the rest. */
class BoundedOutput {
  readonly #chunks: Buffer[] = [];
  #keptBytes = 0;
  #droppedBytes = 0;

  constructor(readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    const room = this.maxBytes - this.#keptBytes;
    if (room > 0) this.#chunks.push(chunk.subarray(0, room));
    const kept = Math.min(room, chunk.length);
    this.#keptBytes += Math.max(0, kept);
    this.#droppedBytes += chunk.length - Math.max(0, kept);
  }

  text(): string {
    const head = Buffer.concat(this.#chunks).toString("utf8");
    return this.#droppedBytes === 0
      ? head
      : `${head}\n[… ${this.#droppedBytes} more bytes dropped]\n`;
  }
}
