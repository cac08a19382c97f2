// Writes ROS 2 MCAP fixtures with the official MCAP TypeScript library (@mcap/core) and Foxglove's CDR
// serializer, from PNG frames: sensor_msgs/msg/Image (rgb8, bgr8, mono8) and sensor_msgs/msg/CompressedImage
// (png), in chunks compressed with zstd, lz4 (frame format) or not at all.
// Usage: node generate.mjs OUT_DIR FRAME.png [FRAME.png ...]
//   writes OUT_DIR/ros2-image-{zstd,lz4,none}.mcap, OUT_DIR/ros2-compressed-zstd.mcap, OUT_DIR/ros2-mono8-none.mcap,
//   and foxglove-{raw,compressed}-{protobuf,json}.mcap (foxglove.RawImage rgb8 / foxglove.CompressedImage png)
// Frames are resized (nearest) to 96x72 to keep the fixtures small; times are 1/15 s apart from 1.7e18 ns.
import { McapWriter } from "@mcap/core";
import { parse } from "@foxglove/rosmsg";
import { MessageWriter } from "@foxglove/rosmsg2-serialization";
import * as zstd from "@foxglove/wasm-zstd";
import lz4 from "lz4js";
import protobuf from "protobufjs";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { foxgloveMessageSchemas, generateProto } from "@foxglove/schemas/internal.js";
import { PNG } from "pngjs";
import { readFileSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";

const W = 96, H = 72;
const IMAGE_DEF = `std_msgs/Header header
uint32 height
uint32 width
string encoding
uint8 is_bigendian
uint32 step
uint8[] data
================================================================================
MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id
================================================================================
MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec`;
const COMPRESSED_DEF = `std_msgs/Header header
string format
uint8[] data
================================================================================
MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id
================================================================================
MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec`;

class FileSink {
  constructor(file) { this.fd = openSync(file, "w"); this.size = 0n; }
  async write(b) { writeSync(this.fd, b); this.size += BigInt(b.byteLength); }
  position() { return this.size; }
  close() { closeSync(this.fd); }
}

class Sink {
  constructor() { this.parts = []; this.size = 0n; }
  async write(b) { this.parts.push(Buffer.from(b)); this.size += BigInt(b.byteLength); }
  position() { return this.size; }
  bytes() { return Buffer.concat(this.parts); }
}

function resize(png) {
  const out = new PNG({ width: W, height: H });
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const sx = Math.floor(x * png.width / W), sy = Math.floor(y * png.height / H);
    const si = (sy * png.width + sx) * 4, di = (y * W + x) * 4;
    for (let c = 0; c < 4; c++) out.data[di + c] = png.data[si + c];
  }
  return out;
}

function compressor(kind) {
  if (kind === "zstd") return (data) => ({ compression: "zstd", compressedData: zstd.compress(data, 3) });
  if (kind === "lz4") return (data) => ({ compression: "lz4", compressedData: Uint8Array.from(lz4.compress(data)) });
  return undefined;
}

async function write(file, kind, frames, what, full = false) {
  const sink = full ? new FileSink(file) : new Sink();
  const writer = new McapWriter({ writable: sink, compressChunk: compressor(kind), chunkSize: 64 * 1024 });
  await writer.start({ profile: "ros2", library: "segsa tools/mcap/generate.mjs (@mcap/core 2.2.2)" });
  const compressed = what === "compressed";
  const def = compressed ? COMPRESSED_DEF : IMAGE_DEF;
  const name = compressed ? "sensor_msgs/msg/CompressedImage" : "sensor_msgs/msg/Image";
  const schemaId = await writer.registerSchema({ name, encoding: "ros2msg", data: new TextEncoder().encode(def) });
  const topic = compressed ? "/camera/image_raw/compressed" : "/camera/image_raw";
  const channelId = await writer.registerChannel({ topic, schemaId, messageEncoding: "cdr", metadata: new Map() });
  // a second channel that segsa must ignore
  const otherSchema = await writer.registerSchema({ name: "std_msgs/msg/String", encoding: "ros2msg", data: new TextEncoder().encode("string data") });
  const otherChannel = await writer.registerChannel({ topic: "/rosout_text", schemaId: otherSchema, messageEncoding: "cdr", metadata: new Map() });
  const mw = new MessageWriter(parse(def, { ros2: true }));
  const sw = new MessageWriter(parse("string data", { ros2: true }));
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < frames.length; i++) {
    const png = frames[i];
    const t = t0 + BigInt(i) * 66_666_667n;
    const stamp = { sec: Number(t / 1_000_000_000n), nanosec: Number(t % 1_000_000_000n) };
    const w = png.width, h = png.height;
    let msg;
    if (compressed) {
      msg = { header: { stamp, frame_id: "camera" }, format: "png", data: PNG.sync.write(png) };
    } else {
      const enc = what;  // rgb8, bgr8, mono8
      const ch = enc === "mono8" ? 1 : 3;
      const data = new Uint8Array(w * h * ch);
      for (let p = 0; p < w * h; p++) {
        const r = png.data[p * 4], g = png.data[p * 4 + 1], b = png.data[p * 4 + 2];
        if (enc === "rgb8") { data[p * 3] = r; data[p * 3 + 1] = g; data[p * 3 + 2] = b; }
        else if (enc === "bgr8") { data[p * 3] = b; data[p * 3 + 1] = g; data[p * 3 + 2] = r; }
        else data[p] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      }
      msg = { header: { stamp, frame_id: "camera" }, height: h, width: w, encoding: enc, is_bigendian: 0, step: w * ch, data };
    }
    await writer.addMessage({ channelId, sequence: i, logTime: t, publishTime: t, data: mw.writeMessage(msg) });
    await writer.addMessage({ channelId: otherChannel, sequence: i, logTime: t + 1n, publishTime: t + 1n, data: sw.writeMessage({ data: "frame " + i }) });
  }
  await writer.end();
  if (full) sink.close();
  else writeFileSync(file, sink.bytes());
  console.log(`wrote ${file} (${sink.position()} bytes, ${frames.length} ${name} on ${topic}, ${kind})`);
}

