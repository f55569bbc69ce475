/**
 * ManagedProcess (lib/stack/process.ts): a started service keeps none of
 * its starter's extra file descriptors. A broker or MinIO restarted by a fault
 * test under `flock -x` once kept the lock fd and held the shared lock for
 * every other test run. No stack needed.
 */
import assert from "node:assert/strict";

Deno.test("ManagedProcess.start: the service does not inherit fd 3 (e.g. a flock lock)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shopstream-process-" });
  try {
    const lib = new URL("../lib/stack/process.ts", import.meta.url).href;
    const script = `${dir}/start.ts`;
    await Deno.writeTextFile(
      script,
      `import { ManagedProcess } from ${JSON.stringify(lib)};
const p = new ManagedProcess({ name: "sleeper", cmd: ["sleep", "30"], marker: "sleep",
  pidFile: "${dir}/sleeper.pid", logFile: "${dir}/sleeper.log" });
const pid = await p.start();
const fds = [...Deno.readDirSync("/proc/" + pid + "/fd")]
  .map((e) => { try { return Deno.readLinkSync("/proc/" + pid + "/fd/" + e.name); } catch { return ""; } });
console.log(JSON.stringify({ pid, fds }));`,
    );
    // The starter holds an inheritable fd 3, as `flock lockfile cmd` gives its command.
    const out = await new Deno.Command("sh", {
      args: ["-c", `exec 3>"${dir}/held.lock"; exec "${Deno.execPath()}" run -A "${script}"`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const { pid, fds } = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      pid: number;
      fds: string[];
    };
    try {
      assert.ok(fds.length > 0);
      assert.ok(!fds.includes(`${dir}/held.lock`), `the service kept ${dir}/held.lock open`);
    } finally {
      Deno.kill(pid, "SIGTERM");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
