import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AllowListError, createDeployPath, readScxAllowList } from "../../src/agent/deploy-path.js";
import { loadConfig } from "../../src/config.js";
import { copyFixture } from "../helpers.js";
import { testKey } from "./fleet-helpers.js";

describe("the deploy path from the configuration", () => {
  it("reads the scx allow-list, and names the file and field of a bad one", async () => {
    const tree = await copyFixture("plain-node");
    expect(await readScxAllowList(undefined)).toEqual({});
    const good = join(tree.dir, "allow.json");
    await writeFile(
      good,
      JSON.stringify({
        scx_rusty: {
          path: "/usr/bin/scx_rusty",
          parameters: { slice_us: { type: "int", flag: "--slice-us", min: 1000, max: 100000 } },
        },
      }),
    );
    expect(Object.keys(await readScxAllowList(good))).toEqual(["scx_rusty"]);
    const bad = join(tree.dir, "bad.json");
    await writeFile(
      bad,
      JSON.stringify({ scx_rusty: { path: "relative/scx_rusty", parameters: {} } }),
    );
    await expect(readScxAllowList(bad)).rejects.toThrow(
      new AllowListError(`scx allow-list ${bad}: scx_rusty.path: expected an absolute path`),
    );
    await expect(readScxAllowList(join(tree.dir, "missing.json"))).rejects.toThrow(/ENOENT/);
  });

  it("gives a node the real deployer (dry-run when configured) and a verifier only a job runner", async () => {
    const { trust } = await testKey();
    const tree = await copyFixture("scx-node");
    const config = await loadConfig({
      flags: { sysRoot: tree.sysRoot, dryRun: true },
      env: {},
      cwd: tree.dir,
    });
    const base = {
      config,
      trust,
      fetchArtifact: async () => new Uint8Array(),
      print: () => {},
      log: () => {},
    };
    const node = await createDeployPath({ ...base, role: "node" });
    expect(node.deployer?.dryRun).toBe(true);
    expect(node.deploy).toBeTypeOf("function");
    expect(node.runVerifyJob).toBeNull();
    await node.deployer?.close();
    const verifier = await createDeployPath({ ...base, role: "verifier" });
    expect(verifier.deployer).toBeNull();
    expect(verifier.deploy).toBeNull();
    expect(verifier.runVerifyJob).toBeTypeOf("function");
  });
});
