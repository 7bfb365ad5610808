import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { GuestChannelError, GuestExecutor } from "../../src/verifier/guest-executor.js";

/*
 * The host side of the guest channel against a stand-in for the guest's command server (the
 * real one runs in the VM under `npm run test:kernel`): same wire, answers computed in JS.
 */

type Handler = (
  argv: string[],
  stdin: string | null,
) => { code: number; stdout: string; stderr: string; timedOut?: boolean } | null;

const b64 = (text: string) => `:${Buffer.from(text).toString("base64")}`;
const unb64 = (field: string) => Buffer.from(field.slice(1), "base64").toString();

async function guestPair(
  handler: Handler,
): Promise<{ guest: GuestExecutor; lines: string[]; peer: () => Socket; server: Server }> {
  const dir = await mkdtemp(join(tmpdir(), "ek-guest-"));
  const path = join(dir, "s.sock");
  const lines: string[] = [];
  let peerSocket: Socket | null = null;
  const server = createServer((socket) => {
    peerSocket = socket;
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        lines.push(line);
        const [op, id, limit, input, ...args] = line.split(" ");
        if (op === "PING") socket.write(`noise from the console\nEK-PONG ${id}\n`);
        if (op === "RUN" && id !== undefined && limit !== undefined && input !== undefined) {
          const reply = handler(args.map(unb64), input === "-" ? null : unb64(input));
          if (reply === null) continue;
          socket.write(
            `EK-DONE ${id} ${reply.code} ${reply.timedOut ? 1 : 0} ${b64(reply.stdout)} ${b64(reply.stderr)}\n`,
          );
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const socket = connect(path);
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  const guest = new GuestExecutor(socket);
  onTestFinished(async () => {
    guest.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { guest, lines, peer: () => peerSocket!, server };
}

describe("GuestExecutor", () => {
  it("pings until the server answers, then runs argv exactly, empty and odd arguments included", async () => {
    const { guest, lines } = await guestPair((argv) => ({
      code: 0,
      stdout: JSON.stringify(argv),
      stderr: "",
    }));
    await guest.ready(10_000);
    expect(lines[0]).toMatch(/^PING p\d+$/);
    const result = await guest.run(["printf", "%s", "a b", "", "$(x) ;|*"], { timeoutMs: 5_000 });
    expect(result).toEqual({
      code: 0,
      stdout: JSON.stringify(["printf", "%s", "a b", "", "$(x) ;|*"]),
      stderr: "",
      timedOut: false,
    });
    const run = lines.find((line) => line.startsWith("RUN "));
    expect(run?.split(" ").slice(2, 4)).toEqual(["5", "-"]);
  });

  it("reports exit codes, both streams and a guest-side timeout", async () => {
    const { guest } = await guestPair((argv) =>
      argv[0] === "sleep"
        ? { code: 137, stdout: "", stderr: "", timedOut: true }
        : { code: 3, stdout: "out\n", stderr: "err\n" },
    );
    expect(await guest.run(["false"])).toEqual({
      code: 3,
      stdout: "out\n",
      stderr: "err\n",
      timedOut: false,
    });
    expect(await guest.run(["sleep", "9"], { timeoutMs: 1_000 })).toEqual({
      code: null,
      stdout: "",
      stderr: "",
      timedOut: true,
    });
  });

  it("reads text with cat (null when cat fails) and writes bytes through dd's stdin", async () => {
    const files = new Map([["/sys/kernel/sched_ext/state", "enabled\n"]]);
    const { guest } = await guestPair((argv, stdin) => {
      if (argv[0] === "cat") {
        const text = files.get(argv[1] ?? "");
        return text === undefined
          ? { code: 1, stdout: "", stderr: "No such file" }
          : { code: 0, stdout: text, stderr: "" };
      }
      if (argv[0] === "dd" && stdin !== null) {
        files.set((argv[1] ?? "").replace(/^of=/, ""), stdin);
        return { code: 0, stdout: "", stderr: "1+0 records in" };
      }
      return { code: 127, stdout: "", stderr: "" };
    });
    expect(await guest.readText("/sys/kernel/sched_ext/state")).toBe("enabled\n");
    expect(await guest.readText("/nope")).toBeNull();
    await guest.writeBytes("/tmp/obj", new TextEncoder().encode("ELF"));
    expect(files.get("/tmp/obj")).toBe("ELF");
  });

  it("fails every pending command with a channel error when the guest goes away", async () => {
    const { guest, peer } = await guestPair(() => null);
    await guest.ready(10_000);
    const pending = guest.run(["sleep", "1"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    peer().destroy();
    await expect(pending).rejects.toBeInstanceOf(GuestChannelError);
    await expect(guest.run(["true"])).rejects.toBeInstanceOf(GuestChannelError);
  });
});
