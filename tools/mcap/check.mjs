// Reads an MCAP file with the official reader (McapStreamReader from @mcap/core, CRCs validated, zstd and lz4
// chunks decompressed) and prints a JSON summary: header, channels with schema and message counts, the first and
// last message of each JSON channel decoded, and whether a summary section and a footer were read.
// Usage: node check.mjs FILE.mcap
import { McapStreamReader } from "@mcap/core";
import * as zstd from "@foxglove/wasm-zstd";
import lz4 from "lz4js";
import { readFileSync } from "node:fs";

await zstd.isLoaded;
const reader = new McapStreamReader({
  validateCrcs: true,
  decompressHandlers: {
    zstd: (data, size) => zstd.decompress(data, Number(size)),
    lz4: (data) => Uint8Array.from(lz4.decompress(data)),
  },
});
reader.append(readFileSync(process.argv[2]));
const schemas = new Map(), channels = new Map(), counts = new Map(), firstJson = new Map(), lastJson = new Map();
let header = null, footer = false, summaryRecords = 0, chunkIndexes = 0;
for (let r; (r = reader.nextRecord()); ) {
  if (r.type === "Header") header = { profile: r.profile, library: r.library };
  else if (r.type === "Schema") schemas.set(r.id, { name: r.name, encoding: r.encoding, data: new TextDecoder().decode(r.data) });
  else if (r.type === "Channel") channels.set(r.id, r);
  else if (r.type === "Message") {
    counts.set(r.channelId, (counts.get(r.channelId) ?? 0) + 1);
    const ch = channels.get(r.channelId);
    if (ch && ch.messageEncoding === "json") {
      const v = JSON.parse(new TextDecoder().decode(r.data));
      if (!firstJson.has(r.channelId)) firstJson.set(r.channelId, v);
      lastJson.set(r.channelId, v);
    }
  } else if (r.type === "ChunkIndex") chunkIndexes++;
  else if (r.type === "Footer") footer = true;
  else if (r.type === "Statistics" || r.type === "SummaryOffset") summaryRecords++;
}
if (!reader.done()) throw new Error("the reader did not reach the end of the file (truncated?)");
const out = { header, footer, chunkIndexes, summaryRecords, channels: [] };
for (const [id, ch] of channels) {
  const s = schemas.get(ch.schemaId);
  out.channels.push({ id, topic: ch.topic, messageEncoding: ch.messageEncoding, schema: s?.name, schemaEncoding: s?.encoding,
    messages: counts.get(id) ?? 0, first: firstJson.get(id) ?? null, last: lastJson.get(id) ?? null });
}
console.log(JSON.stringify(out));
