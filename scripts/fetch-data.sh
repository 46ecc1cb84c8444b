#!/usr/bin/env bash
# Fetches real photographs for mio's data pipeline from pinned Debian packages (bookworm), without any other network
# access: `apt-get download` + SHA-256 check + `dpkg -x`, then the chosen photos are downsized ×2 (Lanczos-3, to wash
# out their JPEG history, as DIV2K's HR images are clean) and split by image into data/{train,val,test}/<name>.png.
#
#   bash scripts/fetch-data.sh            # into ./data (git-ignored); MIO_DATA=/elsewhere to change it
#   node dist/cli/mioc.js testsets build data/test out/testsets --seed 0
#
# Idempotent: downloaded packages are kept in data/.cache and checked; photos already written are skipped.
# About 200 MB of packages; 53 photos (34 train, 9 val, 10 test). data/SOURCES.md lists every photo's origin and
# licence (CC-BY / CC-BY-SA / CC0 / GPL-2+ / BSD; see each package's /usr/share/doc/<pkg>/copyright).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data=${MIO_DATA:-$root/data}
cache=$data/.cache
mkdir -p "$cache/debs" "$cache/x" "$data/train" "$data/val" "$data/test"

# package version sha256 licence (of the photos we use)
packages="
lomiri-wallpapers-16.04 20.04.0-2 a99ff6a3bfe451e4cc0682ecb3cc82e71740626d59e4845ae34a0a0e45421eab CC-BY-4.0/CC-BY-SA-3.0/CC-BY-SA-4.0/CC0-1.0
mate-backgrounds 1.26.0-1 7bf4c2209f34b4f61ba6d24c8b58c28b361e82e4b943aae6d42c030169af9e04 GPL-2+/CC-BY-SA-4.0
plasma-workspace-wallpapers 4:5.27.5-2 32cd18b71c8c938a18b3b351f217c02ac590e323caa3cf322fbb875ce8892f8b GPL-2+
lxqt-themes 1.2.0-1 d518df36b515b09d36cb00b12645dd8ce170bb82bb0966297741905ce3edc8e1 CC-BY-SA-3.0/LGPL
python3-skimage 0.19.3-8 728d88c3e3440f1f3712de0805dc834d29248ff07e1eec8c0f3da07606f752f9 BSD-3-Clause/public-domain
"

