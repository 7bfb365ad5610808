import type { Socket } from "node:net";
import type { CommandResult, Executor } from "../deploy/types.js";

/*
 * An Executor whose commands run inside the verifier's VM, through the command server on the
 * guest's second serial port (see guest-scripts.ts for the wire). One command at a time; a
 * reply that never comes is a broken channel (the guest hung or died) and throws.
 */

/** Added to a command's own timeout while waiting for its reply: the guest may be stalled by
 * the very scheduler under test until the sched_ext watchdog (≤ 30 s) ejects it. */
export const CHANNEL_MARGIN_MS = 60_000;
export const DEFAULT_GUEST_COMMAND_TIMEOUT_MS = 60_000;

/** The guest channel broke: no reply in time, or the connection closed. */
export class GuestChannelError extends Error {
  override readonly name = "GuestChannelError";
}

const enc = (bytes: Uint8Array | string) => `:${Buffer.from(bytes).toString("base64")}`;
const dec = (field: string) => Buffer.from(field.replace(/^:/, ""), "base64").toString("utf8");

interface Pending {
  resolve: (line: string[]) => void;
  reject: (error: Error) => void;
}

/**
 * Runs commands in the guest over a connected serial socket.
 *
 * @example
 * const guest = new GuestExecutor(socket);
 * await guest.ready(120_000);
 * const { stdout } = await guest.run(["cat", "/sys/kernel/sched_ext/state"]);
 */
export class GuestExecutor implements Executor {
  readonly name = "guest";
  #buffer = "";
  #nextId = 1;
  readonly #pending = new Map<string, Pending>();
  #queue: Promise<unknown> = Promise.resolve();
  #closedError: Error | null = null;
  #readyRelease: string | null = null;
  readonly #readyWaiters: ((release: string) => void)[] = [];

  constructor(private readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#onData(chunk));
    const fail = (error: Error) => {
      this.#closedError ??= error;
      for (const pending of this.#pending.values()) pending.reject(this.#closedError);
      this.#pending.clear();
    };
    socket.on("error", (error) => fail(new GuestChannelError(`guest channel: ${error.message}`)));
    socket.on("close", () => fail(new GuestChannelError("guest channel closed")));
  }

  /** The guest kernel's release once its command server said it is up. */
  get kernelRelease(): string | null {
    return this.#readyRelease;
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline < 0) break;
      const line = this.#buffer.slice(0, newline).replace(/\r$/, "");
      this.#buffer = this.#buffer.slice(newline + 1);
      const fields = line.split(" ");
      if (fields[0] === "EK-READY" || fields[0] === "EK-PONG") {
        if (fields[0] === "EK-READY") this.#readyRelease = fields.slice(1).join(" ").trim();
        for (const waiter of this.#readyWaiters.splice(0)) waiter(this.#readyRelease ?? "");
      } else if (fields[0] === "EK-DONE" && fields[1] !== undefined) {
        const pending = this.#pending.get(fields[1]);
        this.#pending.delete(fields[1]);
        pending?.resolve(fields);
      }
    }
  }

  /**
   * Waits until the command server answers, pinging meanwhile (an EK-READY sent before the
   * host connected is lost; a PING is answered whenever the server runs).
   */
  async ready(timeoutMs: number): Promise<void> {
    if (this.#closedError !== null) throw this.#closedError;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pinger: ReturnType<typeof setInterval> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#readyWaiters.push(() => resolve());
        timer = setTimeout(
          () => reject(new GuestChannelError(`the guest did not answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
        pinger = setInterval(() => this.socket.write(`PING p${this.#nextId++}\n`), 1_000);
        this.socket.once("close", () => reject(new GuestChannelError("guest channel closed")));
      });
    } finally {
      clearTimeout(timer);
      clearInterval(pinger);
    }
  }

  run(argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<CommandResult> {
    return this.#exchange(argv, null, options.timeoutMs ?? DEFAULT_GUEST_COMMAND_TIMEOUT_MS);
  }

  async readText(path: string): Promise<string | null> {
    const result = await this.run(["cat", path], { timeoutMs: 30_000 });
    return result.code === 0 ? result.stdout : null;
  }

  async writeBytes(path: string, bytes: Uint8Array): Promise<void> {
    const result = await this.#exchange(["dd", `of=${path}`], bytes, 60_000);
    if (result.code !== 0) throw new Error(`writing ${path} in the guest failed: ${result.stderr}`);
  }

  #exchange(
    argv: readonly string[],
    stdin: Uint8Array | null,
    timeoutMs: number,
  ): Promise<CommandResult> {
    if (argv.length === 0) return Promise.reject(new Error("GuestExecutor: empty argv"));
    const next = this.#queue.then(() => this.#send(argv, stdin, timeoutMs));
    this.#queue = next.catch(() => {});
    return next;
  }

  #send(
    argv: readonly string[],
    stdin: Uint8Array | null,
    timeoutMs: number,
  ): Promise<CommandResult> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    const id = `c${this.#nextId++}`;
    const limitS = Math.max(1, Math.ceil(timeoutMs / 1_000));
    const line = [
      "RUN",
      id,
      String(limitS),
      stdin === null ? "-" : enc(stdin),
      ...argv.map(enc),
    ].join(" ");
    return new Promise<CommandResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new GuestChannelError(
            `no reply from the guest to ${argv.join(" ")} within ${timeoutMs + CHANNEL_MARGIN_MS} ms`,
          ),
        );
      }, timeoutMs + CHANNEL_MARGIN_MS);
      this.#pending.set(id, {
        resolve: (fields) => {
          clearTimeout(timer);
          const timedOut = fields[3] === "1";
          resolve({
            code: timedOut ? null : Number(fields[2]),
            stdout: dec(fields[4] ?? ""),
            stderr: dec(fields[5] ?? ""),
            timedOut,
          });
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.write(`${line}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
