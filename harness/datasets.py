"""Dataset registry, status and resumable, verified downloads for the benchmark data directory.

CLI entry points (wired by the lead as ``tom-harness data list|fetch``) take an argparse
namespace with these attributes:

* ``cli_data_list(args)``: ``data_dir`` (str | None; default: ``TOM_HARNESS_DATA`` or the user
  cache), ``verify`` (bool, optional; hash every present file instead of checking sizes).
* ``cli_data_fetch(args)``: ``names`` (list[str], one or more of :data:`DATASETS` or ``all``),
  ``data_dir`` (str | None), ``base_url`` (str | None; a mirror laid out like the data directory,
  ``<base_url>/<dataset>/<relpath>``), ``quiet`` (bool, optional).

Both return a process exit code. Unknown names raise :class:`UsageError` (exit 2); a file that
fails its pinned sha256 raises :class:`DataMissingError` naming the file and the problem.
"""
from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from .datadir import data_dir as default_data_dir
from .errors import DataMissingError, UsageError, unknown

_ENIGMA = "https://raw.githubusercontent.com/seacowx/EnigmaToM/eb8b8b54ced7c87f71081ce5a02b5e5dafc91d10/data/tom_datasets"
_LOCALIZER = "https://raw.githubusercontent.com/YassineJamaa/ToM-LargeModel/main/dataset/localizer"
_WIKITEXT = "https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/data/wikitext-2"
CHUNK = 1 << 20


def _enigma_name(dataset: str) -> Callable[[str], str | None]:
    """Our ``<ds>_seed12.json`` is upstream ``<ds>_reduced_q_seed[12].json``; ``<ds>_full.json``
    is ``<ds>.json``."""
    def url(rel: str) -> str | None:
        stem = rel.removesuffix(".json")
        if stem.endswith("_full"):
            remote = f"{dataset}.json"
        elif "_seed" in stem:
            remote = f"{dataset}_reduced_q_seed[{stem.rsplit('_seed', 1)[1]}].json"
        else:
            return None
        return f"{_ENIGMA}/{dataset}/{quote(remote)}"
    return url


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    source: str
    upstream: Callable[[str], str | None]  # relpath -> public URL, None if only via a mirror

    @property
    def files(self) -> dict[str, tuple[int, str]]:
        """relpath -> (size in bytes, sha256) of the published files."""
        return _FILES[self.name]


def _no_upstream(rel: str) -> None:
    return None


DATASETS: dict[str, DatasetInfo] = {d.name: d for d in (
    DatasetInfo("tomi", "ToMi (Le et al. 2019, disambiguated): 5 EnigmaToM seed files + full",
                "github.com/seacowx/EnigmaToM data/tom_datasets/tomi", _enigma_name("tomi")),
    DatasetInfo("hitom", "Hi-ToM (Wu et al. 2023), ToM orders 0-4: 5 seed files + full",
                "github.com/seacowx/EnigmaToM data/tom_datasets/hitom", _enigma_name("hitom")),
    DatasetInfo("fantom", "FANToM (Kim et al. 2023) short conversations: 5 seed files",
                "github.com/seacowx/EnigmaToM data/tom_datasets/fantom", _enigma_name("fantom")),
    DatasetInfo("sparse_tom", "Wu et al. 2025 false-belief tasks and Fisher prompts (JSON conversions)",
                "github.com/joel-wu/how-large-language-models-encode-theory-of-mind (converted; mirror only)",
                _no_upstream),
    DatasetInfo("localizer", "ToM / language localizer stimuli (Saxe lab, Fedorenko lab)",
                "github.com/YassineJamaa/ToM-LargeModel dataset/localizer",
                lambda rel: f"{_LOCALIZER}/{quote(rel)}"),
    DatasetInfo("wikitext2", "WikiText-2 word-level test/valid (Merity et al. 2016)",
                "github.com/pytorch/examples word_language_model/data/wikitext-2",
                lambda rel: f"{_WIKITEXT}/{quote(rel)}"),
    DatasetInfo("enigma_cache", "EnigmaToM intermediate results (Llama-3.1-8B) per dataset and seed",
                "github.com/seacowx/EnigmaToM data/masktom, scene_graphs, world_state (reorganised; mirror only)",
                _no_upstream),
)}


def _resolve(names: Iterable[str]) -> list[DatasetInfo]:
    names = list(names)
    if not names:
        raise UsageError(f"name at least one dataset to fetch: {', '.join(DATASETS)} or all")
    if "all" in names:
        return list(DATASETS.values())
    out = []
    for name in names:
        if name not in DATASETS:
            raise unknown("dataset", name, list(DATASETS) + ["all"])
        out.append(DATASETS[name])
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_ok(path: Path, size: int, sha: str, verify: bool) -> bool:
    """A real sha256 check (remembered by size + mtime; ``verify`` re-hashes regardless)."""
    from .datacheck import is_verified

    return path.is_file() and is_verified(path, size, sha, rehash=verify)


