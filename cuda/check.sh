#!/usr/bin/env bash
# cuda/check.sh: on a GPU machine, build libsegsa_cpu + libsegsa_cuda and the check program, record
# the sm_90 register/spill use of the CUDA kernels, and run every CUDA kernel against the CPU kernel
# on seeded random inputs (normalised error, timings, one table).
#
#   cuda/check.sh [iterations]        (default 3 CPU iterations per case, 10x as many on the GPU)
#   OUT=DIR                           also write the log and the tables (check.log, torch_check.md/.json) there
#   SEGSA_CHECK_BUILD=DIR             build directory (default: a fresh directory under /tmp)
#   SEGSA_CHECK_BUILD_ONLY=1          build and print the ptxas report, skip the GPU check and run
#                                     (works without a GPU: checks that everything compiles)
#
# Exit status: 0 every kernel agrees; 1 a kernel disagrees or the build failed; 2 no GPU / no nvcc.
set -euo pipefail
if [ -n "${OUT:-}" ] && [ -z "${SEGSA_CHECK_LOGGED:-}" ]; then
  mkdir -p "$OUT"
  SEGSA_CHECK_LOGGED=1 exec > >(tee "$OUT/check.log") 2>&1
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
iterations="${1:-3}"
build="${SEGSA_CHECK_BUILD:-$(mktemp -d /tmp/segsa-cuda-check.XXXXXX)}"

die() { echo "cuda/check.sh: $1" >&2; exit "${2:-1}"; }

nvcc_bin="$(command -v nvcc || true)"
[ -z "$nvcc_bin" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc_bin=/usr/local/cuda/bin/nvcc
[ -n "$nvcc_bin" ] || die "no nvcc on PATH or in /usr/local/cuda/bin: cannot build libsegsa_cuda" 2
command -v cmake >/dev/null || die "cmake not found" 1

build_only="${SEGSA_CHECK_BUILD_ONLY:-0}"
if [ "$build_only" != 1 ]; then
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    die "no GPU: nvidia-smi not found (this script needs a machine with an NVIDIA GPU and driver; SEGSA_CHECK_BUILD_ONLY=1 only builds)" 2
  fi
  if ! gpus="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1)" || [ -z "$gpus" ]; then
    die "no GPU: nvidia-smi reports none ($gpus)" 2
  fi
  echo "== GPU(s): $gpus"
fi
echo "== nvcc: $("$nvcc_bin" --version | tail -1)"
echo "== CPU: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores"

echo "== configure + build in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc_bin" -DSEGSA_CUDA=ON >"$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; die "cmake configure failed" 1; }
grep -q "segsa: building cuda/" "$build.configure.log" || { cat "$build.configure.log"; die "CMake did not enable the CUDA library" 1; }
cmake --build "$build" --parallel "$(nproc)" --target segsa_cpu segsa_cuda segsa_cuda_check || die "build failed" 1

echo "== nvcc -Xptxas -v, sm_90 (registers, spills, shared memory per kernel)"
for cu in "$root"/cuda/*.cu; do
  "$nvcc_bin" -O3 -std=c++17 -arch=sm_90 -Xptxas -v -I"$root/native" -c "$cu" -o /dev/null 2>&1 \
    | grep -E "Compiling entry|Used|spill" | sed 's/^ptxas info    : //' || true
done

if [ "$build_only" = 1 ]; then
  echo "== SEGSA_CHECK_BUILD_ONLY=1: built $build/bin/segsa_cuda_check, not run"
  echo "== dry run of the Python check (CPU library through the C structs against numpy)"
  python3 "$here/check/torch_check.py" "$build" --dry-run
  exit 0
fi
status=0
echo "== 1. every CUDA kernel vs the CPU kernel (C++: MDSA, LSA, accumulate; 1x1 to 1920x1088)"
OMP_WAIT_POLICY=PASSIVE "$build/bin/segsa_cuda_check" "$iterations" || status=1
echo "== 2. the Java backend's path from Python: torch tensors' data_ptr() and current stream, batch 1/8/32, peers"
if python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  python3 "$here/check/torch_check.py" "$build" || status=1
else
  echo "cuda/check.sh: python3 has no torch with CUDA: step 2 skipped" >&2; status=1
fi
echo "== 3. compute-sanitizer memcheck and racecheck (small cases)"
sanitizer="$(command -v compute-sanitizer || true)"
[ -z "$sanitizer" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] && sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [ -n "$sanitizer" ]; then
  for tool in memcheck racecheck; do
    if "$sanitizer" --tool "$tool" --error-exitcode 9 "$build/bin/segsa_cuda_check" 1 small > "$build.$tool.log" 2>&1; then
      echo "$tool: no errors ($(grep -c '^' "$build.$tool.log") lines of output)"
    else
      echo "$tool: FAILED"; tail -40 "$build.$tool.log"; status=1
    fi
    [ -n "${OUT:-}" ] && cp "$build.$tool.log" "$OUT/$tool.log"
  done
else
  echo "cuda/check.sh: compute-sanitizer not found: step 3 skipped" >&2; status=1
fi
echo "== cuda/check.sh: $([ $status = 0 ] && echo 'all checks passed' || echo 'SOME CHECKS FAILED')"
exit $status