await zstd.isLoaded;
// node generate.mjs --full OUT.mcap KIND(zstd|lz4|none) WHAT(rgb8|bgr8|mono8|compressed) REPEAT FRAME.png ...
//   one file at the frames' own size, the frames repeated REPEAT times (for the throughput and memory measurements)
if (process.argv[2] === "--full") {
  const [, , , file, kind, what, repeat, ...files] = process.argv;
  const src = files.map((p) => PNG.sync.read(readFileSync(p)));
  const all = [];
  for (let r = 0; r < Number(repeat); r++) all.push(...src);
  await write(file, kind, all, what, true);
  process.exit(0);
}
// Foxglove's own image schemas (foxglove.RawImage rgb8 / foxglove.CompressedImage png), in protobuf (the schema a
// FileDescriptorSet made by protobufjs from the .proto that @foxglove/schemas generates, as Foxglove's docs do) or
// in JSON (the schema Foxglove's JSON schema, data in base64)
async function writeFoxglove(file, kind, frames, which, encoding) {
  const sink = new Sink();
  const writer = new McapWriter({ writable: sink, compressChunk: compressor(kind), chunkSize: 64 * 1024 });
  await writer.start({ profile: "", library: "segsa tools/mcap/generate.mjs (@mcap/core 2.2.2)" });
  const name = "foxglove." + which;
  let schemaId, type;
  if (encoding === "protobuf") {
    const root = new protobuf.Root();
    root.addJSON(protobuf.common.get("google/protobuf/timestamp.proto").nested);
    protobuf.parse(generateProto(foxgloveMessageSchemas[which], []), root, { keepCase: true });
    root.resolveAll();
    type = root.lookupType(name);
    const fds = descriptor.FileDescriptorSet.encode(root.toDescriptor("proto3")).finish();
    schemaId = await writer.registerSchema({ name, encoding: "protobuf", data: fds });
  } else {
    const { foxgloveJsonSchemas } = await import("@foxglove/schemas/jsonschema.js").catch(() => ({}));
    const js = foxgloveJsonSchemas?.[which] ?? { title: name, type: "object" };
    schemaId = await writer.registerSchema({ name, encoding: "jsonschema", data: new TextEncoder().encode(JSON.stringify(js)) });
  }
  const topic = which === "RawImage" ? "/cam/raw" : "/cam/compressed";
  const channelId = await writer.registerChannel({ topic, schemaId, messageEncoding: encoding, metadata: new Map() });
  const t0 = 1_700_000_000_000_000_000n;
  for (let i = 0; i < frames.length; i++) {
    const png = frames[i];
    const t = t0 + BigInt(i) * 66_666_667n;
    const timestamp = { sec: Number(t / 1_000_000_000n), nsec: Number(t % 1_000_000_000n) };
    let msg;
    if (which === "RawImage") {
      const data = new Uint8Array(png.width * png.height * 3);
      for (let p = 0; p < png.width * png.height; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = png.data[p * 4 + c];
      msg = { timestamp, frame_id: "camera", width: png.width, height: png.height, encoding: "rgb8", step: png.width * 3, data };
    } else {
      msg = { timestamp, frame_id: "camera", data: PNG.sync.write(png), format: "png" };
    }
    let bytes;
    if (encoding === "protobuf") {
      const pm = { ...msg, timestamp: { seconds: timestamp.sec, nanos: timestamp.nsec } };
      bytes = type.encode(type.fromObject(pm)).finish();
    } else {
      bytes = new TextEncoder().encode(JSON.stringify({ ...msg, data: Buffer.from(msg.data).toString("base64") }));
    }
    await writer.addMessage({ channelId, sequence: i, logTime: t, publishTime: t, data: bytes });
  }
  await writer.end();
  writeFileSync(file, sink.bytes());
  console.log(`wrote ${file} (${sink.bytes().length} bytes, ${frames.length} ${name} in ${encoding} on ${topic}, ${kind})`);
}

const [out, ...pngs] = process.argv.slice(2);
if (!out || pngs.length === 0) { console.error("usage: node generate.mjs OUT_DIR FRAME.png ..."); process.exit(2); }
mkdirSync(out, { recursive: true });
const frames = pngs.map((p) => resize(PNG.sync.read(readFileSync(p))));
await write(join(out, "ros2-image-zstd.mcap"), "zstd", frames, "rgb8");
await write(join(out, "ros2-image-lz4.mcap"), "lz4", frames, "bgr8");
await write(join(out, "ros2-image-none.mcap"), "none", frames, "rgb8");
await write(join(out, "ros2-mono8-none.mcap"), "none", frames, "mono8");
await write(join(out, "ros2-compressed-zstd.mcap"), "zstd", frames, "compressed");
await writeFoxglove(join(out, "foxglove-raw-protobuf.mcap"), "zstd", frames, "RawImage", "protobuf");
await writeFoxglove(join(out, "foxglove-compressed-protobuf.mcap"), "lz4", frames, "CompressedImage", "protobuf");
await writeFoxglove(join(out, "foxglove-raw-json.mcap"), "none", frames, "RawImage", "json");
await writeFoxglove(join(out, "foxglove-compressed-json.mcap"), "zstd", frames, "CompressedImage", "json");
