// safetensors, by hand: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then raw little-endian data.
// Names are PyTorch/BasicSR state-dict names, so files move both ways between mio and PyTorch.
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileProblem, MioInputError, MioRuntimeError } from "../errors.js";

export interface NamedTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}
export type TensorMap = Record<string, NamedTensor>;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Decodes a safetensors buffer; F32, F64, F16 and BF16 tensors are returned as Float32Array, and so are I64 and I32
 * ones (PyTorch saves index buffers such as SwinIR's relative_position_index as int64; mio reads them to recognise
 * them, and their small integers are exact in f32).
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = "safetensors data",
): { tensors: TensorMap; metadata: Record<string, string> } {
  // A file that is not safetensors is the user's input, not a bug: every check names the file and what is wrong.
  const bad = (why: string) => new MioInputError(`${source} is not a valid safetensors file: ${why}`);
  if (bytes.length < 8) throw bad("shorter than its 8-byte header length");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.length) throw bad(`header length ${headerLen} runs past the end`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw bad(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw bad("header is not a JSON object of tensors");
  const base = 8 + headerLen;
  const tensors: TensorMap = {};
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as Partial<HeaderEntry> | null;
    const natural = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
    if (typeof e !== "object" || e === null) throw bad(`tensor '${name}' is not a {dtype, shape, data_offsets} entry`);
    if (!Array.isArray(e.shape) || !e.shape.every(natural))
      throw bad(`tensor '${name}' has no valid shape (a list of sizes)`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2 || !e.data_offsets.every(natural))
      throw bad(`tensor '${name}' has no valid data_offsets ([begin, end])`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, b) => a * b, 1);
    const widths: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4 };
    const width = Object.hasOwn(widths, String(e.dtype)) ? widths[String(e.dtype)] : undefined;
    if (width === undefined) throw bad(`tensor '${name}' has unsupported dtype ${e.dtype}`);
    if (end - begin !== count * width || base + end > bytes.length) throw bad(`tensor '${name}' has wrong offsets`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const at = base + begin + i * width;
      if (e.dtype === "F32") data[i] = view.getFloat32(at, true);
      else if (e.dtype === "F64") data[i] = view.getFloat64(at, true);
      else if (e.dtype === "BF16") data[i] = bf16(view.getUint16(at, true));
      else if (e.dtype === "I64") data[i] = Number(view.getBigInt64(at, true));
      else if (e.dtype === "I32") data[i] = view.getInt32(at, true);
      else data[i] = f16(view.getUint16(at, true));
    }
    tensors[name] = { shape: e.shape, data };
  }
  return { tensors, metadata };
}

function bf16(h: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, h << 16, true);
  return v.getFloat32(0, true);
}
function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

/** Encodes tensors as F32 safetensors, names sorted, header padded with spaces to 8 bytes (as the Rust crate does). */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name] as NamedTensor;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new MioRuntimeError(`tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    }
    header[name] = { dtype: "F32", shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    const t = tensors[name] as NamedTensor;
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i] ?? 0, true);
  }
  return out;
}

/** Reads a .safetensors file; a missing, unreadable or malformed file throws `MioInputError` naming it. */
export async function readSafetensors(file: string): Promise<{ tensors: TensorMap; metadata: Record<string, string> }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new MioInputError(`cannot read '${file}': ${fileProblem(e)}`);
  }
  return decodeSafetensors(new Uint8Array(bytes), file);
}

/** Writes a .safetensors file atomically: a temporary file in the same folder, then a rename. */
export async function writeSafetensors(
  file: string,
  tensors: TensorMap,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, encodeSafetensors(tensors, metadata));
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
