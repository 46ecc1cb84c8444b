import { mkdtemp, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MioRuntimeError } from "../../../runtime/errors.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
} from "../../../runtime/interop/safetensors.js";

describe("safetensors", () => {
  it("round-trips named f32 tensors and metadata through a file written atomically", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "mio-st-"));
    const file = path.join(dir, "w.safetensors");
    const tensors = {
      "conv_first.weight": { shape: [2, 1, 1, 3], data: Float32Array.from([1, -2, 3.5, 1e-7, -0, 65504]) },
      "conv_first.bias": { shape: [2], data: Float32Array.from([0.25, -0.125]) },
    };
    await writeSafetensors(file, tensors, { format: "pt" });
    expect(await readdir(dir)).toEqual(["w.safetensors"]); // no temporary file left behind
    const back = await readSafetensors(file);
    expect(back.metadata).toEqual({ format: "pt" });
    expect(back.tensors["conv_first.weight"]?.shape).toEqual([2, 1, 1, 3]);
    expect([...(back.tensors["conv_first.weight"]?.data ?? [])]).toEqual([...tensors["conv_first.weight"].data]);
    // Layout: 8-byte little-endian header length, JSON header padded to 8 bytes, data in name order.
    const bytes = new Uint8Array(await readFile(file));
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header["conv_first.bias"]).toEqual({ dtype: "F32", shape: [2], data_offsets: [0, 8] });
  });

  it("reads F64 and F16 tensors and rejects broken files with a clear error", () => {
    const head = JSON.stringify({
      a: { dtype: "F64", shape: [1], data_offsets: [0, 8] },
      b: { dtype: "F16", shape: [2], data_offsets: [8, 12] },
    });
    const bytes = new Uint8Array(8 + head.length + 12);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(head.length), true);
    bytes.set(new TextEncoder().encode(head), 8);
    view.setFloat64(8 + head.length, Math.PI, true);
    view.setUint16(8 + head.length + 8, 0x3c00, true); // 1.0
    view.setUint16(8 + head.length + 10, 0xc000, true); // -2.0
    const { tensors } = decodeSafetensors(bytes);
    expect(tensors.a?.data[0]).toBeCloseTo(Math.PI, 6);
    expect([...(tensors.b?.data ?? [])]).toEqual([1, -2]);
    expect(() => decodeSafetensors(bytes.subarray(0, 20))).toThrow(MioRuntimeError);
    expect(() => encodeSafetensors({ x: { shape: [3], data: new Float32Array(2) } })).toThrow(/2 values/);
  });

  it("reads I64 and I32 tensors (PyTorch's index buffers) as their integer values", () => {
    const head = JSON.stringify({
      index: { dtype: "I64", shape: [3], data_offsets: [0, 24] },
      small: { dtype: "I32", shape: [2], data_offsets: [24, 32] },
    });
    const bytes = new Uint8Array(8 + head.length + 32);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(head.length), true);
    bytes.set(new TextEncoder().encode(head), 8);
    for (const [i, v] of [0n, 48n, -3n].entries()) view.setBigInt64(8 + head.length + 8 * i, v, true);
    for (const [i, v] of [7, -70000].entries()) view.setInt32(8 + head.length + 24 + 4 * i, v, true);
    const { tensors } = decodeSafetensors(bytes);
    expect([...(tensors.index?.data ?? [])]).toEqual([0, 48, -3]);
    expect([...(tensors.small?.data ?? [])]).toEqual([7, -70000]);
  });
});
