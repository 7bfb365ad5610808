/*
 * A gzip-compressed cpio archive in the kernel's "newc" format: what an initramfs is. Written
 * here rather than with `find | cpio | gzip`, so building one runs no shell.
 */
import { gzipSync } from "node:zlib";

/** One entry: a directory, a regular file with its bytes, or a symlink to a target. */
export type CpioEntry =
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "file"; path: string; data: Uint8Array; mode?: number }
  | { kind: "symlink"; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function header(fields: number[]): string {
  return `070701${fields.map((n) => n.toString(16).padStart(8, "0")).join("")}`;
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

/**
 * Packs entries (paths relative to the archive root, without a leading slash) into newc cpio
 * and gzips it.
 *
 * @example
 * const initrd = packInitramfs([{ kind: "dir", path: "bin" }, { kind: "file", path: "init", data, mode: 0o755 }]);
 */
export function packInitramfs(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const push = (name: string, mode: number, data: Uint8Array) => {
    const nameBytes = Buffer.from(`${name}\0`, "utf8");
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    const head = Buffer.from(
      header([ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0]),
      "ascii",
    );
    ino += 1;
    parts.push(
      head,
      nameBytes,
      pad4(head.length + nameBytes.length),
      Buffer.from(data),
      pad4(data.length),
    );
  };
  for (const entry of entries) {
    const path = entry.path.replace(/^\/+/, "");
    if (entry.kind === "dir") push(path, S_IFDIR | (entry.mode ?? 0o755), new Uint8Array());
    else if (entry.kind === "file") push(path, S_IFREG | (entry.mode ?? 0o644), entry.data);
    else push(path, S_IFLNK | 0o777, Buffer.from(entry.target, "utf8"));
  }
  push("TRAILER!!!", 0, new Uint8Array());
  return gzipSync(Buffer.concat(parts), { level: 1 });
}
