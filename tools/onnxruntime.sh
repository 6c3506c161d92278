#!/usr/bin/env bash
# Prints the path of a libonnxruntime.so for `polyphon transcribe --engine ort`, taken from
# the onnxruntime wheel on PyPI (downloaded once into target/onnxruntime/, nothing installed):
#   export ORT_DYLIB_PATH=$(tools/onnxruntime.sh)
set -euo pipefail
version="${ONNXRUNTIME_VERSION:-1.23.2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/target/onnxruntime/$version"
library="$dir/onnxruntime/capi/libonnxruntime.so.$version"
if [ ! -s "$library" ]; then
    mkdir -p "$dir"
    python3 -m pip download --quiet --no-deps --only-binary :all: \
        "onnxruntime==$version" -d "$dir" >&2
    python3 -m zipfile -e "$dir"/onnxruntime-"$version"-*.whl "$dir" >&2
fi
test -s "$library" || { echo "tools/onnxruntime.sh: $library is missing" >&2; exit 1; }
echo "$library"
