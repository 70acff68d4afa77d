#!/bin/sh
# Installs the Debian packages whose images the image retrieval benchmarks use. Their images are read
# from /usr/share and are never copied into the repository.
#   openclipart-png         about 8100 clip-art PNGs in 22 category folders (category benchmark, distractors)
#   mate-backgrounds, gnome-backgrounds, ukui-wallpapers
#                           photo and graphic wallpapers (originals of the near-duplicate benchmark)
#   fonts-dejavu-core       the font of the text-overlay attack
# Needs root (or sudo) only when a package is missing.
set -eu

packages="openclipart-png mate-backgrounds gnome-backgrounds ukui-wallpapers fonts-dejavu-core"
missing=""
for package in $packages; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    echo "All benchmark image packages are installed:$(printf ' %s' $packages)"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "Installing:$missing"
$sudo apt-get update
# shellcheck disable=SC2086 # the package list is meant to split into words
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
