#!/usr/bin/env bash
# The GPU benchmark (docs/bench.md, "A GPU benchmark"): on a Linux machine with an NVIDIA GPU and its driver, makes
# Dawn use the vendor Vulkan driver, then runs `mioc doctor`, the device tests and the bench (64/16/8/128 and
# 32/8/4/64; mio against PyTorch CUDA when this python3's torch sees CUDA, else mio alone) and writes one JSON.
# Each step has its own time limit, together under 8 minutes; a step that fails or runs out is recorded, not fatal,
# except a missing GPU: then the script stops at once, exit 1, since every number after it would be lavapipe's.
#
# usage: scripts/gpu-bench.sh [OUT.json]        (default bench/gpu-results.json)
#        MIO_VK_ICD=/path/icd.json scripts/gpu-bench.sh   (a Vulkan driver manifest the search below misses)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-bench/gpu-results.json}
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Seconds per step: 60 + 30 + 20 + 240 + 120 = 470 s, inside the 8 minutes.
BUILD_S=60 DOCTOR_S=30 PROBE_S=20 BENCH_S=240 TESTS_S=120
# Each bench worker (one peer, one config); four of them fit in BENCH_S.
WORKER_S=55

fail() {
  echo "gpu-bench: $1" >&2
  [ $# -gt 1 ] && echo "  hint: $2" >&2
  exit 1
}
note() { echo "gpu-bench: $*" >&2; }

# 1. The vendor Vulkan driver. The loader reads VK_DRIVER_FILES (new loaders) or VK_ICD_FILENAMES (old ones);
# naming only NVIDIA's manifest hides lavapipe, so Dawn cannot quietly fall back to the CPU.
icd=${MIO_VK_ICD:-}
if [ -z "$icd" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
    /usr/share/vulkan/icd.d/nvidia_icd.x86_64.json /etc/vulkan/icd.d/nvidia_icd.x86_64.json; do
    if [ -f "$f" ]; then
      icd=$f
      break
    fi
  done
fi
has_smi=false
command -v nvidia-smi >/dev/null 2>&1 && has_smi=true
if [ -z "$icd" ]; then
  if $has_smi; then
    fail "no GPU for Dawn: nvidia-smi is here but NVIDIA's Vulkan driver manifest (nvidia_icd.json) is not" \
      "install the driver's Vulkan part (e.g. libnvidia-gl-<version>), or set MIO_VK_ICD to its nvidia_icd.json"
  fi
  fail "no GPU: no nvidia-smi and no NVIDIA Vulkan driver (nvidia_icd.json in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d)" \
    "run this on a Linux machine with an NVIDIA GPU and its driver; on this machine mio runs on lavapipe (npm run bench)"
fi
[ -f "$icd" ] || fail "MIO_VK_ICD names '$icd', which is not a file"
export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
note "Vulkan driver $icd"

gpu_name=null driver=null
if $has_smi; then
  smi=$(timeout 20 nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1 || true)
  if [ -n "$smi" ]; then
    gpu_name=$(node -p 'JSON.stringify(process.argv[1].split(",")[0].trim())' "$smi")
    driver=$(node -p 'JSON.stringify(process.argv[1].split(",")[1].trim())' "$smi")
  fi
fi

# 2. Build, then ask mioc doctor which adapter Dawn got: a fallback (CPU) adapter ends the run here.
timeout "$BUILD_S" npm run build --silent || fail "npm run build failed or ran past ${BUILD_S} s"
if ! timeout "$DOCTOR_S" node dist/cli/mioc.js doctor --json >"$work/doctor.json" 2>"$work/doctor.err"; then
  fail "mioc doctor found no usable adapter with the driver $icd: $(tail -n 3 "$work/doctor.err" | tr '\n' ' ')" \
    "check that the driver loads: vulkaninfo --summary (package vulkan-tools) with VK_DRIVER_FILES=$icd"
fi
adapter=$(node -e '
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const soft = d.fallback || d.adapter.isFallbackAdapter || d.adapter.architecture === "software";
  console.log(`${soft ? "fallback" : "gpu"}\t${d.adapter.description || d.adapter.device}`);
' "$work/doctor.json")
case $adapter in
fallback*)
  fail "mioc doctor reports a fallback (CPU) adapter, '${adapter#*	}', not the GPU: the numbers would be lavapipe's" \
    "the Vulkan driver $icd did not give Dawn a GPU; check nvidia-smi and vulkaninfo --summary"
  ;;
esac
note "adapter: ${adapter#*	}"

# 3. PyTorch CUDA, if this python3 has it: the peer mio is compared with.
only=mio
torch_args=()
if [ "$(timeout "$PROBE_S" "$python" -c 'import torch; print(torch.cuda.is_available())' 2>/dev/null || true)" = True ]; then
  only=mio,torch
  torch_args=(--torch-device cuda --python "$(command -v "$python")")
  note "PyTorch CUDA is available: mio against PyTorch CUDA"
else
  note "no PyTorch with CUDA in $python: mio alone"
fi

# 4. The bench before the tests, so a slow test suite cannot take its time.
bench_rc=0
timeout "$BENCH_S" node bench/run.mjs --configs 64/16/8/128,32/8/4/64 --swinir none --restormer none --no-infer --only "$only" \
  --timeout "$WORKER_S" "${torch_args[@]}" --out "$work/bench.json" >/dev/null || bench_rc=$?

# 5. The device tests: every test file that acquires a WebGPU device.
mapfile -t device_tests < <(grep -rl --include='*.test.ts' acquireGpu tests | sort)
tests_rc=0
timeout "$TESTS_S" npx vitest run --reporter=json --outputFile="$work/tests.json" "${device_tests[@]}" \
  >"$work/tests.log" 2>&1 || tests_rc=$?

# 6. One JSON, written whole (a temporary file renamed over the target).
node -e '
  const fs = require("fs");
  const [work, out, gpuName, driver, icd, benchRc, testsRc, files] = process.argv.slice(1);
  const read = (f) => { try { return JSON.parse(fs.readFileSync(`${work}/${f}`, "utf8")); } catch { return null; } };
  const t = read("tests.json");
  const status = (rc) => (Number(rc) === 124 ? "timed out" : Number(rc) === 0 ? "ok" : `exit ${rc}`);
  const result = {
    date: new Date().toISOString(),
    gpu: { name: JSON.parse(gpuName), driver: JSON.parse(driver), vulkanDriver: icd },
    doctor: read("doctor.json"),
    tests: {
      status: status(testsRc),
      files: files.split("\n").filter(Boolean),
      total: t?.numTotalTests ?? null,
      passed: t?.numPassedTests ?? null,
      failed: t?.numFailedTests ?? null,
      failedFiles: (t?.testResults ?? []).filter((r) => r.status !== "passed").map((r) => r.name),
    },
    bench: { status: status(benchRc), ...(read("bench.json") ?? {}) },
  };
  fs.writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  fs.renameSync(`${out}.tmp`, out);
' "$work" "$out" "$gpu_name" "$driver" "$icd" "$bench_rc" "$tests_rc" "$(printf '%s\n' "${device_tests[@]}")"
note "wrote $out (bench: exit $bench_rc, device tests: exit $tests_rc)"
[ "$bench_rc" = 0 ] && [ "$tests_rc" = 0 ]
