/** MinIO: put, list, get and delete in the configured bucket (the real server). */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createObjectStoreClient } from "../lib/lake/client.ts";
import { config, requireMinio, uniqueName } from "./support.ts";

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

Deno.test("minio: put, list, get, delete in the configured bucket", async (t) => {
  await requireMinio();
  const s3 = createObjectStoreClient(config);
  const prefix = `${uniqueName("test/minio")}/`;
  const body = Buffer.from(JSON.stringify({ hello: "lake", bytes: [0, 1, 2] }));

  await t.step("the bucket exists", async () => {
    assert.equal(await s3.bucketExists(config.s3.bucket), true);
  });
  await t.step("put two objects", async () => {
    await s3.putObject(config.s3.bucket, `${prefix}a.json`, body, body.length, {
      "Content-Type": "application/json",
    });
    await s3.putObject(config.s3.bucket, `${prefix}b.json`, body, body.length);
  });
  await t.step("list them under their prefix", async () => {
    const items = await collect(s3.listObjectsV2(config.s3.bucket, prefix, true));
    assert.deepEqual(items.map((i) => i.name).sort(), [`${prefix}a.json`, `${prefix}b.json`]);
    assert.ok(items.every((i) => i.size === body.length));
  });
  await t.step("get one back byte for byte", async () => {
    const chunks = await collect(await s3.getObject(config.s3.bucket, `${prefix}a.json`));
    assert.deepEqual(Buffer.concat(chunks as Buffer[]), body);
    const stat = await s3.statObject(config.s3.bucket, `${prefix}a.json`);
    assert.equal(stat.metaData["content-type"], "application/json");
  });
  await t.step("delete both; the prefix is empty", async () => {
    await s3.removeObjects(config.s3.bucket, [`${prefix}a.json`, `${prefix}b.json`]);
    assert.deepEqual(await collect(s3.listObjectsV2(config.s3.bucket, prefix, true)), []);
    await assert.rejects(
      s3.statObject(config.s3.bucket, `${prefix}a.json`),
      /Not Found|NoSuchKey/i,
    );
  });
});