def data_status(data_dir: str | os.PathLike | None = None, verify: bool = False) -> list[dict]:
    """Per dataset: where it is, how many files are present (and intact, if ``verify``)."""
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    rows = []
    for info in DATASETS.values():
        missing, bad = [], []
        for rel, (size, sha) in info.files.items():
            path = root / info.name / rel
            if not path.exists():
                missing.append(rel)
            elif not _file_ok(path, size, sha, verify):
                bad.append(rel)
        total = len(info.files)
        state = "ok" if not missing and not bad else ("missing" if len(missing) == total else "incomplete")
        folder = root / info.name
        extra = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
                       and str(p.relative_to(folder)) not in info.files) if folder.is_dir() else []
        rows.append({"name": info.name, "path": str(root / info.name), "files": total,
                     "present": total - len(missing), "corrupt": bad, "missing": missing, "unverified": extra,
                     "status": state if not bad else "corrupt", "description": info.description})
    return rows


def _url(info: DatasetInfo, rel: str, base_url: str | None) -> str:
    if base_url:
        return f"{base_url.rstrip('/')}/{info.name}/{quote(rel)}"
    url = info.upstream(rel)
    if url is None:
        raise UsageError(
            f"dataset {info.name!r} file {rel!r} has no single-file public source ({info.source}); "
            f"fetch it from a mirror with the data-directory layout: "
            f"`tom-harness data fetch {info.name} --base_url URL`"
        )
    return url


def _download(url: str, part: Path, size: int, say: Callable[[str], None]) -> bool:
    """Append the rest of ``url`` to ``part`` (HTTP Range); returns whether it resumed."""
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"User-Agent": "tom-harness"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # our partial file is already complete (or bogus)
            return True
        raise
    with response:
        resumed = have > 0 and response.status == 206
        if have and not resumed:
            say(f"  server ignored the range request; restarting {part.name}")
        with open(part, "ab" if resumed else "wb") as fh:
            got = have if resumed else 0
            for block in iter(lambda: response.read(CHUNK), b""):
                got += len(block)
                if got > size:  # the registry pins the size: never read more than that
                    raise DataMissingError(f"{url} sent more than the {size} bytes the registry pins "
                                           f"for {part.name.removesuffix('.part')}; stopped there")
                fh.write(block)
    return resumed


def fetch_file(info: DatasetInfo, rel: str, root: Path, base_url: str | None = None,
               say: Callable[[str], None] = lambda s: None) -> Path:
    """Make ``root/<dataset>/<rel>`` present and intact: resume a ``.part`` download, verify the
    pinned sha256, then rename atomically. A bad download is deleted and reported."""
    size, sha = info.files[rel]
    dest = root / info.name / rel
    if _file_ok(dest, size, sha, verify=True):
        return dest
    if dest.exists():
        say(f"  {info.name}/{rel}: present but does not match its sha256; downloading again")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    url = _url(info, rel, base_url)
    for attempt in range(2):
        try:
            resumed = _download(url, part, size, say)
        except (urllib.error.URLError, OSError) as exc:
            raise DataMissingError(
                f"could not download {info.name}/{rel} from {url}: {exc}. Partial data is kept in "
                f"{part}; rerun `tom-harness data fetch {info.name}` to resume."
            ) from exc
        got = sha256_of(part)
        if got == sha:
            os.replace(part, dest)
            return dest
        part.unlink()
        if not resumed:
            break
        say(f"  {info.name}/{rel}: resumed file failed its checksum; downloading from scratch")
    raise DataMissingError(
        f"{info.name}/{rel} downloaded from {url} is corrupt: sha256 {got} != pinned {sha}. "
        f"Nothing was written to {dest}; check the source (or --base_url) and rerun "
        f"`tom-harness data fetch {info.name}`."
    )


def fetch(names: Iterable[str], data_dir: str | os.PathLike | None = None,
          base_url: str | None = None, progress: bool = True) -> list[Path]:
    """Download the named datasets (or ``all``) into ``data_dir``; files already intact are
    kept. Returns the paths of all their files."""
    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    say = (lambda s: print(s, file=sys.stderr, flush=True)) if progress else (lambda s: None)
    paths = []
    for info in _resolve(names):
        say(f"{info.name}: {len(info.files)} file(s) -> {root / info.name}")
        for rel in info.files:
            paths.append(fetch_file(info, rel, root, base_url, say))
    return paths


