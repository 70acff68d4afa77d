#!/bin/sh
# Runs the image retrieval benchmarks with fixed seeds and prints Markdown tables on stdout (progress goes
# to stderr). Extra arguments go to the benchmark program, for example:
#   benchmarks/images/run.sh --limit 1000          quick category run on a seeded sample of 1000 clip-art images
#   benchmarks/images/run.sh --methods raw32       raw-pixel baseline only
# Features are cached under /tmp/mlnr-imgbench (override with --cache DIR), so a second run only searches
# and scores; the images/s columns then repeat the timing of the run that computed them.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=/tmp/mlnr-imgbench
mkdir -p "$cache"

"$root/benchmarks/images/setup.sh" >&2

# The originals: every raster wallpaper the three wallpaper packages install (SVG files are left out,
# because the decoder reads raster formats only).
wallpapers="$cache/wallpapers.txt"
dpkg -L mate-backgrounds gnome-backgrounds ukui-wallpapers \
    | grep -iE '\.(jpe?g|png|webp)$' | LC_ALL=C sort -u > "$wallpapers"

dotnet build "$root/benchmarks/MLNetRetrieval.ImageBenchmarks" -c Release -v quiet -nologo >&2
program="$root/benchmarks/MLNetRetrieval.ImageBenchmarks/bin/Release/net10.0/MLNetRetrieval.ImageBenchmarks.dll"

echo "<!-- $(date -u '+%Y-%m-%d %H:%M')Z, load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') -->"
dotnet "$program" --check-attacks --copydays --categories --seed 1 \
    --wallpapers "$wallpapers" --cache "$cache" "$@"