# split package path-inside-package output-name. Illustrations and synthetic images of these packages are left out.
photos="
test lomiri-wallpapers-16.04 usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg lomiri-bridge
train lomiri-wallpapers-16.04 usr/share/backgrounds/Dragonfly_by_Bolly.jpg lomiri-dragonfly
train lomiri-wallpapers-16.04 usr/share/backgrounds/Picture_0B_by_freespace.jpg lomiri-fig
train lomiri-wallpapers-16.04 usr/share/backgrounds/Picture_1A_by_freespace.jpg lomiri-brushes
train lomiri-wallpapers-16.04 usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg lomiri-wine
train lomiri-wallpapers-16.04 usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg lomiri-aitzgorri
train lomiri-wallpapers-16.04 usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg lomiri-analogpattern
train lomiri-wallpapers-16.04 usr/share/backgrounds/free_by_Peter_Nerlich.jpg lomiri-free
test lomiri-wallpapers-16.04 usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg lomiri-friends
train lomiri-wallpapers-16.04 usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg lomiri-greentock
val lomiri-wallpapers-16.04 usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg lomiri-life
test lomiri-wallpapers-16.04 usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg lomiri-picosdeeuropa
train lomiri-wallpapers-16.04 usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg lomiri-seeding
val lomiri-wallpapers-16.04 usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg lomiri-sunset
train mate-backgrounds usr/share/backgrounds/mate/nature/Aqua.jpg mate-aqua
train mate-backgrounds usr/share/backgrounds/mate/nature/Blinds.jpg mate-blinds
val mate-backgrounds usr/share/backgrounds/mate/nature/Dune.jpg mate-dune
train mate-backgrounds usr/share/backgrounds/mate/nature/FreshFlower.jpg mate-freshflower
test mate-backgrounds usr/share/backgrounds/mate/nature/Garden.jpg mate-garden
train mate-backgrounds usr/share/backgrounds/mate/nature/GreenMeadow.jpg mate-greenmeadow
val mate-backgrounds usr/share/backgrounds/mate/nature/LadyBird.jpg mate-ladybird
train mate-backgrounds usr/share/backgrounds/mate/nature/RainDrops.jpg mate-raindrops
train mate-backgrounds usr/share/backgrounds/mate/nature/Storm.jpg mate-storm
train mate-backgrounds usr/share/backgrounds/mate/nature/TwoWings.jpg mate-twowings
train mate-backgrounds usr/share/backgrounds/mate/nature/Wood.jpg mate-wood
train mate-backgrounds usr/share/backgrounds/mate/nature/YellowFlower.jpg mate-yellowflower
train plasma-workspace-wallpapers usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg plasma-bythewater
train plasma-workspace-wallpapers usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg plasma-coldripple
test plasma-workspace-wallpapers usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg plasma-colorfulcups
train plasma-workspace-wallpapers usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg plasma-darkesthour
test plasma-workspace-wallpapers usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg plasma-eveningglow
train plasma-workspace-wallpapers usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg plasma-fallenleaf
val plasma-workspace-wallpapers usr/share/wallpapers/Grey/contents/images/2560x1600.jpg plasma-grey
val plasma-workspace-wallpapers usr/share/wallpapers/Kite/contents/images/2560x1600.jpg plasma-kite
val plasma-workspace-wallpapers usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg plasma-onestandsout
test plasma-workspace-wallpapers usr/share/wallpapers/Path/contents/images/2560x1600.jpg plasma-path
train plasma-workspace-wallpapers usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg plasma-summer1am
train lxqt-themes usr/share/lxqt/wallpapers/Butterfly-Kenneth-Wimer.jpg lxqt-butterfly-wimer
train lxqt-themes usr/share/lxqt/wallpapers/Valendas.png lxqt-valendas
test lxqt-themes usr/share/lxqt/wallpapers/after-the-rain.jpg lxqt-after-the-rain
train lxqt-themes usr/share/lxqt/wallpapers/appleflower.png lxqt-appleflower
train lxqt-themes usr/share/lxqt/wallpapers/beam.png lxqt-beam
train lxqt-themes usr/share/lxqt/wallpapers/butterfly.png lxqt-butterfly
train lxqt-themes usr/share/lxqt/wallpapers/cloud.png lxqt-cloud
train lxqt-themes usr/share/lxqt/wallpapers/drop.png lxqt-drop
train lxqt-themes usr/share/lxqt/wallpapers/flowers.png lxqt-flowers
val lxqt-themes usr/share/lxqt/wallpapers/fog.jpg lxqt-fog
train lxqt-themes usr/share/lxqt/wallpapers/this-is-not-windows.jpg lxqt-hills
train python3-skimage usr/lib/python3/dist-packages/skimage/data/astronaut.png skimage-astronaut
val python3-skimage usr/lib/python3/dist-packages/skimage/data/chelsea.png skimage-chelsea
test python3-skimage usr/lib/python3/dist-packages/skimage/data/coffee.png skimage-coffee
test python3-skimage usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png skimage-motorcycle
train python3-skimage usr/lib/python3/dist-packages/skimage/data/rocket.jpg skimage-rocket
"