def cli_data_list(args) -> int:
    """``tom-harness data list``: one line per dataset with its state and location."""
    rows = data_status(getattr(args, "data_dir", None), verify=bool(getattr(args, "verify", False)))
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        detail = f"{r['present']}/{r['files']} files"
        if r["corrupt"]:
            detail += f", corrupt: {', '.join(r['corrupt'][:3])}"
        if r.get("unverified"):
            detail += f", {len(r['unverified'])} unverified (not in the registry): {', '.join(r['unverified'][:3])}"
        print(f"{r['name']:<{width}}  {r['status']:<10}  {detail:<24}  {r['path']}")
    missing = [r["name"] for r in rows if r["status"] != "ok"]
    if missing:
        print(f"\nget missing data with: tom-harness data fetch {' '.join(missing)}")
    return 0


def cli_data_fetch(args) -> int:
    """``tom-harness data fetch NAME... [--data_dir D] [--base_url URL]``."""
    paths = fetch(getattr(args, "names", []), getattr(args, "data_dir", None),
                  getattr(args, "base_url", None), progress=not getattr(args, "quiet", False))
    print(f"{len(paths)} file(s) present and verified")
    return 0


# relpath -> (size, sha256), computed from the published files (see docs/benchmarks.md).
_FILES: dict[str, dict[str, tuple[int, str]]] = {
    'tomi': {
        'tomi_full.json': (799252, '2de0ccaea53fa2dc2096318ea75e8d776f0d866a3f40cc300ae715506f2359cc'),
        'tomi_seed12.json': (100048, 'e060950d8069706fee2adfa819f42dbd13b6c9fbb15a316177f7d8a3e244c3a9'),
        'tomi_seed2012.json': (99118, '019782b155f486d8679b2a44178a1220eace99ee050852e06b8e705735e78ae2'),
        'tomi_seed2024.json': (102121, '1887262b82d6401bcea8f70bae65f18aef19e98cba62429c6a3e7a70e07f67b9'),
        'tomi_seed42.json': (100754, '23e95370e46b66e0efff432419135b7f6e7adb8ee54645a70e00e1153ca4e511'),
        'tomi_seed96.json': (103706, 'a7b29bed50a139c66ea82ed0db6ebf8530bbf7042f2c9f12aae406d12e94d8f9'),
    },
    'hitom': {
        'hitom_full.json': (505129, '2506149ad6a834057d9a165a87ac6ed855a96f5201ae91bb9b52a66aa39fae0d'),
        'hitom_seed12.json': (474068, '48943df6982b0c729605997334aea05f26feb5986164a0b1c8bd9452ebc8af1a'),
        'hitom_seed2012.json': (470913, '14e286846e4a2b535972eb57eaf4cf52bc1784ec85eca62a5af89dbcd2efb4a6'),
        'hitom_seed2024.json': (474850, 'dae17bb51e85972ddd9c326be2dfd4ac3a4b24f821e00e152cfc67cb46f0c16a'),
        'hitom_seed42.json': (473429, 'd8b41fac5fb340100bb95f45c64efe674d6f7c2cfa0c6fcf3b64819f5632f579'),
        'hitom_seed96.json': (474735, 'c5b1b0b311e044fdf11a4205f979ca3edfe73e62d0713264bf7ce715fba9cf63'),
    },
    'fantom': {
        'fantom_seed12.json': (771422, 'b4bf148ff225eeea415c5809072a771e45a4eede8f97ae83497255ba36da6223'),
        'fantom_seed2012.json': (711571, '441114a5acd65ba5c620eab1d863b71ca59d384fcc632cc2217fb67f8aca33d1'),
        'fantom_seed2024.json': (776136, '58229d5699b16fa46e52bf0585b3e3f3de0b9891051584973174f146391a1dee'),
        'fantom_seed42.json': (735038, 'd45661eb995f0630ca8b8d7b82562f42e6e501c0e8915cac371ca3cc4da7f752'),
        'fantom_seed96.json': (716537, '6ba4ca840c6a6ffa454505214cd6b637aff31b43e47100801563a452128f3ffb'),
    },
    'sparse_tom': {
        'fisher_prompts.json': (257755, '05b6d7269506914ed69d6d9b12cbcbacf2ba7dcd9c01eef02fd44632963c5c34'),
        'tom_tasks.json': (69429, '8de23777ee3f4997014845395e8caf10f0f50c8c071e037a14939137fd84071b'),
    },
    'localizer': {
        'extended-tomloc/tomloc_negative.txt': (20803, '412b2346ec3054f2401dafb0118b9e6f7d340311e22ed5eb02b38d1ec03906d4'),
        'extended-tomloc/tomloc_positive.txt': (22278, '268935210fdb184780c96acc916a80f055df166bf7d9ae7d9cc061105dcdd16b'),
        'langloc/langloc_fmri_run1_stim_set1.csv': (3416, '6a545fd8033bcddeaf465a6013f65ed511a2aaf537e493a83cb2515989d8316f'),
        'langloc/langloc_fmri_run1_stim_set2.csv': (3469, 'd480f698da43ce58a579230dc93145a287da0c0a21266628dee725dc247766b4'),
        'langloc/langloc_fmri_run1_stim_set3.csv': (3520, 'cfcd11f6e7879b4b5d038ec16946e8a685527d6f7f176aca5d6565a266a8c4d4'),
        'langloc/langloc_fmri_run1_stim_set4.csv': (3492, '04dfcd8ceef370ed71d2a065d05d833d7c6028d4a4f87afaf8455b204eb8bd5a'),
        'langloc/langloc_fmri_run1_stim_set5.csv': (3454, '4ded965faa4af50afb3ea47ce7df270957d2c27035a7d6c4a6c7e71ff48a2641'),
        'langloc/langloc_fmri_run2_stim_set1.csv': (3512, '39c1c98a856b87a0f927d907a736f00d0631ba37a70768ffcad4eea70a810509'),
        'langloc/langloc_fmri_run2_stim_set2.csv': (3553, 'aaad394e427c603d932cef9a072c4046f24b72ad354898cc2d5382267f601a2a'),
        'langloc/langloc_fmri_run2_stim_set3.csv': (3569, 'f62ad8c191478278365d664dc111c7bfd6cfe5590bea6f16bc27f86ec2f54f7b'),
        'langloc/langloc_fmri_run2_stim_set4.csv': (3470, '4f03100af15982eeba419bcd457f0a2d4f10ae08d61c5c49cc4f8ad97ec1719a'),
        'langloc/langloc_fmri_run2_stim_set5.csv': (3494, 'e52ca8c5cd341fcb8fbc7841c584c4d4e162fa4b3405e1178ccdbb4eec07fe4b'),
        'pain-tom/emotion_pain.txt': (2371, 'b9c200111d03aa8e83cddd7657b57802d722e5c288846ecc6eb80ff0fb63e4d8'),
        'pain-tom/physical_pain.txt': (2340, 'a178e9fc75cc0191e83c8d5e084c7c42f39f3a63a3e78a310db58e82ce1e19ff'),
        'tomloc/10b_question.txt': (42, '53fc6fe6e521d4a0dee3e32685819239004175ad78b1e534f3a0e86f8d566554'),
        'tomloc/10b_story.txt': (173, 'dc642261d5a9bbbc21d5fed8ac71be1b0bb390309876510f6cb7b28f21c04e99'),
        'tomloc/10p_question.txt': (54, '3e3ec20a7dc514bc7d7ae8859985d68c90d989d077d75a9b01d78b9f25948415'),
        'tomloc/10p_story.txt': (150, '36ba31d94c1c34d0de2847bf839e07888120e432d043e3097bf92b7fc4202d87'),
        'tomloc/1b_question.txt': (73, '50671485ea35c7b1f322cf734d901a2cf1a9e5ff8afc12120c6b9ad0601ab0e9'),
        'tomloc/1b_story.txt': (208, 'b5f3f0d2878a6a2b54485a50e25dfcd2baf69321d37563d761b94ea7593413a1'),
        'tomloc/1p_question.txt': (87, '0b950f56aa870b8651fad11785b842d818d83f80c5ef6bb7321090af5e287196'),
        'tomloc/1p_story.txt': (229, '118931c59bef80a85f08d91cc4c4f5e68ed38fd5d3d6012464be280e1d8da158'),
        'tomloc/2b_question.txt': (71, '40771dc3395600be9465c85284671beaedc770502d2d9b0421350bd04ddc9ab3'),
        'tomloc/2b_story.txt': (191, '66b041db58461a742905f7b62bfe96fcc79aee5cc0bcca40e51b9d20e97c753c'),
        'tomloc/2p_question.txt': (70, 'bbe5ec80e9ea47e74336c4b3319123f4794e887f1d27056c9b812db339c5e4a5'),
        'tomloc/2p_story.txt': (191, '750b46f0c38e46437e6bc5e8fa56c1df8086a1c1eb52d7acd8806b52eb6722ed'),
        'tomloc/3b_question.txt': (55, '04796ad7a65471c10fdf54bf8c1926f92f11851b4b65e993989867e25134e771'),
        'tomloc/3b_story.txt': (144, 'e10dd3cff266237ca4f644eca7fcd9f8e57ba57e299fde5f0854cc3b14cd2aaa'),
        'tomloc/3p_question.txt': (58, 'a99c2d2abda8874e15145a79886d0d20e83c39cb0dff83ccbbdfb71da47487d9'),
        'tomloc/3p_story.txt': (154, 'f2d6566c4466eb2b320a3398948cd796d4227112e757658aa3e0fbfcb6300c8d'),
        'tomloc/4b_question.txt': (79, 'ed51c0f7b21e7b3fa10b49cbbb0089a330cdf234f63aae5b3bd19094aa977f69'),
        'tomloc/4b_story.txt': (184, '1d6499176612f9e04eecac078636bbe4eba1d1d0f1dd3c16e1ee1c013d99e7f0'),
        'tomloc/4p_question.txt': (58, '9e9288b63b5f216b2bfb2f730eb201279f165fd4a503b070752d999cfa98b572'),
        'tomloc/4p_story.txt': (172, '0e415ecee64289254826c618fe78068c9678168e0fd0bf6cba359fdf8bdcf10e'),
        'tomloc/5b_question.txt': (54, '37aa71c29dc375cccb2ec7176437330b17d8efad33b487b7cc834703a8042f6c'),
        'tomloc/5b_story.txt': (177, '4afb123bd505f2b224bc0e668a2cde8a4001f7aeb2abc1584573064473f79a1a'),
        'tomloc/5p_question.txt': (53, 'f7f25146cb022ccc9c1a8f0f67e5631bbef5ac477a98ac5fb4f5fad564bb3625'),
        'tomloc/5p_story.txt': (159, '28ae0d169d1d7f9f52532db381ee550c51ffa7c7898d23f0ebf752dec9e85e0e'),
        'tomloc/6b_question.txt': (86, 'e752c9f4a3eb40c1a1287f4a27f258adf5be4fc29678a9b68224e6ee944d8317'),
        'tomloc/6b_story.txt': (215, 'd47748dceb0647567c6f09c49f7dba8cfa3145446146d5048b5040228a8b0d7d'),
        'tomloc/6p_question.txt': (81, '700439b25c970041538909ac264aecf737e70f87f094728581e009a31d168207'),
        'tomloc/6p_story.txt': (148, 'a64bfa52819ccb23992e1803c8b01ccc41b6681376173a846e4c65fdc3b13aee'),
        'tomloc/7b_question.txt': (69, '14a0eacc6cfa26dab34ad80bbef3d8d6f85d84c5e2dde8165586c3a4f56f16d7'),
        'tomloc/7b_story.txt': (187, '5318a9af92a65546aabff9ab346bb4ced266e8eb3e13eff7931b3ee2da6da492'),
        'tomloc/7p_question.txt': (47, '0044fc2fe7fdd4c9d233ad10a365ba728c41b7dff6c9d032c2f3aafeedd99738'),
        'tomloc/7p_story.txt': (133, '5ed2fa4dc4a70ccb9ee2c66643ce72282479471ace8249f980306440c5fe49e7'),
        'tomloc/8b_question.txt': (80, 'f689c3b5fff7c9b3fb41c0a7e5ff72a87cec8c6d5d0e5276d9ce3b2e275e2556'),
        'tomloc/8b_story.txt': (155, '2d7d742b83d4e3c5938572c2dad116d4ff6a116b41dbcdd3dd586c7a8376e034'),
        'tomloc/8p_question.txt': (57, 'ca08b9f8647dfc4442f5d0f4ddd1fa8dac90ec5e2a7f38c616a13c62afe20809'),
        'tomloc/8p_story.txt': (174, '2be93623185869bc37a36cd80a1d441c4086416595036fa4f5508983c35ac1ef'),
        'tomloc/9b_question.txt': (73, 'c09a36fe20088a1f9c2a5e0e60b9d761f7ad06e82837e3a745631c3a1ffd4616'),
        'tomloc/9b_story.txt': (165, 'b09a87882679ad8c31935718ac8f42f36e6bf547cc839d42784ff0c8d6b37c6f'),
        'tomloc/9p_question.txt': (73, '8ed45d4697469126118b7edf33b3510cad29356d582c3c344ea03c9955387dc9'),
        'tomloc/9p_story.txt': (153, '5c8de267f0bd1943807d7d00aa7e0a679112518d76b340c44ed028557b7f718c'),
    },
    'wikitext2': {
        'README': (159, 'ed96062abea03d4f4e8ca80f0caad8b07ec59687b8064319c7ee6f6d900b6286'),
        'test.txt': (1256449, 'd790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0'),
        'valid.txt': (1121681, 'f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8'),
    },
    'enigma_cache': {
        'fantom/seed12/character_locations.json': (113789, 'a5ef89cf4d63cd1dfcb66aa74bf6377579cfc86ba82e4852c9f31cc694b40458'),
        'fantom/seed12/characters.json': (4635, '6affd2e8749c6eeac6ab413062d617faa92b0b28236c28bb2641f5ebf5911a67'),
        'fantom/seed12/event_rooms.json': (505829, '35e7a6282682560ac9de9bf3f0b17e5a38c33d4d27cbe88656426594e233f884'),
        'fantom/seed12/rooms.json': (235286, '188ca2b3e8e7d6fa6cb6551d78e3691f3fa7c47b7a69d8b23548b3db521c636a'),
        'fantom/seed12/world_state.json': (1255822, '0f6959fb292547e93a7a37f27dc1d19b49f00143125341ce54b97d4ca0dfffa4'),
        'fantom/seed12/world_state_attr.json': (1710884, 'b7441b12393b74326768a3d9c59b8775a92c3ac8b2bfead08d8438d4ea70030b'),
        'fantom/seed2012/character_locations.json': (105676, 'e433fa0bff0495bd1021f84c2374e4bb898c463595fbfc2fa673415aa16125c4'),
        'fantom/seed2012/characters.json': (4546, 'd37262cb5b954d7678c4e120f3e0599446550729d69f40edd11e31f2015fa92d'),
        'fantom/seed2012/event_rooms.json': (407382, 'fb8b21dcbd8ec346d21c033f37e75e897c9fa3be61f5dd76e897cea6720dce4e'),
        'fantom/seed2012/rooms.json': (206763, '799fb7289a6be93c7e3bd30ff02ed76d607b21d87347608b6ee557ead406dcc8'),
        'fantom/seed2012/world_state.json': (1099674, '59db3fe6ddee703f67d1184a55b16d80d67e13a92998c06b050f3e576ceb596b'),
        'fantom/seed2012/world_state_attr.json': (1579666, '2bdd16552ebdfd00a59493a6049d17bf9aa39c22c1d938327b9bd337c995f519'),
        'fantom/seed2024/character_locations.json': (102661, '56845cdf35d98d11237d86c7f54e3acd7088f1c07c621ed320d8796c2bb9d33a'),
        'fantom/seed2024/characters.json': (4493, 'dabf7fdd63f251c46d2706dc2957a45caeca1fc0ea74c54b12423538a02dd243'),
        'fantom/seed2024/event_rooms.json': (431442, 'e333f5fd76c434618c555d81440fd01ea59284d5fc1531aeea99826f4b02f86d'),
        'fantom/seed2024/rooms.json': (223208, 'cdc3b90bf457ec2426c5c437b014f26b37e83134b30b37c6659ae274315d9788'),
        'fantom/seed2024/world_state.json': (1135748, '4882fe993c7cb09be95fa2d2f13f5b5cd4bbacc5f14b1ebfe7c5c4d1ddf76b83'),
        'fantom/seed2024/world_state_attr.json': (1578992, 'd81d8da5711e4c162bb6b780b2b2e7927b8334575e995900382915da313d9c52'),
        'fantom/seed42/character_locations.json': (105534, '0abcfb62afa123261b227f7abc5e790a1321f1aa4b85339113e32e7d0fd704ba'),
        'fantom/seed42/characters.json': (4562, 'f73b03054b884bf02255c4ca4c187cd04c334c163e2df2df1af16a13d3ed349a'),
        'fantom/seed42/event_rooms.json': (500252, '2d361d933984f523f9a241c46a5ba39050cacbda719c6529f1dbdafd51a4c2ef'),
        'fantom/seed42/rooms.json': (207407, '6ba210d575e97b44e15aae368f0959fa695ce6858672ba1651c840a77af33b50'),
        'fantom/seed42/world_state.json': (1141062, '4f1bfeb1cf17c5dc7d5507953c3d94a718a383ba82ac4ff3985c18712395b2c7'),
        'fantom/seed42/world_state_attr.json': (1615753, '655f6e4ae4d655b65711b7d016cb3a859f8d4aaf6a82902aaac507e6881deb26'),
        'fantom/seed96/character_locations.json': (107902, '5b71c7b8fcc903508aaee798f616aafc015ab36bea4de2e5da4178efd39fee9f'),
        'fantom/seed96/characters.json': (4556, '56b4c2d5d3b22ff23ab75ecdff558f7066fb11f7570446317702987415999021'),
        'fantom/seed96/event_rooms.json': (545454, '8cb668a625b45e3c72e51fe6bd1f7e60bbfe9e04496725d1bf15b6019c49b171'),
        'fantom/seed96/rooms.json': (233829, 'fede65f972dd48c4095b8f02a2b1700194039add06cad7969a1bc6ab7e59f4a0'),
        'fantom/seed96/world_state.json': (1141916, '2c48e68b7359abb71475f70b527bdc2b18fc484cf8ff6a6e0f77c0ebfab89f4a'),
        'fantom/seed96/world_state_attr.json': (1663814, 'e09e9fd651c1229694ce8fc2b5b0e73af323680f6bf36b4f94c2b8ebd18efcff'),
        'hitom/seed12/character_locations.json': (331274, '82841bc8d2c1c4f068bba0d30ed7f4665d64df4fa5695ef9d2bc45e16a5cd917'),
        'hitom/seed12/characters.json': (11305, 'e27b2046f2c1c74793f3e1f94b8153a9420d1046194bb3945fdfb205d762bda4'),
        'hitom/seed12/event_rooms.json': (653962, '494bb9c264882eb1b442d14fb432557c482e1f79fcce34c183edf694d7dd0a85'),
        'hitom/seed12/rooms.json': (184708, '65eb16c83c3e3400463044faa8f30b32283b3e3569d3536bce87ae3380bb9ddb'),
        'hitom/seed12/world_state.json': (932652, 'f8257337683f6a0e8060003a14f1f726d4b6dc8e639bff5236f2fedb97bb18b6'),
        'hitom/seed12/world_state_attr.json': (2745428, 'd2ed85f9e2ee24766edeb33ec1c8f6958b109c8b21d6ed5ec1ff37f69b9d1d0d'),
        'hitom/seed2012/character_locations.json': (331581, '49812a711fe0bd6d905120fa3978219972117a0aba41852d3ff23c19b5760c1f'),
        'hitom/seed2012/characters.json': (11328, '34b8d87da5fdf96eba6a898f3fa5523504e1547e05ebf8a9f92b16918914f2eb'),
        'hitom/seed2012/event_rooms.json': (653467, '91284766d6633b2dd327725f23ca4f6e3da36fc3253b053b8b984b7cf8ceb9cc'),
        'hitom/seed2012/rooms.json': (184944, '14bb99abd022a42a0ea14b300b7826b8363b420efeec546fc355386c788f72d1'),
        'hitom/seed2012/world_state.json': (934241, '50ba7d014428de54c9f15692fda1f379ee102c2c20e6ff682cf84b50581e0b72'),
        'hitom/seed2012/world_state_attr.json': (2759406, 'c5050b6fcfefabc3631469c612a2a7536a21deb8a4cd9bad38d10094ef5d60ea'),
        'hitom/seed2024/character_locations.json': (330688, '4f3a6634d93b88bce1a41ddde40ab3cbb400e48d6f6a396dbbc3edd553f4dad9'),
        'hitom/seed2024/characters.json': (11346, 'a3be97422cdb7245f043a7235c9ebb89774797553facc053d158cb78bd5ba5d7'),
        'hitom/seed2024/event_rooms.json': (654984, '91126bf96faeb795752c5c14f7789ac272ecd24b8d6ba9102dbf56d2d9107eab'),
        'hitom/seed2024/rooms.json': (185069, '48164e2b4bc05268bcd76447b6de9760983dd21b29e3b9f87edf846372172280'),
        'hitom/seed2024/world_state.json': (904423, '9a20e1c8f123e22550b180fa514e3d48e5fc67237916879c6f4680fcba285594'),
        'hitom/seed2024/world_state_attr.json': (2731424, 'f4d5a54b16cc6194c33156b4c77a945f96282a2c273dedbb7260674455490fda'),
        'hitom/seed42/character_locations.json': (326295, '0146b48e6c802c435d1783601767aebb048754176923dde3c2964ec36129607f'),
        'hitom/seed42/characters.json': (11338, '0d4bca702c22d11ff23bafd3e26da1741730060caa2119ad656a52f1dcbb72e4'),
        'hitom/seed42/event_rooms.json': (640347, 'cbf953f756ecb9043dcad9a02a1baad860b995df290cd55ee9492c55140a8600'),
        'hitom/seed42/rooms.json': (181483, '311de763c13ef748f624bc40dda5eb7ee1c50a28267f471a92fac6641bba7f2c'),
        'hitom/seed42/world_state.json': (891664, 'afb1cc013bd62047748ed22a9e7375c1f9420b7eb178a965a5b02ba8b637bf1c'),
        'hitom/seed42/world_state_attr.json': (2675868, 'a45577a871d0e75531aa78bba6337e78e8164acaf0b0f6456d7354225b3f298a'),
        'hitom/seed96/character_locations.json': (327904, '600396b74b6b1c038244290964bc5b9132cda6b3584d0c88e7676846a5d17e8f'),
        'hitom/seed96/characters.json': (11305, 'b93e2d1f2e13cd675d60e0f813b10c09216bd2bf47223385e76827d92307a202'),
        'hitom/seed96/event_rooms.json': (646637, '9a142ac3780d038e4476052bd53cfe8e87c89490d2e0d3e42618746ac32567d3'),
        'hitom/seed96/rooms.json': (182756, 'cfe158bad378339dfa80d953ff9191b2884e7183955158a814054626a9765419'),
        'hitom/seed96/world_state.json': (920879, '33c4cfa0b7e34a67e49959f9c983196b6477bf06bd076872e1131e1fbd6ba299'),
        'hitom/seed96/world_state_attr.json': (2685532, '24d392e557e9d5b8a4c1b85654dcc8064db8992968991fc36502b21bee35b344'),
        'tomi/seed12/character_locations.json': (89041, '3615a12bcefac3d23309d71ee751e4220c5ad69eda14901732929cc115a7f964'),
        'tomi/seed12/characters.json': (7450, '995e70967ee2d17cda01a880af1d980368b5aa7cd8560c9237faa1e08fca4242'),
        'tomi/seed12/event_rooms.json': (243412, '16abd01b1f14946830c3e562f752994c00eba5785d7b9614aca4e7fec16c95af'),
        'tomi/seed12/rooms.json': (86822, '016a247088306c4938638cdd77bb0e1b6a76bbe1b6a303ed7f345ef6c23883e4'),
        'tomi/seed12/world_state.json': (796336, '40a57230a6f153dbc907aca34d7a066a4086f6c208f95bf7342c926fb8d7bd5e'),
        'tomi/seed12/world_state_attr.json': (1109514, '2de25c01e56f69c1b7ef8b03cd4388a0e332aeb040200a65a194b77e2b91b353'),
        'tomi/seed2012/character_locations.json': (87024, 'bcfa7c2b733be7340a66f56031f0e361e5f722f916046cbbdf84d2a08098d00b'),
        'tomi/seed2012/characters.json': (7345, '698944bf00dc287fe34fdb0e86a8e45ec896ab465f1b1d21206541b1539ac1b2'),
        'tomi/seed2012/event_rooms.json': (240421, '0c7e32db79bc5ac78723524fef3abf2f0d557f8b6f0a5abbcdae60bdcf8767ae'),
        'tomi/seed2012/rooms.json': (86463, '5a33c0500f6d03b3c0bb270110db45bc09da451bd7f309327a40064e4fa82523'),
        'tomi/seed2012/world_state.json': (783842, '5a882269d5f736b2d721314b919ce710d89ef64374ce58673687088503965bad'),
        'tomi/seed2012/world_state_attr.json': (1107015, 'b05bd5b8a80ddf30f30a686445b8fe48ab7afcb88f77ff0e7558bce123d4ce37'),
        'tomi/seed2024/character_locations.json': (86149, '5b0f0d4e868b00bbca4197ed80668fc431f4dcb033697b2937f1e182d0830f82'),
        'tomi/seed2024/characters.json': (7326, '76729dda21df6b32784fcbd2fdf1a0785ce29cf106e37bbfd98dea14aa6d76fb'),
        'tomi/seed2024/event_rooms.json': (244215, '7201436678ea47b3365949d643ecbab56c4b8b14eaf01d0f9eada206147eafe5'),
        'tomi/seed2024/rooms.json': (86361, '26d990bbce7b6bc379e4a000ed72b5832c2e1e45bb5c67c86a85fb2212d51b4b'),
        'tomi/seed2024/world_state.json': (815458, 'e136da745f573ab7990bdf01c3f123683b88a56c79402468b4ba6d6a47d9ab61'),
        'tomi/seed2024/world_state_attr.json': (1135468, 'f76d6b4d4ef894866a5ce2e12d9eaf2afc90672c519278cff3f73afcb60d8b2c'),
        'tomi/seed42/character_locations.json': (89299, '53bd71425d3adfea8ba62b630e9e9fd762d84d86e7b38300beb84ea95c974298'),
        'tomi/seed42/characters.json': (7430, 'a6bd23e6908bbb1676420783594c826711eb3eccbd99a6c96eaf989d7ed7268a'),
        'tomi/seed42/event_rooms.json': (251466, 'a3b0c3dd62da3454e6b76c78ee49ce1a757cedf51f62556c6ce1ee321209a984'),
        'tomi/seed42/rooms.json': (87538, 'ed3be4e34a8d1f7b4723c7b22cbad7e6ed14b93ad3cf966b48e77822eabb085a'),
        'tomi/seed42/world_state.json': (808083, '4b716f9020f2b096eb798284a30913ce991bfa7c6eaa4c135f49b6168e8acc5f'),
        'tomi/seed42/world_state_attr.json': (1118113, '8d49b8e1d8a4615768b3bc13ff7ee1de147be0d2d88192181c7284f86a10664a'),
        'tomi/seed96/character_locations.json': (85917, '20a29eb89c2e29b3058718f9b37b14ffada0a0943aeb474cc31cffb14f405ac0'),
        'tomi/seed96/characters.json': (7257, '09a520da309c74ae9494c4604dc909832c1606f8dcdac075a4e1bb7d3b67ac4a'),
        'tomi/seed96/event_rooms.json': (263624, 'a8e7c245ebae550a513c2f23bb568d19c5be37a2978d7da27e3eb97fcffca302'),
        'tomi/seed96/rooms.json': (86846, 'f1f965941e4bf2caf3c7bc4fdd63eab69ec1d43336725df87bc5d75ba18c3a06'),
        'tomi/seed96/world_state.json': (788437, '10192a81737d20e1cf83846c882c8c0dc0c6e3c083b8b24e6a2aa26e6553fac8'),
        'tomi/seed96/world_state_attr.json': (1117585, 'e9d90e3015eee093f51e6eed3f7be136e29f4c334d301af1af32bf862c8d07f7'),
    },
}
