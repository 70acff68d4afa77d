#!/usr/bin/env bash
# Build FAISS 1.7.3 for AVX2 from Debian's source package and compile the benchmark peer
# faiss_ivf_peer.cpp against it.
#
# Usage (as root, because of apt-get), from any folder:
#   benchmarks/peers/build_faiss_avx2.sh [BUILD_DIR]      (default /tmp/faiss-avx2)
# Result: BUILD_DIR/faiss_ivf_peer. Run it with --help for its options.
#
# Debian's libfaiss/python3-faiss is a generic x86-64 build whose distance loops stay scalar, so a
# benchmark against it undersells FAISS. FAISS_OPT_LEVEL=avx2 builds the SIMD variants of the
# distance, PQ and fast-scan kernels. The script is idempotent: it skips the apt steps and the
# library build when their results exist, and always recompiles the driver (a few seconds).
# It writes nothing into the repository. The make step runs under `nice` with 2 jobs because the
# build machine has 2 cores shared with other work.
set -euo pipefail

build_dir="${1:-/tmp/faiss-avx2}"
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
driver_source="$script_dir/faiss_ivf_peer.cpp"

mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
case "$build_dir/" in
    "$(cd "$script_dir/../.." && pwd)/"*)
        echo "error: build folder $build_dir is inside the repository; pass a folder outside it" >&2
        exit 2
        ;;
esac

# apt-get source needs a deb-src entry. Debian bookworm images ship deb822 sources with Types: deb only.
enable_deb_src() {
    if grep -rqs '^\s*Types:.*deb-src' /etc/apt/sources.list.d/ || grep -qs '^\s*deb-src' /etc/apt/sources.list; then
        return
    fi
    local source_list=/etc/apt/sources.list.d/debian.sources
    if [[ ! -f "$source_list" ]]; then
        echo "error: no deb-src entry and $source_list is missing; add a deb-src line for the Debian archive by hand" >&2
        exit 1
    fi
    sed 's/^Types: deb$/Types: deb-src/' "$source_list" > /etc/apt/sources.list.d/debian-src.sources
    echo "created /etc/apt/sources.list.d/debian-src.sources"
}

source_dir="$(find "$build_dir" -maxdepth 1 -type d -name 'faiss-1.7.3*' | head -n 1)"
library="${source_dir:+$source_dir/build/faiss/libfaiss_avx2.a}"

if [[ -z "$source_dir" ]] || ! command -v cmake >/dev/null || ! command -v g++ >/dev/null \
    || [[ ! -e /usr/lib/x86_64-linux-gnu/libopenblas.so || ! -f /usr/include/zlib.h ]]; then
    enable_deb_src
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        cmake g++ make libopenblas-dev zlib1g-dev dpkg-dev
fi

if [[ -z "$source_dir" ]]; then
    (cd "$build_dir" && apt-get source faiss)
    source_dir="$(find "$build_dir" -maxdepth 1 -type d -name 'faiss-1.7.3*' | head -n 1)"
    if [[ -z "$source_dir" ]]; then
        echo "error: apt-get source faiss did not unpack faiss-1.7.3 into $build_dir (check 'apt-cache showsrc faiss')" >&2
        exit 1
    fi
    library="$source_dir/build/faiss/libfaiss_avx2.a"
fi

if [[ ! -f "$library" ]]; then
    cmake -S "$source_dir" -B "$source_dir/build" \
        -DFAISS_ENABLE_GPU=OFF -DFAISS_ENABLE_PYTHON=OFF -DFAISS_ENABLE_C_API=OFF \
        -DBUILD_TESTING=OFF -DFAISS_OPT_LEVEL=avx2 -DCMAKE_BUILD_TYPE=Release -DBLA_VENDOR=OpenBLAS
    nice -n 10 make -C "$source_dir/build" -j2 faiss_avx2
fi

# Debian's libopenblas-dev provides libopenblas.so through the alternatives system. The driver
# declares the openblas_* functions it calls itself, so it needs no cblas.h.
g++ -std=c++17 -O3 -DNDEBUG -mavx2 -mfma -mf16c -mpopcnt -fopenmp \
    -I"$source_dir" \
    -o "$build_dir/faiss_ivf_peer" "$driver_source" \
    "$library" -lopenblas -lz -lgomp -lpthread

echo "built $build_dir/faiss_ivf_peer against $library"