# 1. Packages: download (once), check, extract (once).
while read -r pkg ver sha _licence; do
  [ -n "$pkg" ] || continue
  deb=$cache/debs/${pkg}_${ver#*:}.deb
  if [ ! -f "$deb" ] || ! echo "$sha  $deb" | sha256sum -c --status; then
    echo "fetch-data: downloading $pkg=$ver" >&2
    tmp=$(mktemp -d "$cache/debs/dl.XXXXXX")
    # NOTE: apt-get download warns that it runs unsandboxed as root when _apt cannot write here; harmless.
    (cd "$tmp" && apt-get download -q "$pkg=$ver" 2>&1 | grep -v "unsandboxed" >&2 || true)
    got=$(find "$tmp" -name "${pkg}_*.deb" | head -n 1)
    if [ -z "$got" ]; then
      echo "fetch-data: error: could not download $pkg=$ver (run 'apt-get update'; is the version still in bookworm?)" >&2
      rm -rf "$tmp"
      exit 1
    fi
    if ! echo "$sha  $got" | sha256sum -c --status; then
      echo "fetch-data: error: $pkg=$ver has SHA-256 $(sha256sum "$got" | cut -d' ' -f1), expected $sha" >&2
      rm -rf "$tmp"
      exit 1
    fi
    mv "$got" "$deb"
    rm -rf "$tmp"
    rm -rf "${cache:?}/x/$pkg"
  fi
  if [ ! -d "$cache/x/$pkg" ]; then
    mkdir -p "$cache/x/$pkg.tmp"
    dpkg -x "$deb" "$cache/x/$pkg.tmp"
    mv "$cache/x/$pkg.tmp" "$cache/x/$pkg"
  fi
done <<<"$packages"

# 2. A photo belongs to exactly one split.
dupes=$(awk 'NF { print $4 }' <<<"$photos" | sort | uniq -d)
if [ -n "$dupes" ]; then
  echo "fetch-data: error: photos listed twice: $dupes" >&2
  exit 1
fi

# 3. A photo that an earlier version of this list put in another split moves to its split now, so that no photo is
#    in two splits of an existing data folder.
while read -r split _pkg _path name; do
  [ -n "$split" ] || continue
  for other in train val test; do
    if [ "$other" != "$split" ] && [ -f "$data/$other/$name.png" ]; then
      echo "fetch-data: moving $name.png from $other to $split" >&2
      mv "$data/$other/$name.png" "$data/$split/$name.png"
    fi
  done
done <<<"$photos"

# 4. Downsize ×2 into data/<split>/<name>.png (atomic: temp file + rename), skipping what is already there.
todo=$(awk -v x="$cache/x" -v d="$data" 'NF { print x "/" $2 "/" $3 "\t" d "/" $1 "/" $4 ".png" }' <<<"$photos")
cd "$root"
node --input-type=module -e '
import { existsSync, renameSync } from "node:fs";
import sharp from "sharp";
const lines = process.argv[1].split("\n").filter(Boolean);
let made = 0;
for (const line of lines) {
  const [src, dst] = line.split("\t");
  if (existsSync(dst)) continue;
  // Orientation, alpha and grey are resolved first, so the ×2 reduction sees the final RGB image.
  const { data, info } = await sharp(src).autoOrient().removeAlpha().toColourspace("srgb").raw()
    .toBuffer({ resolveWithObject: true });
  const tmp = `${dst}.tmp-${process.pid}.png`;
  await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .resize(Math.floor(info.width / 2), Math.floor(info.height / 2), { kernel: "lanczos3", fit: "fill" })
    .png().toFile(tmp);
  renameSync(tmp, dst);
  made++;
}
process.stderr.write(`fetch-data: ${made} photos written, ${lines.length - made} already there\n`);
' "$todo"

# 5. Where every photo came from.
{
  echo "# Photos in this folder (made by scripts/fetch-data.sh; not redistributed by mio)"
  echo
  echo "| split | file | Debian package (bookworm) | path in the package |"
  echo "| --- | --- | --- | --- |"
  awk 'NF { print "| " $1 " | " $4 ".png | " $2 " | " $3 " |" }' <<<"$photos"
  echo
  echo "Licences: see /usr/share/doc/<package>/copyright inside each package (extracted under .cache/x/)."
  awk 'NF { print "- " $1 " " $2 ": " $4 }' <<<"$packages"
} >"$data/SOURCES.md.tmp"
mv "$data/SOURCES.md.tmp" "$data/SOURCES.md"

for s in train val test; do echo "fetch-data: $s: $(find "$data/$s" -name '*.png' | wc -l) photos" >&2; done
